"""DICOM SEG export: read back by highdicom, referencing the de-identified source instances,
with the rasterised polygons as its pixels; valid for dciodvfy; no identifier inside."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
import pytest
from django.contrib.auth.models import User
from pydicom import dcmread
from pydicom.sr.codedict import codes

from annotation.ingest import ingest_paths
from annotation.models import Image, Project, Read, ReadKind, Series
from annotation.models.reads import RevisionSource
from annotation.pixels import pixel_read
from annotation.services.reads import read_get_or_create_human
from annotation.services.revisions import revision_create
from exports.formats import format_get
from inference.models import ModelVersion, PrelabelJob
from measurements.core import shape_to_mask
from tests.exports.dicom_helpers import (
    EXPECTED_WARNINGS,
    bundle_of,
    dciodvfy,
    export_context,
    identifiers_found,
    import_phantom_study,
)
from tests.factories import make_case

pytestmark = pytest.mark.django_db

SCT_T2 = Path(__file__).resolve().parents[2] / "fixtures" / "data" / "sct_testing_data" / "t2"


_RESCALE_WARNING = re.compile(r"Rescale|Modality LUT|Standard Extended SOP Class")


def _export(project: Project, read: Read, folder: Path) -> list[Path]:
    spec = format_get("dicom_seg")
    assert spec is not None
    writer = spec.open(folder, export_context(project))
    writer.write_case(bundle_of(read))
    writer.close()
    return sorted(folder.rglob("*.dcm"))


def _expected(shapes: list[dict[str, Any]], label: str, grid: tuple[int, int]) -> np.ndarray:
    out = np.zeros(grid, dtype=bool)
    for shape in shapes:
        if shape["label"] == label:
            out |= shape_to_mask(shape, image_shape=grid)
    return out


def test_seg_references_the_deidentified_sources_and_holds_the_polygons(
    project: Project, cast: dict[str, User], tmp_path: Path
) -> None:
    study = import_phantom_study(project=project, author=cast["annotator"], folder=tmp_path)

    files = _export(project, study.read, tmp_path / "out")

    segs = [p for p in files if p.name.endswith("-seg.dcm")]
    sources = {str(dcmread(p).SOPInstanceUID): p for p in files if p.parent.name == "source"}
    assert len(segs) == 2  # the sagittal and the axial series each have drawn structures
    # The sources are the drawn slices, under the UIDs the ingest gave them.
    assert set(sources) == {study.sagittal.uid, study.axial.uid}
    for path in segs:
        seg = hd.seg.segread(path)
        assert [d.segment_label for d in seg.SegmentSequence] == ["cord", "canal"]
        types = [
            item.SegmentedPropertyTypeCodeSequence[0].CodeValue for item in seg.SegmentSequence
        ]
        assert types == [codes.SCT.SpinalCord.value, codes.SCT.SpinalCanalStructure.value]
        assert all(item.SegmentAlgorithmType == "MANUAL" for item in seg.SegmentSequence)
        referenced = [sop for _study, _series, sop in seg.get_source_image_uids()]
        (image,) = [i for i in (study.sagittal, study.axial) if i.uid in referenced]
        assert referenced == [image.uid]
        source = dcmread(sources[image.uid])
        assert seg.StudyInstanceUID == source.StudyInstanceUID
        assert seg.FrameOfReferenceUID == source.FrameOfReferenceUID
        series = Series.objects.get(pk=image.series_id)
        assert source.SeriesInstanceUID == series.uid
        assert seg.PatientID == source.PatientID == study.read.case.pseudonym
        pixels = seg.get_pixels_by_source_instance(
            source_sop_instance_uids=[image.uid], segment_numbers=[1, 2]
        )
        grid = (series.rows, series.columns)
        assert pixels.shape == (1, *grid, 2)
        for k, label in enumerate(("cord", "canal")):
            expected = _expected(study.shapes[str(image.pk)], label, grid)
            assert expected.sum() > 50
            np.testing.assert_array_equal(pixels[0, :, :, k].astype(bool), expected)


def test_every_file_passes_dciodvfy_and_holds_no_identifier(
    project: Project, cast: dict[str, User], tmp_path: Path
) -> None:
    study = import_phantom_study(project=project, author=cast["annotator"], folder=tmp_path)

    files = _export(project, study.read, tmp_path / "out")

    assert len(files) == 4
    for path in files:
        errors, warnings = dciodvfy(path)
        assert errors == [], (path.name, errors)
        assert set(warnings) <= set(EXPECTED_WARNINGS), (path.name, warnings)
        assert identifiers_found(path, study.identifiers) == [], path.name


def test_a_nifti_case_gets_source_images_built_from_the_pixel_store(
    project: Project, cast: dict[str, User], tmp_path: Path
) -> None:
    project.prelabel_on_import = False
    project.save(update_fields=["prelabel_on_import"])
    summary = ingest_paths(project=project, paths=[SCT_T2 / "t2.nii.gz"])
    (case,) = summary.cases
    axial = Series.objects.get(case_id=case.id, orientation="axial")
    image = Image.objects.get(series=axial, index=axial.images.count() // 2)
    cx, cy = axial.columns / 2, axial.rows / 2
    cord = [[cx - 4, cy - 3], [cx + 4, cy - 3], [cx + 4, cy + 3], [cx - 4, cy + 3]]
    canal = [[cx - 8, cy - 6], [cx + 8, cy - 6], [cx + 8, cy + 6], [cx - 8, cy + 6]]
    shapes = {
        str(image.pk): [
            {"label": "cord", "points": cord, "shape_type": "polygon"},
            {"label": "canal", "points": canal, "shape_type": "polygon"},
        ]
    }
    read, _ = read_get_or_create_human(case=axial.case, author=cast["annotator"])
    revision_create(read=read, parent_id=None, shapes=shapes, author=cast["annotator"])

    files = _export(project, read, tmp_path / "out")

    (seg_path,) = [p for p in files if p.name.endswith("-seg.dcm")]
    (source_path,) = [p for p in files if p.parent.name == "source"]
    seg = hd.seg.segread(seg_path)
    source = dcmread(source_path)
    assert source.SOPInstanceUID.startswith("2.25.")
    assert source.SeriesInstanceUID == axial.uid
    assert [sop for _, _, sop in seg.get_source_image_uids()] == [source.SOPInstanceUID]
    # The stored 16-bit pixels, unchanged.
    stored = pixel_read(image.pixel_path, dtype=axial.dtype, rows=axial.rows, columns=axial.columns)
    assert axial.dtype in ("uint16", "int16")
    np.testing.assert_array_equal(source.pixel_array, stored)
    assert [float(v) for v in source.ImagePositionPatient] == pytest.approx(image.image_position)
    pixels = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=[source.SOPInstanceUID], segment_numbers=[1, 2]
    )
    grid = (axial.rows, axial.columns)
    for k, label in enumerate(("cord", "canal")):
        expected = _expected(shapes[str(image.pk)], label, grid)
        np.testing.assert_array_equal(pixels[0, :, :, k].astype(bool), expected)
    for path in files:
        errors, warnings = dciodvfy(path)
        assert errors == [], (path.name, errors)
        assert set(warnings) <= set(EXPECTED_WARNINGS), (path.name, warnings)


@pytest.mark.parametrize("dtype", ["float32", "int16", "uint8"])
def test_sources_without_geometry_of_any_stored_dtype_are_valid_images(
    project: Project, cast: dict[str, User], tmp_path: Path, dtype: str
) -> None:
    """Rows without directions, positions or a DICOM header (as labelme imports store them)."""
    case = make_case(project=project, orientations=("sagittal",), dtype=dtype, slices=2)
    image = Image.objects.get(series__case=case, index=1)
    series = image.series
    assert series.row_direction == []
    assert image.image_position == []
    Series.objects.filter(pk=series.pk).update(spacing_known=False)  # as labelme stores it
    square = [[10.0, 10.0], [30.0, 10.0], [30.0, 40.0], [10.0, 40.0]]
    shapes = {str(image.pk): [{"label": "cord", "points": square, "shape_type": "polygon"}]}
    read, _ = read_get_or_create_human(case=case, author=cast["annotator"])
    revision_create(read=read, parent_id=None, shapes=shapes, author=cast["annotator"])

    files = _export(project, read, tmp_path / "out")

    (source_path,) = [p for p in files if p.parent.name == "source"]
    source = dcmread(source_path)
    stored = pixel_read(
        image.pixel_path, dtype=series.dtype, rows=series.rows, columns=series.columns
    )
    # Floats are scaled into 16 bits; the rescale brings them back within one step.
    restored = source.pixel_array * float(source.get("RescaleSlope", 1.0)) + float(
        source.get("RescaleIntercept", 0.0)
    )
    step = float(source.get("RescaleSlope", 1.0))
    np.testing.assert_allclose(restored, stored.astype(np.float64), atol=step)
    assert [float(v) for v in source.ImageOrientationPatient] == [0, 1, 0, 0, 0, -1]
    assert "pixel spacing unknown" in source.DerivationDescription
    # The second slice steps one slice thickness along the normal.
    assert [float(v) for v in source.ImagePositionPatient] == pytest.approx([-3.0, 0.0, 0.0])
    (seg_path,) = [p for p in files if p.name.endswith("-seg.dcm")]
    seg = hd.seg.segread(seg_path)
    pixels = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=[image.uid], segment_numbers=[1]
    )
    expected = _expected(shapes[str(image.pk)], "cord", (series.rows, series.columns))
    np.testing.assert_array_equal(pixels[0, :, :, 0].astype(bool), expected)
    for path in files:
        errors, warnings = dciodvfy(path)
        assert errors == [], (path.name, errors)
        unexpected = set(warnings) - set(EXPECTED_WARNINGS)
        if dtype == "float32" and path == source_path:
            # The MR IOD has no rescale: float pixels need it, and dciodvfy warns.
            unexpected = {w for w in unexpected if not _RESCALE_WARNING.search(w)}
        assert unexpected == set(), (path.name, warnings)


def test_a_model_read_has_automatic_segments_identified_by_its_model_version(
    project: Project, cast: dict[str, User], tmp_path: Path
) -> None:
    study = import_phantom_study(project=project, author=cast["annotator"], folder=tmp_path)
    model = Read.objects.create(case_id=study.case_id, kind=ReadKind.MODEL, name="sagittal #1")
    revision_create(read=model, parent_id=None, shapes=study.shapes, source=RevisionSource.MODEL)
    version = ModelVersion.objects.create(
        task="sagittal", name="phantom-net v1", file="none.onnx", sha256="0" * 64
    )
    job = PrelabelJob.objects.create(case_id=study.case_id, read=model, status="succeeded")
    job.model_versions.add(version)
    model.refresh_from_db()

    files = _export(project, model, tmp_path / "out")

    segs = [p for p in files if p.name.endswith("-seg.dcm")]
    assert len(segs) == 2
    for path in segs:
        seg = dcmread(path)
        for item in seg.SegmentSequence:
            assert item.SegmentAlgorithmType == "AUTOMATIC"
            (algorithm,) = item.SegmentationAlgorithmIdentificationSequence
            assert algorithm.AlgorithmVersion == f"sagittal #{version.pk} phantom-net v1"
        errors, warnings = dciodvfy(path)
        assert errors == [], (path.name, errors)
        assert set(warnings) <= set(EXPECTED_WARNINGS), (path.name, warnings)
