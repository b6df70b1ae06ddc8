"""Shape metrics compatible with the Spinal Cord Toolbox's `sct_process_segmentation`.

Method learnt from SCT's per-slice computation (`process_seg._properties2d` and
`compute_shape`, spinalcordtoolbox@3b3c5b22, 2026-08), re-implemented, none of its code:
- A mask is resampled to an isotropic 0.1 mm grid by bilinear interpolation (pixels as
  squares, zero outside); samples above 0.5 form the measured region, the pixel stairs
  smoothed. Its inertia ellipse (pixel centres, 4·sqrt of the eigenvalues) gives
  `diameter_RL`, eccentricity and orientation; solidity = its sample count / the count of
  samples whose centres lie in the convex hull of its samples' edge midpoints. Measured on
  the pixel squares instead, RL read 0.8 % and solidity 5.8 % off SCT on the t2 cord.
- `diameter_AP`: the interpolated mask's AP extent averaged over a 3 mm band across the
  centroid, along the major axis. Area: pixel count x pixel area (the interpolation keeps it).
- A polygon is exact geometry: its own moments, hull and band (the method's fine limit).
- Angle correction, SCT's names: angle_AP (rotation about AP, tilt towards left) shrinks
  columns by its cosine, angle_RL (about RL, tilt towards anterior) rows. SCT resamples the
  voxel slice towards its array origin (right-posterior corner) first, which blurs the mask
  by position; given the image height we do the same, otherwise the scale is exact. The
  angles come from cubic smoothing splines of the slice centroids, SCT's default budget.
- Unlike SCT, which measures a slice with several regions as one, such a slice gives NaN
  (MEASUREMENTS.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
import shapely
from nibabel import orientations
from scipy import interpolate, ndimage

from measurements.core.geometry import FloatArray, Spacing, check_spacing, hull_area, px_to_mm
from measurements.core.regions import Region

AP_BAND_MM = 3.0  # SCT averages the AP profile over a 3 mm band around the centroid
FINE_MM = 0.1  # SCT's fixed resampling pitch, independent of the image resolution
_THRESHOLD = 0.5  # interpolated values above it are inside
CENTRELINE_SMOOTH = 20.0  # SCT's default `smooth` of its B-spline centreline
_PAD = 2  # zero pixels around the crop: bilinear interpolation reaches one pixel out


@dataclass(frozen=True)
class ShapeMetrics:
    """One axial slice; every value NaN when the slice has no region or more than one."""

    area: float  # mm², angle-corrected when angles are given
    # SCT's own names, kept so columns line up with its CSV files.
    diameter_AP: float  # noqa: N815  mm: mean AP extent over a 3 mm band across the centroid
    diameter_RL: float  # noqa: N815  mm: major axis of the inertia ellipse
    eccentricity: float  # of the inertia ellipse, in [0, 1)
    solidity: float  # area / convex-hull area
    # Degrees from the image x (right-left) axis to the major axis, (-90, 90], y pointing
    # posterior (image rows); SCT's y points anterior, so its value has the opposite sign.
    orientation: float
    angle_AP: float  # noqa: N815  degrees: rotation about the AP axis (tilt towards left)
    angle_RL: float  # noqa: N815  degrees: rotation about the RL axis (tilt towards anterior)


@dataclass(frozen=True)
class _Shape:
    """What the ellipse and band need: area, centroid (x, y) and covariance, in mm."""

    area: float
    centre: FloatArray
    cov: FloatArray
    solidity: float


def _nan_metrics(angle_ap: float = math.nan, angle_rl: float = math.nan) -> ShapeMetrics:
    nan = math.nan
    return ShapeMetrics(nan, nan, nan, nan, nan, nan, angle_ap, angle_rl)


def _polygon_shape(region: Region, spacing: Spacing) -> _Shape:
    """Exact area, centroid, central second moments (per unit area) and solidity."""
    assert region.polygon is not None
    p = px_to_mm(region.polygon, spacing)
    shift = p.mean(axis=0)
    x, y = (p - shift).T
    xn, yn = np.roll(x, -1), np.roll(y, -1)
    cross = x * yn - xn * y
    a = cross.sum() / 2.0
    cx = ((x + xn) * cross).sum() / (6.0 * a)
    cy = ((y + yn) * cross).sum() / (6.0 * a)
    sxx = ((x * x + x * xn + xn * xn) * cross).sum() / (12.0 * a)
    syy = ((y * y + y * yn + yn * yn) * cross).sum() / (12.0 * a)
    sxy = ((x * yn + 2 * x * y + 2 * xn * yn + xn * y) * cross).sum() / (24.0 * a)
    cov = np.array([[sxx - cx * cx, sxy - cx * cy], [sxy - cx * cy, syy - cy * cy]])
    convex = hull_area(region.hull_mm(spacing))
    area = float(abs(a))
    return _Shape(area, np.array([cx, cy]) + shift, cov, area / convex if convex > 0 else math.nan)


def _voxel_image(
    region: Region, spacing: Spacing, cosines: tuple[float, float], image_rows: int | None
) -> tuple[FloatArray, Spacing]:
    """The zero-padded slice SCT upsamples, around the region, and its pixel size (mm).

    Angle correction as SCT does it when the image height is known: the voxel slice is
    resampled, shrunk towards SCT's array origin. Otherwise the scale goes exactly into the
    pixel size (SCT's resampling blurs the mask a little, by position, hence the option).
    """
    assert region.mask is not None
    cos_r, cos_c = cosines
    if image_rows is None or (cos_r == 1.0 and cos_c == 1.0):
        padded = np.pad(region.mask.astype(np.float64), _PAD)
        return padded, (spacing[0] * cos_r, spacing[1] * cos_c)
    return _warped(region, cos_r, cos_c, image_rows), spacing


def _warped(region: Region, cos_r: float, cos_c: float, image_rows: int) -> FloatArray:
    """Each output pixel takes the bilinear interpolation of the mask at its position divided
    by the cosines, from SCT's origin pixel (right-posterior: our column 0, last row), then
    the whole is scaled so its maximum is 1 (SCT normalises the slice)."""
    assert region.mask is not None
    fixed = image_rows - 1.0
    top, left = region.origin
    rows, cols = region.mask.shape
    # Where the mask's first and last pixel centres land, plus room for the interpolation.
    r_lo = math.floor(fixed - (fixed - top) * cos_r) - _PAD
    r_hi = math.ceil(fixed - (fixed - (top + rows - 1)) * cos_r) + _PAD
    c_lo = math.floor(left * cos_c) - _PAD
    c_hi = math.ceil((left + cols - 1) * cos_c) + _PAD
    rr, cc = np.mgrid[r_lo : r_hi + 1, c_lo : c_hi + 1].astype(np.float64)
    src = [fixed - (fixed - rr) / cos_r - top, cc / cos_c - left]
    image = ndimage.map_coordinates(
        region.mask.astype(np.float64), src, order=1, mode="grid-constant"
    )
    out = np.asarray(image, dtype=np.float64)
    peak = float(out.max())
    return out / peak if peak > 0 else out


def _fine_grid(image: FloatArray, spacing: Spacing) -> tuple[FloatArray, FloatArray]:
    """The image's bilinear interpolation sampled at FINE_MM (pixels as squares, zero
    outside) and the samples' real pitch (row_mm, col_mm). Sample (i, j) has its centre at
    ((j + ½)·pitch_col, (i + ½)·pitch_row) mm from the image's corner, as pixel (r, c) has
    its centre at ((c + ½)·col_mm, (r + ½)·row_mm)."""
    zoom = (spacing[0] / FINE_MM, spacing[1] / FINE_MM)
    soft = ndimage.zoom(image, zoom, order=1, mode="grid-constant", grid_mode=True)
    # The output size is rounded: use the pitch it really has.
    pitch = np.array(image.shape) * np.array(spacing) / np.array(soft.shape)
    return np.asarray(soft, dtype=np.float64), pitch


def _mask_shape(image: FloatArray, spacing: Spacing, area: float) -> _Shape | None:
    """Moments and solidity of the fine samples above the threshold (mm, from the image's
    corner); None when no sample is inside."""
    soft, pitch = _fine_grid(image, spacing)
    inside = soft > _THRESHOLD
    rows, cols = np.nonzero(inside)
    if len(rows) == 0:
        return None
    x, y = (cols + 0.5) * pitch[1], (rows + 0.5) * pitch[0]
    mx, my = x.mean(), y.mean()
    dx, dy = x - mx, y - my
    cov = np.array([[np.mean(dx * dx), np.mean(dx * dy)], [np.mean(dx * dy), np.mean(dy * dy)]])
    hull = _hull_sample_count(inside)
    solidity = len(rows) / hull if hull > 0 else math.nan
    return _Shape(area, np.array([mx, my]), cov, solidity)


def _hull_sample_count(inside: npt.NDArray[np.bool_]) -> int:
    """Samples whose centres lie in or on the convex hull of the inside samples' edge
    midpoints (the convention of scikit-image's `convex_hull_image`, which SCT's solidity
    uses). Works in doubled coordinates, where every hull vertex is an integer."""
    rows = np.nonzero(inside.any(axis=1))[0]
    first = np.argmax(inside[rows], axis=1)
    last = inside.shape[1] - 1 - np.argmax(inside[rows, ::-1], axis=1)
    # Each row's end samples carry the hull; their edge midpoints, doubled.
    ends = np.concatenate([np.stack([first, rows], 1), np.stack([last, rows], 1)]) * 2
    offsets = np.array([[1, 0], [-1, 0], [0, 1], [0, -1]])
    points = (ends[:, None, :] + offsets).reshape(-1, 2).astype(np.int32)
    hull = cv2.convexHull(points).reshape(-1, 2).astype(np.float64)
    start, end = hull, np.roll(hull, -1, axis=0)
    # Horizontal edges add nothing: their ends belong to the sloped edges beside them.
    sloped = end[:, 1] != start[:, 1]
    start, end = start[sloped], end[sloped]
    ys = 2.0 * np.arange(rows[0], rows[-1] + 1)[:, None]
    t = (ys - start[:, 1]) / (end[:, 1] - start[:, 1])
    xs = start[:, 0] + t * (end[:, 0] - start[:, 0])
    crosses = (t >= 0.0) & (t <= 1.0)
    left = np.min(np.where(crosses, xs, np.inf), axis=1)
    right = np.max(np.where(crosses, xs, -np.inf), axis=1)
    tol = 1e-9
    counts = np.floor((right + tol) / 2.0) - np.ceil((left - tol) / 2.0) + 1.0
    return int(np.clip(counts, 0.0, None).sum())


def _mask_band_ap(
    image: FloatArray, spacing: Spacing, centre: FloatArray, axis: FloatArray
) -> float:
    """Mean AP extent of the interpolated mask over the band: lines FINE_MM apart across it,
    each the integral of the interpolation along the normal to the major axis."""
    # Far enough from the centre to leave the image (x, y) = (cols, rows) at every corner.
    extent = np.array([image.shape[1] * spacing[1], image.shape[0] * spacing[0]])
    reach = float(np.max(np.hypot(*np.maximum(centre, extent - centre))))
    # Lines FINE_MM apart across the band, sampled FINE_MM apart along the normal.
    n_lines, n_samples = round(AP_BAND_MM / FINE_MM), math.ceil(reach / FINE_MM)
    t = (np.arange(n_lines) - (n_lines - 1) / 2.0) * FINE_MM
    s = np.arange(-n_samples, n_samples + 1) * FINE_MM
    normal = np.array([-axis[1], axis[0]])
    pts = centre + t[:, None, None] * axis + s[None, :, None] * normal
    # mm → pixel index, pixel centres at (index + ½)·spacing.
    rows = pts[..., 1] / spacing[0] - 0.5
    cols = pts[..., 0] / spacing[1] - 0.5
    values = ndimage.map_coordinates(image, [rows, cols], order=1, mode="grid-constant")
    return float(np.asarray(values).sum(axis=1).mean() * FINE_MM)


def _polygon_band_ap(
    region: Region, spacing: Spacing, centre: FloatArray, axis: FloatArray
) -> float:
    """Area of the polygon within AP_BAND_MM / 2 of the line through `centre` normal to
    `axis`, over the band's width."""
    assert region.polygon is not None
    half = AP_BAND_MM / 2.0
    poly = px_to_mm(region.polygon, spacing)
    reach = float(np.max(np.hypot(*(poly - centre).T))) + 1.0
    normal = np.array([-axis[1], axis[0]])
    band = shapely.Polygon(
        [
            centre - axis * half - normal * reach,
            centre + axis * half - normal * reach,
            centre + axis * half + normal * reach,
            centre - axis * half + normal * reach,
        ]
    )
    shape = shapely.make_valid(shapely.Polygon(poly))
    return float(shapely.area(shapely.intersection(shape, band))) / AP_BAND_MM


def _ellipse(cov: FloatArray) -> tuple[float, float, float]:
    """(major axis length, eccentricity, angle of the major axis in radians) of the inertia
    ellipse: 4·sqrt of the eigenvalues, as scikit-image's regionprops and SCT."""
    mean = (cov[0, 0] + cov[1, 1]) / 2.0
    spread = math.hypot((cov[0, 0] - cov[1, 1]) / 2.0, cov[0, 1])
    major, minor = mean + spread, max(mean - spread, 0.0)
    theta = 0.5 * math.atan2(2.0 * cov[0, 1], cov[0, 0] - cov[1, 1])
    # A degenerate outline (a sliver, or a self-crossing polygon whose signed moments cancel)
    # can give a zero or negative major moment: no ellipse, so no RL or eccentricity.
    if not (math.isfinite(major) and major > 0.0):
        return math.nan, math.nan, theta if math.isfinite(theta) else math.nan
    ecc = math.sqrt(max(1.0 - minor / major, 0.0))
    return 4.0 * math.sqrt(major), ecc, theta


def _check_geometry(region: Region, ap: float, rl: float, image_rows: int | None) -> None:
    """ValueError naming the problem: a tilt of 90° or more, or an image too short."""
    for name, angle in (("angle_ap_deg", ap), ("angle_rl_deg", rl)):
        if not (math.isfinite(angle) and abs(angle) < 90.0):
            raise ValueError(f"{name} must be within (-90, 90) degrees, got {angle!r}")
    if image_rows is not None and region.mask is not None:
        needed = region.origin[0] + region.mask.shape[0]
        if image_rows < needed:
            raise ValueError(f"image_rows={image_rows} but the mask reaches row {needed - 1}")


def shape_metrics(
    region: Region,
    *,
    spacing: tuple[float, float],
    angle_ap_deg: float = 0.0,
    angle_rl_deg: float = 0.0,
    image_rows: int | None = None,
) -> ShapeMetrics:
    """SCT shape metrics of one axial region.

    Angles (degrees, SCT's names) apply SCT's angle correction: columns (RL) shrink by
    cos(angle_AP), rows (AP) by cos(angle_RL). For a mask, `image_rows` (the slice's height)
    lets it resample the slice as SCT does; without it the scale is applied exactly.
    """
    spacing = check_spacing(spacing)
    _check_geometry(region, angle_ap_deg, angle_rl_deg, image_rows)
    if region.is_empty() or region.component_count() != 1:
        return _nan_metrics(angle_ap_deg, angle_rl_deg)
    cosines = (math.cos(math.radians(angle_rl_deg)), math.cos(math.radians(angle_ap_deg)))
    eff: Spacing = (spacing[0] * cosines[0], spacing[1] * cosines[1])
    if region.polygon is not None:
        shape = _polygon_shape(region, eff)
        rl, ecc, theta = _ellipse(shape.cov)
        if not (math.isfinite(rl) and np.isfinite(shape.centre).all()):
            # A degenerate outline (repeated or collinear points): nothing to measure.
            return _nan_metrics(angle_ap_deg, angle_rl_deg)
        axis = np.array([math.cos(theta), math.sin(theta)])
        ap = _polygon_band_ap(region, eff, shape.centre, axis)
    else:
        image, grid = _voxel_image(region, spacing, cosines, image_rows)
        found = _mask_shape(image, grid, region.pixel_count * eff[0] * eff[1])
        if found is None:
            return _nan_metrics(angle_ap_deg, angle_rl_deg)
        shape = found
        rl, ecc, theta = _ellipse(shape.cov)
        axis = np.array([math.cos(theta), math.sin(theta)])
        ap = _mask_band_ap(image, grid, shape.centre, axis)
    orientation = math.degrees(theta)
    return ShapeMetrics(
        area=shape.area,
        diameter_AP=ap,
        diameter_RL=rl,
        eccentricity=ecc,
        solidity=shape.solidity,
        orientation=orientation + 180.0 if orientation <= -90.0 else orientation,
        angle_AP=angle_ap_deg,
        angle_RL=angle_rl_deg,
    )


def centreline_angles(
    centroids_mm: FloatArray,
    positions_mm: FloatArray,
    *,
    spacing: tuple[float, float] = (1.0, 1.0),
    smooth: float = CENTRELINE_SMOOTH,
) -> tuple[FloatArray, FloatArray]:
    """(angle_AP, angle_RL) in degrees at each slice, SCT's names and signs, from cubic
    smoothing splines of the centroids along the slice positions.

    `centroids_mm` is (n, 2) of (x = columns towards left, y = rows towards posterior),
    `positions_mm` the slice positions (inferior → superior), `spacing` the (row_mm, col_mm)
    pixel size. SCT's default fit: a B-spline whose squared residuals (in pixels²) may sum
    to density·smooth·slice_mm/3, density being the squared share of slices that have a
    centroid within their range; three or fewer slices get a linear spline.
    """
    n = len(positions_mm)
    if n < 2:
        return np.zeros(n), np.zeros(n)
    order = np.argsort(positions_mm)
    z = np.asarray(positions_mm, dtype=np.float64)[order]
    steps = np.diff(z)
    if np.any(steps <= 0):
        raise ValueError("slice positions must be distinct")
    slice_mm = float(np.median(steps))
    density = (n / (round((z[-1] - z[0]) / slice_mm) + 1)) ** 2
    budget = density * smooth * slice_mm / 3.0
    k = 3 if n > 3 else 1
    slopes = []
    for column, pixel_mm in ((0, spacing[1]), (1, spacing[0])):
        values = np.asarray(centroids_mm, dtype=np.float64)[order, column]
        tck = interpolate.splrep(z, values, k=k, s=budget * pixel_mm**2)
        slopes.append(np.asarray(interpolate.splev(z, tck, der=1), dtype=np.float64))
    angle_ap, angle_rl = np.empty(n), np.empty(n)
    # Rotation about AP tilts the cord towards left (columns); about RL towards anterior,
    # against our rows.
    angle_ap[order] = np.degrees(np.arctan(slopes[0]))
    angle_rl[order] = -np.degrees(np.arctan(slopes[1]))
    return angle_ap, angle_rl


def _slice_centroid(mask: npt.NDArray[np.bool_], spacing: Spacing) -> FloatArray:
    """(x, y) mm of a slice's pixel centres, all its regions together (as SCT's centreline)."""
    rows, cols = np.nonzero(mask)
    return np.array([(cols.mean() + 0.5) * spacing[1], (rows.mean() + 0.5) * spacing[0]])


def shape_metrics_per_slice(
    masks: npt.ArrayLike,
    *,
    spacing: tuple[float, float],
    slice_positions_mm: Sequence[float] | None = None,
    slice_spacing_mm: float | None = None,
    angle_correction: bool = False,
) -> list[ShapeMetrics]:
    """SCT metrics of every axial slice of a (slices, rows, cols) mask stack.

    Rows run antero-posterior and columns right-left (see `axial_stack`). With
    `angle_correction`, slice positions (or a uniform slice spacing) give the centreline
    tangent; slices with no region or several regions give NaN (MEASUREMENTS.md).
    """
    stack = np.asarray(masks, dtype=bool)
    spacing = check_spacing(spacing)
    n = stack.shape[0]
    regions = [Region.from_mask(stack[i]) for i in range(n)]
    angles = np.zeros((n, 2))
    if angle_correction:
        if slice_positions_mm is not None:
            pos = np.asarray(slice_positions_mm, dtype=np.float64)
        elif slice_spacing_mm is not None:
            pos = np.arange(n, dtype=np.float64) * float(slice_spacing_mm)
        else:
            raise ValueError("angle correction needs slice_positions_mm or slice_spacing_mm")
        filled = [i for i, r in enumerate(regions) if not r.is_empty()]
        if filled:
            cents = np.array([_slice_centroid(stack[i], spacing) for i in filled])
            ap, rl = centreline_angles(cents, pos[filled], spacing=spacing)
            angles[filled, 0], angles[filled, 1] = ap, rl
    return [
        shape_metrics(
            r,
            spacing=spacing,
            angle_ap_deg=angles[i, 0],
            angle_rl_deg=angles[i, 1],
            image_rows=stack.shape[1],
        )
        for i, r in enumerate(regions)
    ]


def axial_stack(
    data: npt.ArrayLike, affine: npt.ArrayLike
) -> tuple[np.ndarray, tuple[float, float], float]:
    """Reorient a NIfTI volume to axial slices: (inferior→superior, anterior→posterior rows,
    right→left columns), with the in-plane (row_mm, col_mm) spacing and the slice spacing."""
    arr = np.asarray(data)
    aff = np.asarray(affine, dtype=np.float64)
    source = orientations.io_orientation(aff)  # type: ignore[no-untyped-call]
    target = orientations.axcodes2ornt(("S", "P", "L"))  # type: ignore[no-untyped-call]
    transform = orientations.ornt_transform(source, target)  # type: ignore[no-untyped-call]
    out = np.asarray(orientations.apply_orientation(arr, transform))  # type: ignore[no-untyped-call]
    zooms_in = np.sqrt((aff[:3, :3] ** 2).sum(axis=0))
    zooms = np.zeros(3)
    for axis_in, (axis_out, _) in enumerate(transform):
        zooms[int(axis_out)] = zooms_in[axis_in]
    return out, (float(zooms[1]), float(zooms[2])), float(zooms[0])
