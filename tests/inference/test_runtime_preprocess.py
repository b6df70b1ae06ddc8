"""Seed 003 preprocessing, its exact inverse mapping, and input validation."""

from __future__ import annotations

import dataclasses
from typing import Any

import cv2
import numpy as np
import pytest

from inference.runtime.contract import ModelContract, contract_from_dict
from inference.runtime.preprocess import (
    InputError,
    Transform,
    foreground_box,
    percentile_window,
    preprocess,
    render_8bit,
    roi_box,
    validate_image,
    validate_spacing,
)


def contract(
    roi: str = "foreground_box", size: tuple[int, int] = (64, 64), **pre: Any
) -> ModelContract:
    return contract_from_dict(
        {
            "task": "axial" if roi == "centre_crop" else "sagittal",
            "input": {"name": "image", "size": list(size)},
            "preprocessing": {"roi": roi, **pre},
            "outputs": {"segmentation": {"name": "seg", "labels": ["cord"]}},
        }
    )


def tissue_image(
    shape: tuple[int, int] = (200, 300),
    box: tuple[int, int, int, int] = (40, 30, 250, 170),
    seed: int = 0,
) -> np.ndarray:
    """uint16 slice: noisy dark background, a bright tissue rectangle (x0, y0, x1, y1)."""
    rng = np.random.default_rng(seed)
    image = rng.normal(20, 5, size=shape).clip(0)
    x0, y0, x1, y1 = box
    image[y0:y1, x0:x1] = rng.normal(1500, 200, size=(y1 - y0, x1 - x0))
    return image.astype(np.uint16)


def test_the_foreground_box_is_the_tissue_rectangle():
    image = tissue_image()
    box = foreground_box(render_8bit(image, contract().normalisation), 50)
    assert box == (40, 30, 250, 170)


def test_isolated_noise_pixels_do_not_grow_the_box():
    image = tissue_image()
    image[5, 5] = 4000
    assert foreground_box(render_8bit(image, contract().normalisation), 50) == (40, 30, 250, 170)


def test_an_empty_slice_uses_the_whole_image():
    assert foreground_box(np.zeros((20, 30), np.uint8), 50) == (0, 0, 30, 20)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16])
def test_the_window_of_integer_pixels_is_numpys_percentile(dtype: type) -> None:
    # Integer slices take the histogram path; it must give np.percentile's numbers exactly,
    # signed pixels and narrow ranges included.
    rng = np.random.default_rng(3)
    info = np.iinfo(dtype)
    for low, high in ((info.min, info.max), (info.min, info.min + 3), (-40, 900)):
        lo, hi = max(low, info.min), min(high, info.max)
        for size in (1, 2, 7, 4099):
            pixels: np.ndarray = rng.integers(lo, hi, size=(1, size), endpoint=True).astype(dtype)
            low_value, high_value = np.percentile(pixels.astype(np.float32), [0.5, 99.5])
            if not high_value > low_value:  # the window falls back on the range
                low_value, high_value = float(pixels.min()), float(pixels.max())
            if not high_value > low_value:
                high_value = low_value + 1.0
            assert percentile_window(pixels, 0.5, 99.5) == (low_value, high_value)


def test_the_axial_crop_is_a_square_in_millimetres_around_the_box_centre():
    image = tissue_image()
    c = contract("centre_crop", crop_mm=40.0)
    x0, y0, x1, y1 = roi_box(image.astype(np.float32), (0.5, 0.25), c)
    assert (x1 - x0) * 0.25 == pytest.approx(40.0)
    assert (y1 - y0) * 0.5 == pytest.approx(40.0)
    assert ((x0 + x1) / 2, (y0 + y1) / 2) == pytest.approx((145, 100), abs=0.5)


def test_the_seed_crop_in_pixels_ignores_the_spacing():
    image = tissue_image()
    box = roi_box(image.astype(np.float32), (0.5, 0.25), contract("centre_crop", crop_px=100))
    assert (box[2] - box[0], box[3] - box[1]) == (100, 100)


def test_keep_aspect_makes_the_box_physically_square_for_a_square_network():
    image = tissue_image()
    box = roi_box(image.astype(np.float32), (1.0, 1.0), contract(keep_aspect=True))
    assert box[2] - box[0] == box[3] - box[1] == 210
    assert box[0] == 40


@pytest.mark.parametrize(
    "box", [(40, 30, 250, 170), (-20, -10, 60, 50), (10, 20, 30, 40), (150, 90, 350, 260)]
)
def test_points_map_to_the_network_and_back_exactly(box):
    t = Transform(box=box, image_shape=(200, 300), network_shape=(64, 48))
    points = np.array([[0.0, 0.0], [box[0], box[1]], [box[2], box[3]], [123.25, 77.5]])
    net = t.to_network(points)
    assert net[1] == pytest.approx([0, 0])
    assert net[2] == pytest.approx([48, 64])
    assert t.to_image(net) == pytest.approx(points)


@pytest.mark.parametrize("box", [(40, 30, 250, 170), (-30, -20, 330, 220), (112, 72, 188, 128)])
def test_a_mask_survives_the_round_trip_through_the_network_grid(box):
    mask = np.zeros((200, 300), np.uint8)
    cv2.ellipse(mask, (150, 100), (30, 18), 20, 0, 360, 1, -1)
    t = Transform(box=box, image_shape=(200, 300), network_shape=(128, 128))
    back = t.network_to_image(t.image_to_network(mask.astype(np.float32))) >= 0.5
    truth = mask.astype(bool)
    dice = 2 * (back & truth).sum() / (back.sum() + truth.sum())
    assert dice > 0.97
    # The centroid is where it was (no half-pixel shift).
    ys, xs = np.nonzero(back)
    assert (xs.mean(), ys.mean()) == pytest.approx((150, 100), abs=0.3)


def test_outside_the_box_the_back_projection_is_zero():
    t = Transform(box=(50, 50, 100, 100), image_shape=(200, 300), network_shape=(32, 32))
    out = t.network_to_image(np.ones((32, 32), np.float32))
    assert out[50:100, 50:100].min() == 1.0
    assert out.sum() == 50 * 50


def test_a_stride_four_map_lands_on_the_same_place():
    t = Transform(box=(40, 30, 250, 170), image_shape=(200, 300), network_shape=(64, 64))
    full = np.zeros((64, 64), np.float32)
    full[20:40, 8:24] = 1.0
    coarse = cv2.resize(full, (16, 16), interpolation=cv2.INTER_AREA)
    a = t.network_to_image(full) >= 0.5
    b = t.network_to_image(coarse) >= 0.5
    assert 2 * (a & b).sum() / (a.sum() + b.sum()) > 0.95


def test_preprocess_normalises_to_the_unit_range_and_repeats_channels():
    image = tissue_image()
    c = contract()
    c = dataclasses.replace(c, input=dataclasses.replace(c.input, channels=3))
    prep = preprocess(image, (0.5, 0.5), c)
    assert prep.tensor.shape == (3, 64, 64)
    assert prep.tensor.dtype == np.float32
    assert prep.tensor.min() >= 0.0
    assert prep.tensor.max() <= 1.0
    assert np.array_equal(prep.tensor[0], prep.tensor[2])
    assert prep.transform.box == (40, 30, 250, 170)


def test_all_accepted_dtypes_give_the_same_network_input():
    base = tissue_image()
    c = contract()
    reference = preprocess(base, (1, 1), c).tensor
    for dtype in (np.int16, np.float32):
        assert np.allclose(preprocess(base.astype(dtype), (1, 1), c).tensor, reference, atol=1e-5)
    small = (base // 16).astype(np.uint8)
    assert preprocess(small, (1, 1), c).tensor.shape == reference.shape


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((4, 5, 6), np.uint16), "expected a 2-D slice"),
        (np.zeros((0, 5), np.uint16), "the slice is empty"),
        (np.zeros((5, 5), np.float64), "unsupported pixel type float64"),
        (np.zeros((5, 5), np.int32), "unsupported pixel type int32"),
        (np.full((5, 5), np.nan, np.float32), "NaN or infinite"),
        (np.zeros((9000, 4), np.uint8), "unexpected size 9000x4"),
        ([[1, 2], [3, 4]], "expected a numpy array"),
    ],
)
def test_bad_images_are_refused_with_the_reason(image, message):
    with pytest.raises(InputError, match=message):
        validate_image(image)


@pytest.mark.parametrize("spacing", [(0, 1), (1, -2), (float("nan"), 1), (1,), "ab", None])
def test_bad_spacings_are_refused(spacing):
    with pytest.raises(InputError, match="spacing"):
        validate_spacing(spacing)


def test_a_single_channel_leading_axis_is_accepted():
    assert validate_image(np.zeros((1, 6, 7), np.uint16)).shape == (6, 7)
