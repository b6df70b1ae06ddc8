"""Dice, IoU and HD95 per structure, keypoint radial errors and success rates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from measurements.core import (
    Region,
    dice,
    hd95,
    iou,
    keypoint_errors,
    region_overlap,
    success_rates,
)


def _square(shape: tuple[int, int], top: int, left: int, size: int) -> np.ndarray:
    m = np.zeros(shape, bool)
    m[top : top + size, left : left + size] = True
    return m


def test_dice_and_iou_of_overlapping_squares():
    a = _square((20, 20), 0, 0, 10)  # 100 px
    b = _square((20, 20), 0, 5, 10)  # 100 px, 50 shared
    assert dice(a, b) == pytest.approx(2 * 50 / 200)
    assert iou(a, b) == pytest.approx(50 / 150)
    assert dice(a, a) == iou(a, a) == 1.0
    assert dice(a, np.zeros_like(a)) == 0.0


def test_two_empty_masks_have_no_overlap_score():
    empty = np.zeros((5, 5), bool)
    assert math.isnan(dice(empty, empty))
    assert math.isnan(iou(empty, empty))
    assert math.isnan(hd95(empty, _square((5, 5), 0, 0, 2), spacing=(1, 1)))


@pytest.mark.parametrize("spacing", [(1.0, 1.0), (0.5, 0.8)])
def test_hd95_of_a_shifted_square_is_the_shift_in_mm(spacing):
    a = _square((40, 40), 10, 10, 12)
    b = _square((40, 40), 10, 13, 12)  # shifted 3 columns
    assert hd95(a, b, spacing=spacing) == pytest.approx(3 * spacing[1])
    assert hd95(a, a, spacing=spacing) == 0.0


def test_region_overlap_rasterises_polygons_at_the_image_grid():
    poly = Region.from_polygon([[2, 2], [12, 2], [12, 12], [2, 12]])
    mask = Region.from_mask(_square((20, 20), 2, 2, 10))
    o = region_overlap(poly, mask, image_shape=(20, 20), spacing=(0.5, 0.5))
    assert o.dice == 1.0
    assert o.iou == 1.0
    assert o.hd95_mm == 0.0


def test_keypoint_radial_errors_in_mm_and_success_rates():
    gold = {"C3_AS": (10.0, 10.0), "C3_AI": (10.0, 20.0), "C4_PS": (0.0, 0.0), "C5_PI": (1, 1)}
    read = {"C3_AS": (14.0, 10.0), "C3_AI": (10.0, 26.0), "C4_PS": (3.0, 4.0), "C7_PI": (0, 0)}
    e = keypoint_errors(gold, read, spacing=(0.5, 0.5))
    assert e.errors_mm == {"C3_AS": 2.0, "C3_AI": 3.0, "C4_PS": 2.5}
    assert e.mean_radial_error_mm == pytest.approx(2.5)
    assert e.success_rates == {2.0: 1 / 3, 2.5: 2 / 3, 3.0: 1.0, 4.0: 1.0}
    assert e.missing == ("C5_PI", "C7_PI")


def test_keypoint_errors_respect_anisotropic_spacing():
    e = keypoint_errors({"p": (0.0, 0.0)}, {"p": (3.0, 4.0)}, spacing=(0.25, 1.0))
    assert e.errors_mm["p"] == pytest.approx(math.hypot(3.0, 1.0))


def test_success_rates_over_many_cases_ignore_missing_errors():
    rates = success_rates([1.0, 2.0, 3.5, float("nan"), 5.0])
    assert rates == {2.0: 0.5, 2.5: 0.5, 3.0: 0.5, 4.0: 0.75}
    assert math.isnan(success_rates([])[2.0])
