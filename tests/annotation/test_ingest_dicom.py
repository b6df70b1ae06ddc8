"""DICOM ingest: studies, series sorted by position, geometry, compressed syntaxes, re-import."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.uid import JPEG2000Lossless, RLELossless, generate_uid

from annotation.ingest import ingest_paths
from annotation.models import Case, Image, Project, Series
from annotation.pixels import pixel_read

pytestmark = pytest.mark.django_db


def _stored(series: Series) -> list[np.ndarray]:
    return [
        pixel_read(i.pixel_path, dtype=series.dtype, rows=series.rows, columns=series.columns)
        for i in series.images.order_by("index")
    ]


def test_it_imports_a_series_sorted_by_position_not_by_file_name(
    project: Project, tmp_path: Path, write_series
) -> None:
    paths = write_series(tmp_path / "study", slices=5, spacing=2.5)

    summary = ingest_paths(project=project, paths=[tmp_path / "study"])

    assert summary.skipped == []
    assert (summary.series, summary.images) == (1, 5)
    (case_id, pseudonym, created) = summary.cases[0]
    assert created
    assert pseudonym == "CASE-0001"
    series = Series.objects.get(case_id=case_id)
    positions = list(series.images.order_by("index").values_list("position", flat=True))
    assert positions == sorted(positions)
    assert len(set(positions)) == 5
    datasets = [dcmread(p) for p in paths]
    normal = np.cross(series.row_direction, series.column_direction)
    datasets.sort(key=lambda ds: float(np.dot(normal, [float(v) for v in ds.ImagePositionPatient])))
    for stored, ds in zip(_stored(series), datasets, strict=True):
        original = ds.pixel_array
        np.testing.assert_array_equal(stored, original)
    assert series.slice_spacing == pytest.approx(2.5)


def test_it_records_geometry_from_the_header(
    project: Project, tmp_path: Path, write_series
) -> None:
    write_series(tmp_path / "sag", orientation="sagittal", series_number=3)
    write_series(tmp_path / "ax", orientation="axial", series_number=4)
    write_series(tmp_path / "cor", orientation="coronal", series_number=5)

    ingest_paths(project=project, paths=[tmp_path])

    by_number = {s.number: s for s in Series.objects.all()}
    assert by_number[3].orientation == "sagittal"
    assert by_number[4].orientation == "axial"
    assert by_number[5].orientation == "coronal"
    sagittal = by_number[3]
    assert (sagittal.pixel_spacing_row, sagittal.pixel_spacing_col) == (0.5, 0.75)
    assert sagittal.row_direction == [0.0, 1.0, 0.0]
    assert sagittal.column_direction == [0.0, 0.0, -1.0]
    assert (sagittal.rows, sagittal.columns, sagittal.dtype) == (12, 10, "uint16")
    assert sagittal.slice_thickness == 3.0
    assert bytes(sagittal.thumbnail).startswith(b"\x89PNG")
    first = sagittal.images.order_by("index").first()
    assert first is not None
    assert len(first.image_position) == 3


def test_it_groups_several_series_of_one_study_into_one_case(
    project: Project, tmp_path: Path, write_series
) -> None:
    study = generate_uid()
    write_series(tmp_path / "a", study_uid=study, orientation="sagittal", series_number=1)
    write_series(tmp_path / "b", study_uid=study, orientation="axial", series_number=2, slices=3)
    write_series(tmp_path / "other", orientation="axial", series_number=1)

    summary = ingest_paths(project=project, paths=[tmp_path])

    assert len(summary.cases) == 2
    assert summary.series == 3
    counts = sorted(Case.objects.get(pk=c.id).series.count() for c in summary.cases)
    assert counts == [1, 2]
    assert sorted(c.pseudonym for c in summary.cases) == ["CASE-0001", "CASE-0002"]


def test_reimporting_a_study_adds_missing_series_without_duplicates(
    project: Project, tmp_path: Path, write_series, census
) -> None:
    study = generate_uid()
    write_series(tmp_path / "a", study_uid=study, series_number=1)
    first = ingest_paths(project=project, paths=[tmp_path / "a"])
    before = census()

    again = ingest_paths(project=project, paths=[tmp_path / "a"])
    assert census() == before
    assert again.cases[0].id == first.cases[0].id
    assert not again.cases[0].created

    write_series(tmp_path / "b", study_uid=study, orientation="axial", series_number=2)
    more = ingest_paths(project=project, paths=[tmp_path])
    assert more.cases[0].id == first.cases[0].id
    assert (more.series, more.images) == (1, 4)
    assert Case.objects.count() == 1
    assert Series.objects.count() == 2


@pytest.mark.parametrize("syntax", [RLELossless, JPEG2000Lossless], ids=["rle", "jpeg2000"])
def test_it_decodes_compressed_transfer_syntaxes(
    project: Project, tmp_path: Path, write_series, syntax
) -> None:
    originals: list[np.ndarray] = []

    def compress(ds, _index):
        originals.append(ds.pixel_array.copy())
        ds.compress(syntax, encoding_plugin="pylibjpeg" if syntax == JPEG2000Lossless else "")

    # 64 px: openjpeg's default resolution levels need at least that.
    write_series(tmp_path / "c", slices=3, rows=64, columns=64, orientation="axial", edit=compress)

    summary = ingest_paths(project=project, paths=[tmp_path / "c"])

    assert summary.skipped == []
    assert summary.images == 3
    series = Series.objects.get()
    for stored, original in zip(_stored(series), originals, strict=True):
        np.testing.assert_array_equal(stored, original)


def test_it_applies_a_non_identity_rescale_as_float32(
    project: Project, tmp_path: Path, write_series
) -> None:
    def rescale(ds, _index):
        ds.RescaleSlope = "0.5"
        ds.RescaleIntercept = "-10"

    paths = write_series(tmp_path / "r", slices=2, orientation="axial", edit=rescale)

    ingest_paths(project=project, paths=[tmp_path / "r"])

    series = Series.objects.get()
    assert series.dtype == "float32"
    raw = dcmread(paths[0]).pixel_array.astype(np.float32)
    np.testing.assert_allclose(_stored(series)[0], raw * 0.5 - 10)


def test_it_keeps_signed_16_bit_pixels(project: Project, tmp_path: Path, write_series) -> None:
    def signed(ds, index):
        pixels = np.full((ds.Rows, ds.Columns), -1000 + index, dtype=np.int16)
        ds.PixelRepresentation = 1
        ds.PixelData = pixels.tobytes()

    write_series(tmp_path / "s", slices=2, edit=signed)

    ingest_paths(project=project, paths=[tmp_path / "s"])

    series = Series.objects.get()
    assert series.dtype == "int16"
    assert sorted(Image.objects.values_list("min_value", flat=True)) == [-1000.0, -999.0]


def test_it_splits_stacks_of_different_orientation_inside_one_series(
    project: Project, tmp_path: Path, write_series
) -> None:
    series_uid = generate_uid()
    study_uid = generate_uid()
    write_series(tmp_path / "l1", study_uid=study_uid, series_uid=series_uid, slices=2)
    write_series(
        tmp_path / "l2",
        study_uid=study_uid,
        series_uid=series_uid,
        slices=2,
        orientation="axial",
        seed=1,
    )

    summary = ingest_paths(project=project, paths=[tmp_path])

    assert summary.series == 2
    assert sorted(Series.objects.values_list("orientation", flat=True)) == ["axial", "sagittal"]
    assert any("stacks" in note for note in summary.notes)


def test_it_imports_an_enhanced_multiframe_object_frame_by_frame(
    project: Project, tmp_path: Path
) -> None:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import EnhancedMRImageStorage, ExplicitVRLittleEndian

    frames = np.arange(3 * 8 * 6, dtype=np.uint16).reshape(3, 8, 6)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = EnhancedMRImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "MR"
    ds.Rows, ds.Columns, ds.NumberOfFrames = 8, 6, 3
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = [0.4, 0.6]
    measures.SliceThickness = 2.0
    shared.PixelMeasuresSequence = Sequence([measures])
    plane = Dataset()
    plane.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    shared.PlaneOrientationSequence = Sequence([plane])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per_frame = []
    for z in (20.0, 10.0, 15.0):  # frames out of position order
        item = Dataset()
        position = Dataset()
        position.ImagePositionPatient = [0.0, 0.0, z]
        item.PlanePositionSequence = Sequence([position])
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    ds.PixelData = frames.tobytes()
    ds.save_as(tmp_path / "enhanced.dcm", enforce_file_format=True)

    summary = ingest_paths(project=project, paths=[tmp_path / "enhanced.dcm"])

    assert summary.skipped == []
    assert summary.images == 3
    series = Series.objects.get()
    assert series.orientation == "axial"
    assert series.pixel_spacing_row == 0.4
    assert series.slice_spacing == pytest.approx(5.0)
    stored = _stored(series)
    np.testing.assert_array_equal(stored[0], frames[1])  # z = 10
    np.testing.assert_array_equal(stored[2], frames[0])  # z = 20
    assert "52009230" not in series.header  # per-frame groups are not kept in the header


def test_a_large_import_read_by_worker_processes_matches_one_read_here(
    project: Project, tmp_path: Path, write_series, monkeypatch
) -> None:
    from annotation.ingest import dicom_worker

    count = dicom_worker.POOL_MIN_FILES + 4
    write_series(tmp_path / "big", slices=count, rows=8, columns=8)
    read_here = dicom_worker._read_here

    def not_here(*_args, **_kwargs):
        raise AssertionError("a large import must be read by the worker processes")

    monkeypatch.setattr(dicom_worker, "_read_here", not_here)
    pooled = ingest_paths(project=project, paths=[tmp_path / "big"])
    monkeypatch.setattr(dicom_worker, "_read_here", read_here)
    pooled_images = list(Image.objects.order_by("index").values_list("sha256", "position"))
    Case.objects.all().delete()
    monkeypatch.setattr(dicom_worker, "POOL_MIN_FILES", 10**9)
    here = ingest_paths(project=project, paths=[tmp_path / "big"])
    here_images = list(Image.objects.order_by("index").values_list("sha256", "position"))

    assert pooled.images == here.images == count
    assert pooled.skipped == here.skipped == []
    assert pooled_images == here_images


@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_into_one_project_get_distinct_pseudonyms(
    project: Project, tmp_path: Path, write_series
) -> None:
    import threading

    from django.db import connection

    shared = generate_uid()
    folders = []
    for index in range(4):
        # Two imports of one study race to create its case; the others are distinct studies.
        study = shared if index < 2 else generate_uid()
        write_series(tmp_path / f"s{index}", slices=2, study_uid=study, seed=index % 2)
        folders.append(tmp_path / f"s{index}")
    errors: list[BaseException] = []
    start = threading.Barrier(len(folders))

    def run(folder: Path) -> None:
        try:
            start.wait()
            ingest_paths(project=project, paths=[folder])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(f,)) for f in folders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    pseudonyms = sorted(Case.objects.values_list("pseudonym", flat=True))
    assert pseudonyms == ["CASE-0001", "CASE-0002", "CASE-0003"]
