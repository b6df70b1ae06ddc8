"""Axial TA, transverse diameter, AP diameter and compression ratio (seed 003).

TA is the region's area; T the long side of its minimum-area rectangle (OpenCV
`minAreaRect` semantics); S the minimum caliper width of its convex hull; CR = S / T.
All are computed in millimetres, so anisotropic pixels are handled exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from measurements.core.errors import InvalidInput
from measurements.core.geometry import (
    Chord,
    check_spacing,
    min_area_rectangle,
    min_caliper,
    mm_to_px,
)
from measurements.core.regions import Region


@dataclass(frozen=True)
class AxialResult:
    """TA (mm²), T and S (mm), CR, and what to draw (pixel coordinates)."""

    ta: float
    transverse: float
    ap: float
    cr: float
    area_kind: str  # "polygon" (shoelace) or "mask" (pixel count x pixel area)
    rectangle: tuple[tuple[float, float], ...]  # 4 corners of the minimum-area rectangle
    chords: tuple[Chord, ...]  # "T": the rectangle's long mid-line; "S": the caliper chord


def _px(
    point: tuple[float, float] | np.ndarray, spacing: tuple[float, float]
) -> tuple[float, float]:
    p = mm_to_px(np.asarray(point, dtype=np.float64), spacing)[0]
    return float(p[0]), float(p[1])


def measure_axial(*, cord: Region, spacing: tuple[float, float]) -> AxialResult:
    """TA, T, S and CR of one structure (normally the cord) on an axial image."""
    spacing = check_spacing(spacing)
    if cord.is_empty():
        raise InvalidInput("the cord mask is empty")
    hull = cord.hull_mm(spacing)
    if len(hull) < 3:
        raise InvalidInput("the cord has no area (all its points are collinear)")
    rect = min_area_rectangle(hull)
    cal = min_caliper(hull)
    centre = np.array(rect.centre)
    half = np.array(rect.long_direction) * rect.long_side / 2.0
    t_chord = Chord("T", _px(centre - half, spacing), _px(centre + half, spacing), rect.long_side)
    s_chord = Chord("S", _px(cal.start, spacing), _px(cal.end, spacing), cal.width)
    return AxialResult(
        ta=cord.area_mm2(spacing),
        transverse=rect.long_side,
        ap=cal.width,
        cr=cal.width / rect.long_side,
        area_kind=cord.kind,
        rectangle=tuple(_px(c, spacing) for c in rect.corners),
        chords=(t_chord, s_chord),
    )
