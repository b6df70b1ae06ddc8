"""Units of the stored measurement values (measurements.core.case), in UCUM.

Diameters and positions are millimetres, areas square millimetres, MSCC/MCC/CR and the
other ratios are plain numbers ("1"), *_percent values per cent; levels and kinds are text.
"""

from __future__ import annotations

_TEXT = ("_level", "_kind")
_AREAS = ("ta", "sas_area", "sct_area")
_RATIOS = ("mscc", "mcc", "cr", "cord_sas_ratio", "sct_eccentricity", "sct_solidity")


def measure_unit(key: str) -> str:
    """UCUM code of a value's unit: "mm", "mm2", "1", "%", "deg", or "" for text."""
    base = key.removeprefix("manual_").removeprefix("adjacent_").removeprefix("c3c7_")
    if base.endswith(_TEXT):
        return ""
    if base.endswith("_percent"):
        return "%"
    if base in _AREAS:
        return "mm2"
    if base in _RATIOS:
        return "1"
    if base == "sct_orientation":
        return "deg"
    return "mm"
