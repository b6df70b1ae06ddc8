"""The manual group: MSCC, MCC and CR from caliper lines, in mm with anisotropic spacing."""

from __future__ import annotations

import pytest

from measurements.core import measure_manual


def _line(
    length_px: float, *, vertical: bool = False
) -> tuple[tuple[float, float], tuple[float, float]]:
    return ((0.0, 0.0), (0.0, length_px)) if vertical else ((0.0, 0.0), (length_px, 0.0))


def test_manual_mscc_and_mcc_from_calipers():
    spacing = (0.5, 0.25)  # horizontal lines: 0.25 mm per pixel
    lines = {
        "d_i": _line(20),  # 5 mm
        "d_a": _line(32),  # 8 mm
        "d_b": _line(28),  # 7 mm
        "D_i": _line(40),  # 10 mm
        "D_a": _line(56),
        "D_b": _line(56),  # 14 mm
    }
    r = measure_manual(lines=lines, spacing=spacing)
    assert r.lengths_mm["d_a"] == pytest.approx(8.0)
    assert r.mscc == pytest.approx(1 - 2 * 5 / 15)
    assert r.mcc == pytest.approx(1 - 10 / 14)
    assert r.mscc is not None
    assert r.mscc_percent == pytest.approx(100 * r.mscc)
    assert r.cr is None
    assert r.missing == ()


def test_manual_cr_is_s_over_t():
    r = measure_manual(lines={"T": _line(24), "S": _line(16, vertical=True)}, spacing=(0.5, 0.5))
    assert r.lengths_mm == {"T": 12.0, "S": 8.0}
    assert r.cr == pytest.approx(8 / 12)
    assert r.mscc is None


def test_an_incomplete_caliper_group_names_what_is_missing():
    r = measure_manual(lines={"d_i": _line(10), "d_a": _line(12), "T": _line(5)}, spacing=(1, 1))
    assert r.mscc is None
    assert r.cr is None
    assert r.missing == ("caliper d_b (for MSCC)", "caliper S (for CR)")
