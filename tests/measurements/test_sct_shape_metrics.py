"""SCT-compatible shape metrics: analytic ellipses, angle correction, and the real SCT t2 cord."""

from __future__ import annotations

import math
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from scipy import ndimage
from skimage import measure

from measurements.core import Region, axial_stack, shape_metrics, shape_metrics_per_slice
from measurements.core.geometry import hull_area
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


@pytest.mark.parametrize("seed", range(12))
def test_solidity_counts_the_hull_pixels_as_scikit_image_does(seed):
    """At a 0.1 mm pixel the resampling is the identity, so solidity is the mask's own
    pixel count over its convex-hull pixel count, scikit-image's convention."""
    rng = np.random.default_rng(seed)
    noise = ndimage.gaussian_filter(rng.random((60, 70)), sigma=rng.uniform(1.5, 5.0))
    blob = noise > np.quantile(noise, rng.uniform(0.6, 0.9))
    labels, count = ndimage.label(blob, structure=np.ones((3, 3)))
    largest = labels == 1 + np.argmax(ndimage.sum(blob, labels, range(1, count + 1)))
    expected = measure.regionprops(largest.astype(np.uint8))[0].solidity  # type: ignore[no-untyped-call]
    m = shape_metrics(Region.from_mask(largest), spacing=(0.1, 0.1))
    assert m.solidity == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "mask",
    [np.ones((1, 1)), np.ones((1, 6)), np.ones((5, 1)), np.eye(4), np.tri(5)],
    ids=["pixel", "row", "column", "diagonal", "triangle"],
)
def test_solidity_of_thin_and_tiny_masks_matches_scikit_image(mask):
    padded = np.pad(mask.astype(bool), 2)
    expected = measure.regionprops(padded.astype(np.uint8))[0].solidity  # type: ignore[no-untyped-call]
    m = shape_metrics(Region.from_mask(padded), spacing=(0.1, 0.1))
    assert m.solidity == pytest.approx(expected, rel=1e-12)


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
    # SCT's names: the rotation about the AP axis shrinks right-left (the major axis here).
    assert tilted.diameter_RL == pytest.approx(flat.diameter_RL * math.cos(math.radians(30)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"angle_ap_deg": 90.0}, "angle_ap_deg"),
        ({"angle_rl_deg": math.nan}, "angle_rl_deg"),
        ({"image_rows": 5}, "image_rows"),
    ],
)
def test_impossible_angles_or_image_height_are_refused(kwargs, message):
    mask = np.zeros((12, 12), bool)
    mask[4:10, 3:9] = True
    with pytest.raises(ValueError, match=message):
        shape_metrics(Region.from_mask(mask), spacing=(0.5, 0.5), **kwargs)


def test_resampling_as_sct_moves_a_tilted_mask_only_a_little(t2_stack):
    """SCT's slice warp blurs the mask by position; the exact scale is close, not equal."""
    stack, spacing, _ = t2_stack
    region = Region.from_mask(stack[10])
    warped = shape_metrics(
        region, spacing=spacing, angle_ap_deg=1.3, angle_rl_deg=5.7, image_rows=stack.shape[1]
    )
    exact = shape_metrics(region, spacing=spacing, angle_ap_deg=1.3, angle_rl_deg=5.7)
    assert warped.area == exact.area
    for name in ("diameter_AP", "diameter_RL", "eccentricity", "solidity"):
        assert getattr(warped, name) == pytest.approx(getattr(exact, name), rel=0.02), name
    assert warped.solidity != exact.solidity


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
        # Tilted towards the left: a rotation about the AP axis, in SCT's names.
        assert c.angle_AP == pytest.approx(25.0, abs=0.1)
        assert c.angle_RL == pytest.approx(0.0, abs=0.1)


def test_a_cord_tilting_anterior_and_left_gets_sct_angle_signs():
    h, n_slices = 0.5, 12
    yy, xx = np.mgrid[0:80, 0:80]
    stack = np.zeros((n_slices, 80, 80), bool)
    for k in range(n_slices):
        # Going superior, the centre moves to lower rows (anterior), higher columns (left).
        cy, cx = 25.0 - 0.3 * k, 15.0 + 0.2 * k
        stack[k] = ((yy + 0.5) * h - cy) ** 2 + ((xx + 0.5) * h - cx) ** 2 <= 16.0
    metrics = shape_metrics_per_slice(
        stack, spacing=(h, h), slice_spacing_mm=1.0, angle_correction=True
    )
    # Pixel-level jitter of the centroids, which SCT's spline smooths only so much: ±1°.
    for m in metrics:
        assert m.angle_AP == pytest.approx(math.degrees(math.atan(0.2)), abs=1.0)
        assert m.angle_RL == pytest.approx(math.degrees(math.atan(0.3)), abs=1.0)


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


# What `sct_process_segmentation -i t2/t2_seg-manual.nii.gz -perslice 1` prints for slice 10
# (inferior to superior), default options (angle correction on): SCT's own regression test,
# testing/cli/test_cli_sct_process_segmentation.py at spinalcordtoolbox@3b3c5b22.
SCT_T2_SLICE_10 = {
    "area": 78.58643257836141,
    "diameter_AP": 7.842507960401277,
    "diameter_RL": 12.537767663676533,
    "eccentricity": 0.7678714078545043,
    "solidity": 0.9691052891744933,
}
SCT_T2_SLICE_10_ORIENTATION = -5.435920797812814


@pytest.fixture(scope="module")
def t2_stack() -> tuple[np.ndarray, tuple[float, float], float]:
    if not T2.exists():
        pytest.skip("fixtures/data/sct_testing_data/t2 is missing")
    seg = nib.load(T2 / "t2_seg-manual.nii.gz")
    assert isinstance(seg, nib.Nifti1Image)
    return axial_stack(np.asanyarray(seg.dataobj) > 0.5, seg.affine)


def test_the_t2_cord_slice_10_has_the_values_sct_prints(t2_stack):
    stack, spacing, slice_mm = t2_stack
    m = shape_metrics_per_slice(
        stack, spacing=spacing, slice_spacing_mm=slice_mm, angle_correction=True
    )[10]
    for name, value in SCT_T2_SLICE_10.items():
        assert getattr(m, name) == pytest.approx(value, rel=0.005), name
    # SCT's y axis points anterior, our rows posterior: the same angle, the other sign.
    assert m.orientation == pytest.approx(-SCT_T2_SLICE_10_ORIENTATION, abs=0.05)


def test_the_pixel_squares_would_read_rl_and_solidity_off_sct_on_slice_10(t2_stack):
    """Why the mask is resampled: its own squares have a longer axis and a stair outline."""
    stack, spacing, _ = t2_stack
    region = Region.from_mask(stack[10])
    rows, cols = np.nonzero(stack[10])
    cov = np.cov(np.stack([cols, rows]), bias=True) + np.eye(2) / 12.0  # each square's spread
    squares_rl = 4.0 * math.sqrt(np.linalg.eigvalsh(cov)[-1]) * spacing[1]
    squares_solidity = region.pixel_count / hull_area(region.hull_px)
    m = shape_metrics(region, spacing=spacing)
    assert squares_rl > 1.005 * m.diameter_RL
    assert squares_solidity < 0.95 * m.solidity


def _the_method_independently(mask: np.ndarray, pitch_mm: float) -> dict[str, float]:
    """MEASUREMENTS.md's method written with other means: scipy's bilinear zoom to 0.1 mm,
    threshold 0.5, scikit-image's regionprops; AP from the soft image turned about the
    centroid so the major axis runs along columns, 30 columns (3 mm) of AP profile averaged.
    Isotropic pixels only (the t2 mask's)."""
    soft = ndimage.zoom(
        np.pad(mask.astype(float), 3), pitch_mm / 0.1, order=1, mode="grid-constant", grid_mode=True
    )
    props = measure.regionprops((soft > 0.5).astype(np.uint8))[0]  # type: ignore[no-untyped-call]
    # scikit-image: the major axis runs at `orientation` from the rows axis.
    o = props.orientation
    major = np.array([math.cos(o), math.sin(o)])  # (row, col)
    minor = np.array([-major[1], major[0]])
    centre = np.array(props.centroid)
    out_r, out_c = np.mgrid[0 : soft.shape[0], 0 : soft.shape[1]].astype(float)
    mid = np.array(soft.shape) // 2
    # Output columns follow the major axis, output rows the minor one.
    src = centre[:, None, None] + (out_c - mid[1]) * major[:, None, None]
    src = src + (out_r - mid[0]) * minor[:, None, None]
    turned = ndimage.map_coordinates(soft, [src[0], src[1]], order=1)
    band = turned[:, mid[1] - 15 : mid[1] + 15]
    return {
        "diameter_RL": props.axis_major_length * 0.1,
        "eccentricity": props.eccentricity,
        "solidity": props.solidity,
        "diameter_AP": band.sum(axis=0).mean() * 0.1,
    }


def test_every_t2_slice_follows_the_method(t2_stack):
    stack, spacing, _ = t2_stack
    assert spacing == (1.0, 1.0)
    metrics = shape_metrics_per_slice(stack, spacing=spacing)
    filled = [k for k in range(len(stack)) if stack[k].any()]
    assert len(filled) > 40
    for k in filled:
        ours, theirs = metrics[k], _the_method_independently(stack[k], spacing[0])
        for name in ("diameter_RL", "eccentricity", "solidity"):
            assert getattr(ours, name) == pytest.approx(theirs[name], rel=1e-9), (k, name)
        assert ours.diameter_AP == pytest.approx(theirs["diameter_AP"], rel=0.005), k
        assert 0.0 < ours.solidity <= 1.0


def test_angle_correction_on_every_t2_slice_scales_the_area_by_both_cosines(t2_stack):
    stack, spacing, slice_mm = t2_stack
    metrics = shape_metrics_per_slice(
        stack, spacing=spacing, slice_spacing_mm=slice_mm, angle_correction=True
    )
    for k, m in enumerate(metrics):
        if not stack[k].any():
            continue
        cosines = math.cos(math.radians(m.angle_AP)) * math.cos(math.radians(m.angle_RL))
        assert m.area == pytest.approx(stack[k].sum() * spacing[0] * spacing[1] * cosines)
        assert m.diameter_RL > m.diameter_AP > 0.0


def test_a_left_right_mirror_keeps_every_t2_slice_and_turns_its_orientation(t2_stack):
    stack, spacing, _ = t2_stack
    plain = shape_metrics_per_slice(stack, spacing=spacing)
    mirrored = shape_metrics_per_slice(stack[:, :, ::-1], spacing=spacing)
    for a, b in zip(plain, mirrored, strict=True):
        if math.isnan(a.area):
            assert math.isnan(b.area)
            continue
        for name in ("area", "diameter_AP", "diameter_RL", "eccentricity", "solidity"):
            assert getattr(b, name) == pytest.approx(getattr(a, name), rel=1e-9), name
        assert b.orientation == pytest.approx(-a.orientation, abs=1e-6)
