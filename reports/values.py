"""The four measurements of seed 003's Table 2 and how the report names and rounds them.
(The disc level of an axial slice, for seed 000's per-level table, is measurements.levels':
a labelme image flag, else the gold read's sagittal corners.)

Which stored value a read's MSCC, MCC, TA or CR is, is the dashboards' pairing
(dashboards.services.pairs.measurement_pairs): the report reads those pairs and never
picks values itself.
"""

from __future__ import annotations

# In the order of seed 003's Table 2.
MEASURES: tuple[str, ...] = ("mcc", "mscc", "cr", "ta")
MEASURE_TITLES: dict[str, str] = {"mcc": "MCC", "mscc": "MSCC", "cr": "CR", "ta": "TA (mm²)"}
MEASURE_UNITS: dict[str, str] = {"mcc": "", "mscc": "", "cr": "", "ta": "mm²"}
DECIMALS: dict[str, int] = {"mcc": 3, "mscc": 3, "cr": 3, "ta": 2}
