"""One number per read and measurement: which stored result a report value comes from.

MSCC and MCC come from the read's sagittal result (the first measured sagittal image);
where the outlines give none, from the read's calipers (`manual_mscc`, the seed's "manual
group" measures with calipers). TA and CR come from one axial slice per case, the same for
every group: the gold read's slice tagged with the level of the narrowest cord (d_i_level),
else the gold slice with the smallest cord area (the narrowest level); a read that did not
measure that slice gives its own narrowest. CR falls back to the axial calipers (`manual_cr`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from measurements.core.morphometry import normalise_level
from reports.selectors import GoldCase, GroupRead, MeasuredImage

# In the order of seed 003's Table 2.
MEASURES: tuple[str, ...] = ("mcc", "mscc", "cr", "ta")
MEASURE_TITLES: dict[str, str] = {"mcc": "MCC", "mscc": "MSCC", "cr": "CR", "ta": "TA (mm²)"}
MEASURE_UNITS: dict[str, str] = {"mcc": "", "mscc": "", "cr": "", "ta": "mm²"}
DECIMALS: dict[str, int] = {"mcc": 3, "mscc": 3, "cr": 3, "ta": 2}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _first(results: list[MeasuredImage], view: str, *keys: str) -> float | None:
    for key in keys:
        for result in results:
            if result.view == view and (v := _number(result.values.get(key))) is not None:
                return v
    return None


def image_levels(flags: Mapping[str, Mapping[str, Any]]) -> dict[int, str]:
    """{image id: disc level} from labelme image flags named like a level and set true."""
    levels: dict[int, str] = {}
    for key, entry in flags.items():
        for name, on in entry.items():
            level = normalise_level(str(name)) if on is True else None
            if level is not None and key.isdigit():
                levels[int(key)] = level
    return levels


def _narrowest(results: list[MeasuredImage]) -> int | None:
    axial = [
        (v, r.image_id)
        for r in results
        if r.view == "axial" and (v := _number(r.values.get("ta"))) is not None
    ]
    return min(axial)[1] if axial else None


def axial_slice(case: GoldCase) -> int | None:
    """The case's axial image for TA and CR (see the module docstring)."""
    wanted = next(
        (
            str(r.values.get("d_i_level"))
            for r in case.gold.results
            if r.view == "sagittal" and r.values.get("d_i_level")
        ),
        None,
    )
    if wanted is not None:
        tagged = [i for i, lvl in image_levels(case.gold_image_flags).items() if lvl == wanted]
        measured = {r.image_id for r in case.gold.results if r.view == "axial"}
        hit = sorted(set(tagged) & measured)
        if hit:
            return hit[0]
    return _narrowest(case.gold.results)


def _axial_value(read: GroupRead, image_id: int | None, key: str) -> float | None:
    chosen = [r for r in read.results if r.view == "axial" and r.image_id == image_id]
    if not chosen:  # the read did not measure the gold's slice: its own narrowest
        own = _narrowest(read.results)
        chosen = [r for r in read.results if r.image_id == own]
    value = _number(chosen[0].values.get(key)) if chosen else None
    if value is None and key == "cr":
        value = _first(read.results, "axial", "manual_cr")
    return value


def read_values(read: GroupRead, *, axial_image: int | None) -> dict[str, float | None]:
    """MCC, MSCC, CR and TA of one read (None where it has no value)."""
    return {
        "mcc": _first(read.results, "sagittal", "mcc", "manual_mcc"),
        "mscc": _first(read.results, "sagittal", "mscc", "manual_mscc"),
        "cr": _axial_value(read, axial_image, "cr"),
        "ta": _axial_value(read, axial_image, "ta"),
    }
