"""SCT-compatible shape metrics: analytic ellipses, angle correction, and the real SCT t2 cord."""

from __future__ import annotations

import math
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from measurements.core import Region, axial_stack, shape_metrics, shape_metrics_per_slice
from tests.measurements.analytic_spine import ellipse_px

T2 = Path(__file__).resolve().parents[2] / "fixtures" / "data" / "sct_testing_data" / "t2"


def _band_area(a: float, b: float, half: float) -> float:
    """Area of the ellipse x²/a² + y²/b² ≤ 1 within |x| ≤ half."""

    def prim(x: float) -> float:
        return x / 2 * math.sqrt(1 - x * x / (a * a)) + a / 2 * math.asin(x / a)

    return 2 * b * 2 * prim(half)


@pytest.mark.parametrize("rotation", [0.0, 35.0, -70.0])
def test_an_ellipse_has_its_axes_eccentricity_and_orientation(rotation):
    spacing = (0.4, 0.4)
    a, b = 6.0, 4.0
    poly = ellipse_px(a=a, b=b, rotation_deg=rotation, spacing=spacing, n=2048)
    m = shape_metrics(Region.from_polygon(poly), spacing=spacing)
    assert m.diameter_RL == pytest.approx(2 * a, rel=1e-5)
    assert m.eccentricity == pytest.approx(math.sqrt(1 - (b / a) ** 2), rel=1e-5)
    assert m.orientation == pytest.approx(rotation, abs=1e-6)
    assert m.solidity == pytest.approx(1.0, abs=1e-12)
    assert m.area == pytest.approx(math.pi * a * b, rel=1e-5)
    # Mean AP extent over the 3 mm band around the centroid, across the major axis.
    assert m.diameter_AP == pytest.approx(_band_area(a, b, 1.5) / 3.0, rel=1e-5)


def test_a_mask_and_its_polygon_agree_to_a_pixel():
    spacing = (0.1, 0.1)
    poly = ellipse_px(a=6.0, b=4.0, rotation_deg=20.0, spacing=spacing)
    exact = shape_metrics(Region.from_polygon(poly), spacing=spacing)
    mask = Region.from_mask(Region.from_polygon(poly).rasterize((800, 800)))
    pixels = shape_metrics(mask, spacing=spacing)
    assert pixels.area == pytest.approx(mask.pixel_count * 0.01)
    for name in ("diameter_AP", "diameter_RL"):
        assert getattr(pixels, name) == pytest.approx(getattr(exact, name), abs=0.1)
    assert pixels.orientation == pytest.approx(20.0, abs=0.5)
    assert pixels.solidity <= 1.0


def test_a_non_convex_cord_has_solidity_below_one():
    square = np.array([[0, 0], [10, 0], [10, 10], [5, 4], [0, 10]], float)
    m = shape_metrics(Region.from_polygon(square), spacing=(1.0, 1.0))
    assert m.solidity == pytest.approx(70.0 / 100.0)


def test_a_slice_with_two_regions_gives_no_value():
    mask = np.zeros((20, 20), bool)
    mask[2:6, 2:6] = True
    mask[10:15, 10:15] = True
    m = shape_metrics(Region.from_mask(mask), spacing=(0.5, 0.5))
    assert all(math.isnan(getattr(m, k)) for k in ("area", "diameter_AP", "diameter_RL"))


def test_angle_correction_scales_by_both_cosines():
    spacing = (0.5, 0.5)
    poly = ellipse_px(a=6.0, b=4.0, rotation_deg=0, spacing=spacing)
    flat = shape_metrics(Region.from_polygon(poly), spacing=spacing)
    tilted = shape_metrics(
        Region.from_polygon(poly), spacing=spacing, angle_ap_deg=30.0, angle_rl_deg=20.0
    )
    factor = math.cos(math.radians(30)) * math.cos(math.radians(20))
    assert tilted.area == pytest.approx(flat.area * factor, rel=1e-12)
    assert tilted.diameter_RL == pytest.approx(flat.diameter_RL * math.cos(math.radians(20)))


def test_angle_correction_recovers_the_cross_section_of_a_tilted_cord():
    theta = math.radians(25.0)
    r, h = 4.0, 0.2  # cord radius, in-plane pixel size (mm)
    n_slices, dz = 30, 1.0
    rows, cols = 120, 200
    yy, xx = np.mgrid[0:rows, 0:cols]
    xc, yc = (xx + 0.5) * h, (yy + 0.5) * h
    stack = np.zeros((n_slices, rows, cols), bool)
    for k in range(n_slices):
        cx = 10.0 + k * dz * math.tan(theta)
        # The oblique section of the cylinder: an ellipse stretched by 1/cos along x.
        stack[k] = ((xc - cx) * math.cos(theta)) ** 2 + (yc - 12.0) ** 2 <= r * r
    plain = shape_metrics_per_slice(stack, spacing=(h, h))
    corrected = shape_metrics_per_slice(
        stack, spacing=(h, h), slice_spacing_mm=dz, angle_correction=True
    )
    true_area = math.pi * r * r
    for p, c in zip(plain, corrected, strict=True):
        assert p.area == pytest.approx(true_area / math.cos(theta), rel=0.01)
        assert c.area == pytest.approx(true_area, rel=0.01)
        assert c.angle_RL == pytest.approx(25.0, abs=0.1)
        assert c.angle_AP == pytest.approx(0.0, abs=0.1)


def test_axial_stack_puts_slices_inferior_to_superior_rows_anterior_to_posterior():
    data = np.zeros((4, 5, 6))  # RAS: indices increase towards right, anterior, superior
    data[0, 1, 2] = 1.0  # the leftmost, 2nd most posterior, 3rd most inferior voxel
    affine = np.diag([2.0, 3.0, 4.0, 1.0])  # RAS
    stack, spacing, slice_spacing = axial_stack(data, affine)
    assert stack.shape == (6, 5, 4)
    assert spacing == (3.0, 2.0)
    assert slice_spacing == 4.0
    k, row, col = np.argwhere(stack == 1.0)[0]
    assert k == 2  # inferior → superior keeps the S index
    assert row == 5 - 1 - 1  # rows run anterior → posterior: A index flipped
    assert col == 4 - 1 - 0  # columns run right → left: R index flipped


@pytest.mark.skipif(not T2.exists(), reason="fixtures/data/sct_testing_data/t2 is missing")
def test_the_real_t2_cord_area_per_axial_slice_is_its_voxel_count_times_voxel_area():
    seg = nib.load(T2 / "t2_seg-manual.nii.gz")
    assert isinstance(seg, nib.Nifti1Image)
    assert nib.aff2axcodes(seg.affine) == ("P", "S", "R")  # type: ignore[no-untyped-call]
    stack, spacing, _ = axial_stack(np.asanyarray(seg.dataobj) > 0.5, seg.affine)
    zooms = seg.header.get_zooms()  # type: ignore[no-untyped-call]
    voxel_area = float(zooms[0]) * float(zooms[2])  # P and R axes
    assert spacing[0] * spacing[1] == pytest.approx(voxel_area)
    metrics = shape_metrics_per_slice(stack, spacing=spacing)
    counts = stack.reshape(stack.shape[0], -1).sum(axis=1)
    assert (counts > 0).sum() > 40
    for count, m in zip(counts, metrics, strict=True):
        if count == 0:
            assert math.isnan(m.area)
        else:
            assert m.area == count * voxel_area
            assert 0.0 < m.solidity <= 1.0
            assert m.diameter_RL > m.diameter_AP > 0.0
