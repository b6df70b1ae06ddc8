"""Seed 000's healthy ranges: the report's cited constant holds the paper's numbers, the same
as the measurement layer flags single slices with."""

from __future__ import annotations

from measurements.core.morphometry import REFERENCE_RANGES
from reports.references import HEALTHY_ADULTS

# From the abstract of seed 000 (000_3fdba3e153e03e1d.txt), C2/3 to C6/7.
SEED_000 = {
    "sas_area": (102.85, 358.12),
    "cord_area": (53.71, 110.32),
    "cord_sas_ratio": (0.25, 0.68),
    "sas_transverse": (14.77, 26.56),
    "sas_ap": (7.38, 17.58),
    "cord_transverse": (9.11, 16.02),
    "cord_ap": (5.47, 10.12),
}


def test_the_reference_ranges_are_the_papers_and_the_measurement_layers() -> None:
    ours = {name: (r.low, r.high) for name, r in HEALTHY_ADULTS.ranges.items()}
    assert ours == SEED_000
    assert ours == REFERENCE_RANGES


def test_the_constant_cites_its_source() -> None:
    assert HEALTHY_ADULTS.doi == "10.1002/acm2.14282"
    assert "healthy adults" in HEALTHY_ADULTS.citation
