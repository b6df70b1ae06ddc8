"""The manual group's values (seed 003): MSCC, MCC and CR from caliper lines drawn by a reader.

Lines labelled d_i, d_a, d_b (cord) and D_i, D_a, D_b (canal) on the sagittal image, T
(transverse) and S (AP) on the axial image; each caliper's length is measured in mm.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from measurements.core.geometry import check_spacing

Point = tuple[float, float]
Segment = tuple[Point, Point]

_GROUPS: dict[str, tuple[str, str, str]] = {
    "mscc": ("d_i", "d_a", "d_b"),
    "mcc": ("D_i", "D_a", "D_b"),
    "cr": ("S", "T", "T"),
}


@dataclass(frozen=True)
class ManualResult:
    """Caliper lengths and the ratios they allow; a ratio is None when a caliper is missing."""

    lengths_mm: dict[str, float]
    mscc: float | None  # fraction
    mcc: float | None
    cr: float | None  # S / T
    mscc_percent: float | None
    mcc_percent: float | None
    missing: tuple[str, ...]  # "caliper d_b (for MSCC)" when a group is incomplete


def caliper_length(segment: Segment, spacing: tuple[float, float]) -> float:
    """Length in mm of a line given in pixel coordinates."""
    row, col = check_spacing(spacing)
    (x0, y0), (x1, y1) = segment
    return math.hypot((x1 - x0) * col, (y1 - y0) * row)


def _compression(narrow: float, above: float, below: float) -> float | None:
    total = above + below
    return None if total <= 0 else 1.0 - 2.0 * narrow / total


def measure_manual(*, lines: Mapping[str, Segment], spacing: tuple[float, float]) -> ManualResult:
    """Manual MSCC, MCC and CR from whichever calipers are present."""
    lengths = {name: caliper_length(seg, spacing) for name, seg in lines.items()}
    missing: list[str] = []
    ratios: dict[str, float | None] = {}
    for measure, names in _GROUPS.items():
        present = [n for n in dict.fromkeys(names) if n in lengths]
        absent = [n for n in dict.fromkeys(names) if n not in lengths]
        if present and absent:
            missing.extend(f"caliper {n} (for {measure.upper()})" for n in absent)
        if absent:
            ratios[measure] = None
        elif measure == "cr":
            ratios[measure] = lengths["S"] / lengths["T"] if lengths["T"] > 0 else None
        else:
            ratios[measure] = _compression(*(lengths[n] for n in names))
    mscc, mcc = ratios["mscc"], ratios["mcc"]
    return ManualResult(
        lengths_mm=lengths,
        mscc=mscc,
        mcc=mcc,
        cr=ratios["cr"],
        mscc_percent=None if mscc is None else mscc * 100.0,
        mcc_percent=None if mcc is None else mcc * 100.0,
        missing=tuple(missing),
    )
