"""Agreement between two reads of one image: Dice, IoU, HD95, keypoint radial errors.

Overlaps are computed on masks at the image's own pixel grid (polygons rasterised at pixel
centres). HD95 is the larger of the two directed 95th-percentile surface distances
(surface = the region's boundary pixels, distances between pixel centres in mm), as
MONAI's `compute_hausdorff_distance(percentile=95)` and DeepMind's `surface-distance`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from measurements.core.geometry import BoolArray, check_spacing
from measurements.core.regions import Region

SUCCESS_THRESHOLDS_MM: tuple[float, ...] = (2.0, 2.5, 3.0, 4.0)


def dice(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """2|A and B| / (|A| + |B|); NaN when both are empty (nothing to agree on)."""
    x, y = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    total = int(x.sum()) + int(y.sum())
    return math.nan if total == 0 else 2.0 * int(np.sum(x & y)) / total


def iou(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """|A and B| / |A union B|; NaN when both are empty."""
    x, y = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    union = int(np.sum(x | y))
    return math.nan if union == 0 else int(np.sum(x & y)) / union


def _surface(mask: BoolArray) -> BoolArray:
    # Pixels at the image border count as surface: pad with background before eroding.
    eroded = ndimage.binary_erosion(np.pad(mask, 1), structure=np.ones((3, 3), bool))[1:-1, 1:-1]
    surface: BoolArray = mask & ~eroded
    return surface


def hd95(a: npt.ArrayLike, b: npt.ArrayLike, *, spacing: tuple[float, float]) -> float:
    """95th-percentile Hausdorff distance in mm between two masks; NaN if either is empty."""
    spacing = check_spacing(spacing)
    x, y = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    if not x.any() or not y.any():
        return math.nan
    sx, sy = _surface(x), _surface(y)
    to_y = ndimage.distance_transform_edt(~sy, sampling=spacing)[sx]
    to_x = ndimage.distance_transform_edt(~sx, sampling=spacing)[sy]
    return float(max(np.percentile(to_y, 95), np.percentile(to_x, 95)))


@dataclass(frozen=True)
class Overlap:
    """Dice, IoU (fractions) and HD95 (mm) of one structure between two reads."""

    dice: float
    iou: float
    hd95_mm: float


def region_overlap(
    a: Region, b: Region, *, image_shape: tuple[int, int], spacing: tuple[float, float]
) -> Overlap:
    """Overlap of two regions rasterised at the image grid."""
    ma, mb = a.rasterize(image_shape), b.rasterize(image_shape)
    return Overlap(dice(ma, mb), iou(ma, mb), hd95(ma, mb, spacing=spacing))


@dataclass(frozen=True)
class KeypointErrors:
    """Radial errors (mm) of the keypoints both reads have, and what only one has."""

    errors_mm: dict[str, float]
    mean_radial_error_mm: float  # NaN when no keypoint is shared
    success_rates: dict[float, float]  # threshold mm → fraction with error ≤ threshold
    missing: tuple[str, ...]  # names present in only one read


def success_rates(
    errors_mm: Sequence[float], thresholds: Sequence[float] = SUCCESS_THRESHOLDS_MM
) -> dict[float, float]:
    """Fraction of errors ≤ each threshold (NaN errors excluded; NaN when none remain)."""
    e = np.asarray(errors_mm, dtype=np.float64)
    e = e[np.isfinite(e)]
    return {float(t): (float(np.mean(e <= t)) if e.size else math.nan) for t in thresholds}


def keypoint_errors(
    a: Mapping[str, tuple[float, float]],
    b: Mapping[str, tuple[float, float]],
    *,
    spacing: tuple[float, float],
    thresholds: Sequence[float] = SUCCESS_THRESHOLDS_MM,
) -> KeypointErrors:
    """Per-landmark distance in mm between two reads' keypoints (pixel coordinates)."""
    row, col = check_spacing(spacing)
    shared = [k for k in a if k in b]
    errors = {k: math.hypot((a[k][0] - b[k][0]) * col, (a[k][1] - b[k][1]) * row) for k in shared}
    values = list(errors.values())
    return KeypointErrors(
        errors_mm=errors,
        mean_radial_error_mm=float(np.mean(values)) if values else math.nan,
        success_rates=success_rates(values, thresholds),
        missing=tuple(sorted(set(a) ^ set(b))),
    )
