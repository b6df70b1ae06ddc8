"""NIfTI ingest on the real SCT samples: orientation, geometry, masks as an imported read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

from annotation.ingest import ingest_paths
from annotation.ingest.masks import mask_from_shape
from annotation.models import Image, Project, Read, Series
from annotation.pixels import pixel_read

pytestmark = pytest.mark.django_db

SCT = Path(__file__).resolve().parents[2] / "fixtures" / "data" / "sct_testing_data"
LPS = np.array([-1.0, -1.0, 1.0])


def _pixels(series: Series, image: Image) -> np.ndarray:
    return pixel_read(
        image.pixel_path, dtype=series.dtype, rows=series.rows, columns=series.columns
    )


def _world(series: Series, image: Image, row: float, column: float) -> np.ndarray:
    """LPS position of a pixel centre, from the stored geometry alone (as DICOM defines it)."""
    return (
        np.asarray(image.image_position)
        + row * series.pixel_spacing_row * np.asarray(series.column_direction)
        + column * series.pixel_spacing_col * np.asarray(series.row_direction)
    )


def test_sagittal_and_axial_series_follow_the_display_conventions(project: Project) -> None:
    summary = ingest_paths(project=project, paths=[SCT / "t2" / "t2.nii.gz"])

    assert summary.series == 2
    sagittal = Series.objects.get(orientation="sagittal")
    axial = Series.objects.get(orientation="axial")
    # LPS: +y is posterior, -z is inferior, +x is the patient's left.
    assert sagittal.column_direction == pytest.approx([0, 0, -1], abs=1e-6)  # rows: S -> I
    assert sagittal.row_direction == pytest.approx([0, 1, 0], abs=1e-6)  # columns: A -> P
    assert axial.column_direction == pytest.approx([0, 1, 0], abs=1e-6)  # rows: A -> P
    assert axial.row_direction == pytest.approx([1, 0, 0], abs=1e-6)  # columns: R -> L
    image = nib.load(SCT / "t2" / "t2.nii.gz")
    canonical = nib.as_closest_canonical(image)  # type: ignore[no-untyped-call]
    assert sagittal.images.count() == canonical.shape[0]
    assert (sagittal.rows, sagittal.columns) == (canonical.shape[2], canonical.shape[1])
    assert axial.images.count() == canonical.shape[2]
    assert (axial.rows, axial.columns) == (canonical.shape[1], canonical.shape[0])


@pytest.mark.parametrize("name", ["t2/t2.nii.gz", "t2s/t2s.nii.gz", "t1/t1w.nii.gz"])
def test_stored_pixels_sit_where_the_stored_geometry_says(project: Project, name: str) -> None:
    """Map stored pixels back through the original affine: values must match the volume."""
    ingest_paths(project=project, paths=[SCT / name])
    volume: Any = nib.load(SCT / name)
    data = np.asanyarray(volume.dataobj)
    to_voxel = np.linalg.inv(volume.affine)
    rng = np.random.default_rng(0)
    for series in Series.objects.all():
        images = list(series.images.order_by("index"))
        for image in (images[0], images[len(images) // 2], images[-1]):
            pixels = _pixels(series, image)
            for _ in range(20):
                row, column = int(rng.integers(series.rows)), int(rng.integers(series.columns))
                ras = _world(series, image, row, column) * LPS
                voxel = np.rint(to_voxel @ np.append(ras, 1.0))[:3].astype(int)
                assert pixels[row, column] == pytest.approx(float(data[tuple(voxel)]))
        positions = [i.position for i in images]
        assert positions == sorted(positions)
        assert series.slice_spacing == pytest.approx(np.median(np.diff(positions)))


def test_masks_become_one_imported_read_with_the_same_voxels(project: Project) -> None:
    summary = ingest_paths(project=project, paths=[SCT / "t2"])

    assert summary.skipped == []
    auxiliary = [n for n in summary.notes if "auxiliary" in n]
    assert len(auxiliary) == 4  # labels, centreline, labelled centre, labelled segmentation
    read = Read.objects.get(kind="imported")
    assert read.name == "NIfTI masks: seg-manual"
    assert read.head is not None
    mask_image: Any = nib.load(SCT / "t2" / "t2_seg-manual.nii.gz")
    mask = np.asanyarray(mask_image.dataobj) > 0
    for series in Series.objects.all():
        total = 0
        for image in series.images.all():
            for shape in read.head.shapes.get(str(image.id), []):
                assert shape["label"] == "cord"
                assert shape["shape_type"] == "mask"
                total += int(mask_from_shape(shape, rows=series.rows, columns=series.columns).sum())
        assert total == int(mask.sum()), series.orientation


def test_the_cord_runs_head_to_foot_on_sagittal_images_and_is_round_on_axial_ones(
    project: Project,
) -> None:
    """An anatomical fact that a transposed or mislabelled view would break."""
    ingest_paths(project=project, paths=[SCT / "t2"])
    read = Read.objects.get(kind="imported")
    assert read.head is not None
    extents: dict[str, list[tuple[float, float]]] = {"sagittal": [], "axial": []}
    for series in Series.objects.all():
        for image in series.images.all():
            for shape in read.head.shapes.get(str(image.id), []):
                (x0, y0), (x1, y1) = shape["points"]
                height = (y1 - y0 + 1) * series.pixel_spacing_row
                width = (x1 - x0 + 1) * series.pixel_spacing_col
                extents[series.orientation].append((height, width))
    tallest = max(extents["sagittal"])
    assert tallest[0] > 3 * tallest[1]  # cranio-caudal length >> antero-posterior width
    for height, width in extents["axial"]:
        assert height < 15
        assert width < 20


def test_grey_matter_masks_get_their_own_label(project: Project) -> None:
    ingest_paths(project=project, paths=[SCT / "t2s"])

    read = Read.objects.get(kind="imported")
    assert read.head is not None
    labels = {s["label"] for shapes in read.head.shapes.values() for s in shapes}
    assert labels == {"cord", "grey_matter"}
    assert read.name == "NIfTI masks: gmseg_manual, seg"


def test_reimporting_a_volume_adds_nothing(project: Project, census) -> None:
    ingest_paths(project=project, paths=[SCT / "t2"])
    before = census()

    again = ingest_paths(project=project, paths=[SCT / "t2"])

    assert census() == before
    assert [c.created for c in again.cases] == [False]
    assert Read.objects.get(kind="imported").revision_count == 1


def test_a_mask_without_its_volume_is_refused(project: Project, tmp_path: Path, census) -> None:
    lonely = tmp_path / "t2_seg-manual.nii.gz"
    lonely.write_bytes((SCT / "t2" / "t2_seg-manual.nii.gz").read_bytes())

    summary = ingest_paths(project=project, paths=[lonely])

    assert summary.skipped[0].file == str(lonely)
    assert "without its volume" in summary.skipped[0].reason
    assert census()["cases"] == 0


def test_a_4d_volume_is_refused_clearly(project: Project, tmp_path: Path, census) -> None:
    path = tmp_path / "dwi.nii.gz"
    volume = nib.Nifti1Image(np.zeros((4, 4, 3, 5), dtype=np.int16), np.eye(4))  # type: ignore[no-untyped-call]
    nib.save(volume, path)

    summary = ingest_paths(project=project, paths=[path])

    assert "4-D NIfTI (4x4x3x5) is not supported" in summary.skipped[0].reason
    assert census()["pixel_files"] == 0


def test_masks_and_auxiliary_files_are_recognised_by_name() -> None:
    from annotation.ingest.files import InputFile
    from annotation.ingest.nifti import group_nifti

    names = [
        "t2.nii.gz",
        "t2_seg-manual.nii.gz",
        "t2_seg_canal.nii.gz",
        "t2s.nii",
        "t2s_gmseg_manual.nii",
        "labels.nii.gz",
        "t2_centerline-manual.nii.gz",
        "t2_seg-manual_labeled.nii.gz",
        "other_seg.nii.gz",
    ]
    files = [InputFile(path=Path("/in") / n, file=n, kind="nifti") for n in names]

    groups = group_nifti(files)

    assert sorted(v.file for v in groups.volumes) == ["t2.nii.gz", "t2s.nii"]
    masks = {
        volume.name: sorted((m.file, label) for m, label, _ in found)
        for volume, found in groups.masks.items()
    }
    assert masks == {
        "t2.nii.gz": [("t2_seg-manual.nii.gz", "cord"), ("t2_seg_canal.nii.gz", "canal")],
        "t2s.nii": [("t2s_gmseg_manual.nii", "grey_matter")],
    }
    assert len(groups.notes) == 3
    assert [s.file for s in groups.skipped] == ["other_seg.nii.gz"]
