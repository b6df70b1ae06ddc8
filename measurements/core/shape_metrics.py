"""Shape metrics compatible with the Spinal Cord Toolbox's `sct_process_segmentation`.

Re-implemented from SCT's published description (not its code, which is LGPL), on the exact
region geometry instead of an upsampled mask: moments of the polygon, or of the union of
the mask's pixel squares. Angle correction scales the slice by cos(angle_RL)·cos(angle_AP)
of the centreline tangent, i.e. x (right-left, columns) by cos(angle_RL) and y
(antero-posterior, rows) by cos(angle_AP).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from nibabel import orientations

from measurements.core.geometry import FloatArray, Spacing, check_spacing, hull_area, px_to_mm
from measurements.core.regions import Region

AP_BAND_MM = 3.0  # SCT averages the AP profile over a 3 mm band around the centroid


@dataclass(frozen=True)
class ShapeMetrics:
    """One axial slice; every value NaN when the slice has no region or more than one."""

    area: float  # mm², angle-corrected when angles are given
    # SCT's own names, kept so columns line up with its CSV files.
    diameter_AP: float  # noqa: N815  mm: mean AP extent over a 3 mm band across the centroid
    diameter_RL: float  # noqa: N815  mm: major axis of the inertia ellipse
    eccentricity: float  # of the inertia ellipse, in [0, 1)
    solidity: float  # area / convex-hull area
    orientation: float  # degrees from the image x (right-left) axis to the major axis, (-90, 90]
    angle_AP: float  # noqa: N815  degrees of centreline tilt used for the correction
    angle_RL: float  # noqa: N815


def _nan_metrics(angle_ap: float = math.nan, angle_rl: float = math.nan) -> ShapeMetrics:
    nan = math.nan
    return ShapeMetrics(nan, nan, nan, nan, nan, nan, angle_ap, angle_rl)


def _moments(region: Region, spacing: Spacing) -> tuple[float, FloatArray, FloatArray]:
    """Area, centroid and central second-moment matrix (per unit area) in mm."""
    if region.polygon is not None:
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
        return float(abs(a)), np.array([cx, cy]) + shift, cov
    assert region.mask is not None
    rows, cols = np.nonzero(region.mask)
    h, w = spacing
    xc = (cols + region.origin[1] + 0.5) * w
    yc = (rows + region.origin[0] + 0.5) * h
    mx, my = xc.mean(), yc.mean()
    dx, dy = xc - mx, yc - my
    # Each pixel square adds its own spread (w²/12, h²/12) to the centres' moments.
    cov = np.array(
        [
            [np.mean(dx * dx) + w * w / 12.0, np.mean(dx * dy)],
            [np.mean(dx * dy), np.mean(dy * dy) + h * h / 12.0],
        ]
    )
    return float(len(rows) * h * w), np.array([mx, my]), cov


def _band_area(region: Region, spacing: Spacing, centre: FloatArray, axis: FloatArray) -> float:
    """Area of the region within AP_BAND_MM / 2 of the line through `centre` normal to `axis`."""
    half = AP_BAND_MM / 2.0
    normal = np.array([-axis[1], axis[0]])

    def band(reach: float) -> shapely.Polygon:
        return shapely.Polygon(
            [
                centre - axis * half - normal * reach,
                centre + axis * half - normal * reach,
                centre + axis * half + normal * reach,
                centre - axis * half + normal * reach,
            ]
        )

    if region.polygon is not None:
        poly = px_to_mm(region.polygon, spacing)
        reach = float(np.max(np.hypot(*(poly - centre).T))) + 1.0
        shape = shapely.make_valid(shapely.Polygon(poly))
        return float(shapely.area(shapely.intersection(shape, band(reach))))
    assert region.mask is not None
    rows, cols = np.nonzero(region.mask)
    h, w = spacing
    x0 = (cols + region.origin[1]) * w - centre[0]
    y0 = (rows + region.origin[0]) * h - centre[1]
    # Pixel squares are disjoint, so the band's share is the sum of their clipped areas.
    return float(
        np.sum(
            _below(x0, y0, w=w, h=h, e=axis, tau=half) - _below(x0, y0, w=w, h=h, e=axis, tau=-half)
        )
    )


def _below(
    x0: FloatArray, y0: FloatArray, *, w: float, h: float, e: FloatArray, tau: float
) -> FloatArray:
    """Area of each box [x0, x0+w] x [y0, y0+h] where e·p <= tau (exact, vectorised)."""
    ex, ey = float(e[0]), float(e[1])
    if abs(ex) < 1e-9 or abs(ey) < 1e-9:
        # The line is parallel to a box side: clip one interval.
        if abs(ey) < 1e-9:
            lo, length, other, coef = x0, w, h, ex
        else:
            lo, length, other, coef = y0, h, w, ey
        limit = tau / coef
        inside = (
            np.clip(limit - lo, 0.0, length)
            if coef > 0
            else np.clip(lo + length - limit, 0.0, length)
        )
        out: FloatArray = inside * other
        return out
    # Inclusion-exclusion over the corners of the integral of (tau - e·p)_+ (a box spline).
    base = e[0] * x0 + e[1] * y0

    def ramp(offset: float) -> FloatArray:
        r: FloatArray = np.maximum(tau - base - offset, 0.0)
        return r * r

    area = (ramp(0.0) - ramp(ex * w) - ramp(ey * h) + ramp(ex * w + ey * h)) / (2.0 * ex * ey)
    clipped: FloatArray = np.clip(area, 0.0, w * h)
    return clipped


def shape_metrics(
    region: Region,
    *,
    spacing: tuple[float, float],
    angle_ap_deg: float = 0.0,
    angle_rl_deg: float = 0.0,
) -> ShapeMetrics:
    """SCT shape metrics of one axial region; angles (degrees) apply SCT's angle correction."""
    spacing = check_spacing(spacing)
    if region.is_empty() or region.component_count() != 1:
        return _nan_metrics(angle_ap_deg, angle_rl_deg)
    # Angle correction shrinks each axis by the cosine of the centreline's tilt along it.
    eff: Spacing = (
        spacing[0] * math.cos(math.radians(angle_ap_deg)),
        spacing[1] * math.cos(math.radians(angle_rl_deg)),
    )
    area, centre, cov = _moments(region, eff)
    mean = (cov[0, 0] + cov[1, 1]) / 2.0
    spread = math.hypot((cov[0, 0] - cov[1, 1]) / 2.0, cov[0, 1])
    major, minor = mean + spread, max(mean - spread, 0.0)
    theta = 0.5 * math.atan2(2.0 * cov[0, 1], cov[0, 0] - cov[1, 1])
    orientation = math.degrees(theta)
    if orientation <= -90.0:
        orientation += 180.0
    axis = np.array([math.cos(theta), math.sin(theta)])
    convex = hull_area(region.hull_mm(eff))
    return ShapeMetrics(
        area=area,
        diameter_AP=_band_area(region, eff, centre, axis) / AP_BAND_MM,
        diameter_RL=4.0 * math.sqrt(major),
        eccentricity=math.sqrt(1.0 - minor / major) if major > 0 else math.nan,
        solidity=area / convex if convex > 0 else math.nan,
        orientation=orientation,
        angle_AP=angle_ap_deg,
        angle_RL=angle_rl_deg,
    )


def centreline_angles(
    centroids_mm: FloatArray, positions_mm: FloatArray, *, degree: int = 3
) -> tuple[FloatArray, FloatArray]:
    """(angle_AP, angle_RL) in degrees at each slice from a polynomial fit of the centroids.

    `centroids_mm` is (n, 2) of (x = RL, y = AP) and `positions_mm` the slice positions
    along the superior-inferior axis. The fit (ours: least squares, degree ≤ 3) smooths the
    voxel-level jitter of centroids before differentiating.
    """
    n = len(positions_mm)
    if n < 2:
        return np.zeros(n), np.zeros(n)
    deg = min(degree, n - 1)
    z = positions_mm - positions_mm.mean()
    dx = np.polyval(np.polyder(np.polyfit(z, centroids_mm[:, 0], deg)), z)
    dy = np.polyval(np.polyder(np.polyfit(z, centroids_mm[:, 1], deg)), z)
    return np.degrees(np.arctan(dy)), np.degrees(np.arctan(dx))


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
    tangent; slices with no region or several regions give NaN, as in SCT.
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
        usable = [i for i, r in enumerate(regions) if not r.is_empty() and r.component_count() == 1]
        if usable:
            cents = np.array([_moments(regions[i], spacing)[1] for i in usable])
            ap, rl = centreline_angles(cents, pos[usable])
            angles[usable, 0], angles[usable, 1] = ap, rl
    return [
        shape_metrics(r, spacing=spacing, angle_ap_deg=angles[i, 0], angle_rl_deg=angles[i, 1])
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
