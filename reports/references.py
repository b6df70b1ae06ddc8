"""Seed 000's healthy reference ranges, typed and cited, for the per-level table.

The paper's abstract gives, for each value, the range of its per-level means from C2/3 to
C6/7 in 160 healthy adults (not a per-level normal range): the report marks a level whose
mean falls outside that band. The numbers are those of measurements.core.morphometry
(REFERENCE_RANGES, used to flag single slices); a test holds them equal.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    unit: str
    title: str


@dataclass(frozen=True)
class ReferenceRanges:
    citation: str
    doi: str
    population: str
    ranges: dict[str, Range]


HEALTHY_ADULTS = ReferenceRanges(
    citation=(
        "Zhu Y, Li Y, Wang K, Li J, Zhang X, Zhang Y, Li J, Wang X. A quantitative evaluation "
        "of the deep learning model of segmentation and measurement of cervical spine MRI in "
        "healthy adults. J Appl Clin Med Phys. 2024 (online 27 January 2024). PMID 38269650."
    ),
    doi="10.1002/acm2.14282",
    population="160 healthy adults, range of the per-level means from C2/3 to C6/7",
    ranges={
        "cord_area": Range(53.71, 110.32, "mm²", "Cord area"),
        "sas_area": Range(102.85, 358.12, "mm²", "Subarachnoid space area"),
        "cord_sas_ratio": Range(0.25, 0.68, "", "Cord / SAS area"),
        "cord_transverse": Range(9.11, 16.02, "mm", "Cord transverse diameter"),
        "cord_ap": Range(5.47, 10.12, "mm", "Cord AP diameter"),
        "sas_transverse": Range(14.77, 26.56, "mm", "SAS transverse diameter"),
        "sas_ap": Range(7.38, 17.58, "mm", "SAS AP diameter"),
    },
)

PER_LEVEL_METRICS: tuple[str, ...] = tuple(HEALTHY_ADULTS.ranges)
# Seed 000 reports C2/3 to C6/7.
REPORT_LEVELS: tuple[str, ...] = ("C2/3", "C3/4", "C4/5", "C5/6", "C6/7")
