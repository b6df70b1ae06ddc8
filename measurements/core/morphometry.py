"""Per-level axial morphometry of cord and subarachnoid space (seed 000_3fdba3e153e03e1d).

For each disc level C2/3 … C7/T1, on the axial slice tagged with it: areas of the cord and of
the subarachnoid space (the dural sac, cord included), their ratio, and the transverse and
AP diameters of each with the axial definitions (minimum-area rectangle, minimum caliper).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from measurements.core.axial import measure_axial
from measurements.core.geometry import check_spacing
from measurements.core.regions import Region

DISC_LEVELS: tuple[str, ...] = ("C2/3", "C3/4", "C4/5", "C5/6", "C6/7", "C7/T1")

# Healthy adults, seed 000: (low, high) of each value.
REFERENCE_RANGES: dict[str, tuple[float, float]] = {
    "cord_area": (53.71, 110.32),
    "sas_area": (102.85, 358.12),
    "cord_sas_ratio": (0.25, 0.68),
    "sas_transverse": (14.77, 26.56),
    "sas_ap": (7.38, 17.58),
    "cord_transverse": (9.11, 16.02),
    "cord_ap": (5.47, 10.12),
}

_LEVEL = re.compile(r"^\s*C([2-7])\s*[/\-_ ]\s*(C?([3-7])|T1)\s*$", re.IGNORECASE)


def normalise_level(name: str) -> str | None:
    """'C4/C5', 'C4-5', 'c4/5' → 'C4/5'; 'C7/T1' stays; None for anything else."""
    m = _LEVEL.match(name)
    if not m:
        return None
    upper = int(m.group(1))
    lower = m.group(2).upper()
    if lower == "T1":
        return "C7/T1" if upper == 7 else None
    return f"C{upper}/{int(m.group(3))}" if int(m.group(3)) == upper + 1 else None


@dataclass(frozen=True)
class LevelMorphometry:
    """One level's values (mm², mm); None where its structure was not drawn."""

    level: str | None
    cord_area: float | None
    sas_area: float | None
    cord_sas_ratio: float | None
    cord_transverse: float | None
    cord_ap: float | None
    sas_transverse: float | None
    sas_ap: float | None
    out_of_range: tuple[str, ...]  # names of values outside REFERENCE_RANGES


def measure_level(
    *,
    cord: Region | None,
    canal: Region | None,
    spacing: tuple[float, float],
    level: str | None = None,
) -> LevelMorphometry:
    """Morphometry of one axial slice; `canal` is the dural sac (subarachnoid space)."""
    spacing = check_spacing(spacing)
    c = measure_axial(cord=cord, spacing=spacing) if cord is not None else None
    s = measure_axial(cord=canal, spacing=spacing) if canal is not None else None
    values: dict[str, float | None] = {
        "cord_area": c.ta if c else None,
        "sas_area": s.ta if s else None,
        "cord_sas_ratio": c.ta / s.ta if c and s and s.ta > 0 else None,
        "cord_transverse": c.transverse if c else None,
        "cord_ap": c.ap if c else None,
        "sas_transverse": s.transverse if s else None,
        "sas_ap": s.ap if s else None,
    }
    outside = tuple(
        name
        for name, v in values.items()
        if v is not None and not REFERENCE_RANGES[name][0] <= v <= REFERENCE_RANGES[name][1]
    )
    return LevelMorphometry(
        level=normalise_level(level) if level else None, out_of_range=outside, **values
    )


def morphometry_table(
    *,
    levels: Mapping[str, tuple[Region | None, Region | None]],
    spacing: tuple[float, float],
) -> list[LevelMorphometry]:
    """One row per disc level given as {level name: (cord, canal)}, in cranio-caudal order
    (C2/3 first); names are normalised, and unknown names raise ValueError."""
    rows: dict[str, LevelMorphometry] = {}
    for name, (cord, canal) in levels.items():
        level = normalise_level(name)
        if level is None:
            raise ValueError(f"{name!r} is not a cervical disc level (C2/3 ... C7/T1)")
        rows[level] = measure_level(cord=cord, canal=canal, spacing=spacing, level=level)
    return [rows[level] for level in DISC_LEVELS if level in rows]
