"""The stored geometry that disc levels map through (measurements.levels): NIfTI series give
the same patient space in both of their views, DICOM series too, and a series without
orientation (a labelme folder) gives no levels and says why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotation.ingest import ingest_paths
from annotation.models import Case, Image, Project, Series
from annotation.pixels import pixel_read
from fixtures.dicom_io import write_dicom
from fixtures.phantom import make_phantom
from fixtures.phantom_types import PhantomSpec
from measurements.core.levels import AxialPlane
from measurements.core.patient import SliceGeometry
from measurements.levels import CaseImages, auto_levels, case_images

pytestmark = pytest.mark.django_db

T2 = Path(__file__).resolve().parents[2] / "fixtures" / "data" / "sct_testing_data" / "t2"


def _pixels(series: Series, image: Image) -> np.ndarray:
    return pixel_read(
        image.pixel_path, dtype=series.dtype, rows=series.rows, columns=series.columns
    )


def test_a_nifti_volumes_two_views_share_one_patient_space(project: Project) -> None:
    """A point on a sagittal image, mapped to LPS through its stored geometry, lies on one
    axial image's plane, and the pixel there holds the same voxel value."""
    summary = ingest_paths(project=project, paths=[T2 / "t2.nii.gz"])
    case_id = summary.cases[0].id
    sagittal = Series.objects.get(case_id=case_id, orientation="sagittal")
    axial = Series.objects.get(case_id=case_id, orientation="axial")
    images = case_images(
        case_ids=[case_id], sagittal_ids=sagittal.images.values_list("id", flat=True)
    )[case_id]
    assert not images.axial_problems
    assert len(images.axial) == axial.images.count()
    planes = {p.image_id: p for p in images.axial}
    sag_image = sagittal.images.order_by("index")[sagittal.images.count() // 2]
    sag_geometry = images.sagittal[sag_image.pk]
    assert isinstance(sag_geometry, SliceGeometry)
    sag_pixels = _pixels(sagittal, sag_image)
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(40):
        row, col = int(rng.integers(sagittal.rows)), int(rng.integers(sagittal.columns))
        point = sag_geometry.to_patient(col + 0.5, row + 0.5)  # labelme pixel centre
        on = [p for p in planes.values() if abs(p.geometry.signed_distance(point)) < 1e-3]
        if not on:
            continue
        (plane,) = on
        g = plane.geometry
        d = point - np.asarray(g.image_position)
        ax_col = float(np.dot(d, g.row_direction)) / g.spacing[1]
        ax_row = float(np.dot(d, g.column_direction)) / g.spacing[0]
        assert ax_col == pytest.approx(round(ax_col), abs=1e-3)
        assert ax_row == pytest.approx(round(ax_row), abs=1e-3)
        ax_image = Image.objects.get(pk=plane.image_id)
        value = _pixels(axial, ax_image)[round(ax_row), round(ax_col)]
        assert value == sag_pixels[row, col]
        checked += 1
    assert checked >= 30


def test_dicom_series_store_the_phantoms_geometry(project: Project, tmp_path: Path) -> None:
    spec = PhantomSpec(seed=43, n_sagittal_slices=3, axial_shape=(96, 96), tilt_deg=5.0)
    phantom = make_phantom(spec)
    write_dicom(phantom, tmp_path / "p", patient_name="Doe^Jane", patient_id="P43")
    case_id = ingest_paths(project=project, paths=[tmp_path / "p"]).cases[0].id
    images = case_images(case_ids=[case_id], sagittal_ids=[])[case_id]
    by_position = sorted(images.axial, key=lambda p: p.geometry.image_position[2])
    expected = sorted(phantom.axial.slice_positions, key=lambda p: p[2])
    for plane, position in zip(by_position, expected, strict=True):
        assert plane.geometry.image_position == pytest.approx(position)
        assert plane.geometry.row_direction == pytest.approx(phantom.axial.row_direction)
        assert plane.geometry.column_direction == pytest.approx(phantom.axial.column_direction)
        assert plane.geometry.spacing == pytest.approx(phantom.axial.pixel_spacing)


def test_a_series_without_orientation_gives_no_levels_and_says_why(
    project: Project, case: Case
) -> None:
    sagittal = Series.objects.filter(case=case, orientation="sagittal").first()
    assert sagittal is not None
    image = sagittal.images.first()
    assert image is not None
    Series.objects.filter(case=case).update(row_direction=[], column_direction=[])
    shapes = {
        str(image.pk): [
            {"label": "C3_AS", "shape_type": "point", "points": [[10, 10]]},
            {"label": "C3_AI", "shape_type": "point", "points": [[10, 20]]},
        ]
    }
    images = case_images(case_ids=[case.pk], sagittal_ids=[image.pk])[case.pk]
    found = auto_levels(shapes, images)
    assert found.assignments == ()
    assert any("no orientation" in n for n in found.notes)


def test_too_few_corners_or_no_slice_in_tolerance_say_so() -> None:
    """Without the database: a sagittal image in the plane x = 0 (rows down, columns back)
    and one axial image far below the corners."""
    sagittal = SliceGeometry(
        image_position=(0.0, -50.0, 50.0),
        row_direction=(0.0, 1.0, 0.0),
        column_direction=(0.0, 0.0, -1.0),
        spacing=(1.0, 1.0),
    )
    axial = SliceGeometry(
        image_position=(-50.0, -50.0, -400.0),
        row_direction=(1.0, 0.0, 0.0),
        column_direction=(0.0, 1.0, 0.0),
        spacing=(1.0, 1.0),
        shape=(100, 100),
    )
    images = CaseImages(axial=[AxialPlane(2, axial, 3.0)], sagittal={1: sagittal})

    def point(label: str, x: float, y: float) -> dict[str, object]:
        return {"label": label, "shape_type": "point", "points": [[x, y]]}

    few = {"1": [point("C3_AS", 40, 30), point("C4_PS", 55, 50)]}
    found = auto_levels(few, images)
    assert found.discs == ()
    assert found.notes[-1] == "no disc placeable from the 2 of 20 vertebral corners placed"
    # C3 and C4 complete: the C3/4 disc and C2/3 lie far above the axial image.
    both = {
        "1": [
            point("C3_AS", 40, 30),
            point("C3_PS", 55, 30),
            point("C3_AI", 40, 44),
            point("C3_PI", 55, 44),
            point("C4_AS", 40, 49),
            point("C4_PS", 55, 49),
            point("C4_AI", 40, 63),
            point("C4_PI", 55, 63),
        ]
    }
    found = auto_levels(both, images)
    assert [d.level for d in found.discs] == ["C2/3", "C3/4"]
    assert found.assignments == ()
    assert found.notes[-1] == "no axial image within tolerance of a disc the corners place"


# Rows of the bright disc nuclei on the full field-of-view T2's mid-sagittal slice 25, counted
# C2/C3 … C7/T1 by the project's references (fixtures/references/README.md, "Levels").
NUCLEUS_ROWS = {"C2/3": 12, "C3/4": 31, "C4/5": 49, "C5/6": 66, "C6/7": 83, "C7/T1": 100}


def test_real_reference_corners_name_the_axial_slices_through_the_disc_nuclei(
    project: Project,
) -> None:
    """The project-annotated 20 corners of the real full field-of-view T2 (NIfTI, 1 mm):
    every disc level's axial image lies within 2 mm of the disc nucleus the references
    counted, C2/3 and C7/T1 (placed from the mean disc height) included."""
    from fixtures.real import real_volume
    from fixtures.real_references import REFERENCES_DIR, load_reference

    reference = load_reference(REFERENCES_DIR / "sct_example_t2_sagittal_025.json")
    assert len(reference.keypoints) == 20
    case_id = ingest_paths(project=project, paths=[real_volume("sct_example_t2").path]).cases[0].id
    sagittal = Image.objects.get(
        series__case_id=case_id, series__orientation="sagittal", index=reference.index
    )
    shapes = {
        str(sagittal.pk): [
            {"label": k, "shape_type": "point", "points": [list(xy)]}
            for k, xy in reference.keypoints.items()
        ]
    }
    images = case_images(case_ids=[case_id], sagittal_ids=[sagittal.pk])[case_id]
    found = auto_levels(shapes, images)
    assert found.notes == ()
    geometry = images.sagittal[sagittal.pk]
    assert isinstance(geometry, SliceGeometry)
    planes = {p.image_id: p.geometry for p in images.axial}
    placed = {a.level: a for a in found.assignments}
    assert set(placed) == set(NUCLEUS_ROWS)
    for level, row in NUCLEUS_ROWS.items():
        nucleus = geometry.to_patient(90.0, row + 0.5)
        off = abs(planes[placed[level].image_id].signed_distance(nucleus))
        assert off <= 2.0, (level, off)
