"""The four measurements of seed 003's Table 2 and how the report names and rounds them;
the disc level of an axial slice from its labelme image flags (seed 000's per-level table;
measurements.core.levels, which also places levels from sagittal corners).

Which stored value a read's MSCC, MCC, TA or CR is, is the dashboards' pairing
(dashboards.services.pairs.measurement_pairs): the report reads those pairs and never
picks values itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from measurements.core.levels import flag_levels

# In the order of seed 003's Table 2.
MEASURES: tuple[str, ...] = ("mcc", "mscc", "cr", "ta")
MEASURE_TITLES: dict[str, str] = {"mcc": "MCC", "mscc": "MSCC", "cr": "CR", "ta": "TA (mm²)"}
MEASURE_UNITS: dict[str, str] = {"mcc": "", "mscc": "", "cr": "", "ta": "mm²"}
DECIMALS: dict[str, int] = {"mcc": 3, "mscc": 3, "cr": 3, "ta": 2}


def image_levels(flags: Mapping[str, Mapping[str, Any]]) -> dict[int, str]:
    """{image id: disc level} from labelme image flags named like a level and set true."""
    return flag_levels(flags)
