"""DicomStream (the PACS import's ingest): instances read from their bytes give what the
file import gives; a dropped batch leaves no row and no pixel file; refusals are named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotation.ingest import ingest_paths
from annotation.ingest.stream import DicomStream
from annotation.models import Case, Image, Project, Series
from annotation.services.projects import project_create

pytestmark = pytest.mark.django_db


def _series_facts(series: Series) -> dict[str, object]:
    return {
        "shas": list(series.images.order_by("index").values_list("sha256", flat=True)),
        "positions": list(series.images.order_by("index").values_list("position", flat=True)),
        "window": (series.window_center, series.window_width),
        "geometry": (series.rows, series.columns, series.orientation, series.slice_spacing),
        "dtype": series.dtype,
        "description": series.description,
        "header_tags": sorted(series.header),
    }


def test_streamed_instances_are_stored_as_the_file_import_stores_the_same_files(
    project: Project, tmp_path: Path, write_series
) -> None:
    paths = write_series(tmp_path / "study", slices=6)
    with DicomStream(project=project) as stream:
        for index, path in enumerate(paths):
            stream.add(path.read_bytes(), file=f"series-1/{index:05d}.dcm")
        stream.keep()
        summary = stream.store()
    other = project_create(slug="files")
    by_file = ingest_paths(project=other, paths=[tmp_path / "study"])

    assert (summary.series, summary.images, summary.skipped) == (1, 6, [])
    streamed = Series.objects.get(case__project=project)
    filed = Series.objects.get(case__project=other)
    assert _series_facts(streamed) == _series_facts(filed)
    assert by_file.images == 6
    text = json.dumps(streamed.header)
    for identifier in ("Smithers", "MRN-99173", "Springfield"):
        assert identifier not in text


def test_a_dropped_batch_leaves_no_row_and_no_pixel_file(
    project: Project, tmp_path: Path, write_series, census
) -> None:
    study = "1.2.826.0.1.3680043.8.498.1"
    kept = write_series(tmp_path / "kept", slices=3, study_uid=study, series_number=1)
    lost = write_series(tmp_path / "lost", slices=4, study_uid=study, series_number=2, seed=7)
    with DicomStream(project=project) as stream:
        for path in kept:
            stream.add(path.read_bytes(), file=path.name)
        stream.keep()
        for path in lost[:3]:  # the transfer broke before the fourth arrived
            stream.add(path.read_bytes(), file=path.name)
        stream.drop()
        summary = stream.store()

    assert (summary.series, summary.images) == (1, 3)
    counts = census()
    assert (counts["cases"], counts["series"], counts["images"]) == (1, 1, 3)
    assert counts["pixel_files"] == 3
    assert Case.objects.get(project=project).series.get().number == 1
    assert Image.objects.count() == 3


def test_an_instance_that_is_not_dicom_is_refused_by_name_and_the_rest_imported(
    project: Project, tmp_path: Path, write_series
) -> None:
    paths = write_series(tmp_path / "study", slices=2)
    with DicomStream(project=project) as stream:
        stream.add(paths[0].read_bytes(), file="study 1 of 1/series-1/00001.dcm")
        stream.add(b"not a DICOM file at all", file="study 1 of 1/series-1/00002.dcm")
        stream.add(b"", file="study 1 of 1/series-1/00003.dcm")
        stream.keep()
        summary = stream.store()

    assert summary.images == 1
    reasons = {s.file: s.reason for s in summary.skipped}
    assert set(reasons) == {"study 1 of 1/series-1/00002.dcm", "study 1 of 1/series-1/00003.dcm"}
    assert reasons["study 1 of 1/series-1/00003.dcm"] == "empty file"
    assert all(reason for reason in reasons.values())
