"""Which component a series keeps on each slice (components.py), and the left-right mirror
average, through predict_slices with real ONNX Runtime sessions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from inference.runtime.components import find_components, series_choice
from inference.runtime.contract import (
    ContractError,
    ModelContract,
    contract_from_dict,
    contract_to_dict,
)
from inference.runtime.predict import predict_slices
from inference.runtime.sessions import create_session
from inference.runtime.tta import tta_disagreement
from tests.inference.tiny import NET, record_batches, tiny_model


def contract(**post: Any) -> ModelContract:
    """A crop of the whole 64 x 64 slice (the corner marks make it the foreground box) onto a
    64 x 64 network: the network grid is the image grid."""
    return contract_from_dict(
        {
            "task": "axial",
            "input": {"name": "image", "size": [NET, NET]},
            "preprocessing": {"roi": "centre_crop", "crop_px": NET},
            "outputs": {"segmentation": {"name": "seg", "labels": ["cord", "canal"]}},
            "postprocessing": {"min_component_px": 12, **post},
        }
    )


def slice_with(*blobs: tuple[int, int, int]) -> np.ndarray:
    """A 64 x 64 uint16 slice: dark background, 3 x 3 marks in two corners (under the
    contract's 12-pixel component minimum) and bright square blobs (row, col, side)."""
    image = np.full((NET, NET), 100, np.uint16)
    image[:3, :3] = image[-3:, -3:] = 1000
    for row, col, side in blobs:
        image[row : row + side, col : col + side] = 1000
    return image


def centroid(mask: np.ndarray) -> tuple[float, float]:
    rows, cols = np.nonzero(mask)
    return float(rows.mean()), float(cols.mean())


def test_a_series_keeps_the_component_that_does_not_jump(tmp_path):
    # The cord (6 x 6) sits at (20, 20) on every slice; on the middle slice a brighter-looking
    # larger blob (9 x 9) 30 px away is that slice's largest component.
    session = create_session(tiny_model(tmp_path / "identity.onnx"))
    images = [slice_with((20, 20, 6)) for _ in range(5)]
    images[2] = slice_with((20, 20, 6), (40, 45, 9))
    spacings = [(1.0, 1.0)] * 5
    alone = predict_slices(session, contract(), images, spacings)
    assert centroid(alone[2].masks["cord"]) == pytest.approx((44.0, 49.0))
    series = predict_slices(session, contract(components="series"), images, spacings)
    for pred in series:
        assert centroid(pred.masks["cord"]) == pytest.approx((22.5, 22.5))
        assert pred.masks["cord"].sum() == 36
        assert pred.polygons["cord"] is not None
    outline = series[2].polygons["cord"]
    assert outline is not None
    assert outline.mean(axis=0) == pytest.approx((23.0, 23.0), abs=0.5)  # labelme x, y
    # The other slices, with one component each, are exactly what a slice alone gives.
    for a, b in zip(alone[:2] + alone[3:], series[:2] + series[3:], strict=True):
        assert np.array_equal(a.masks["cord"], b.masks["cord"])


def test_the_mirror_average_cancels_a_sideways_bias(tmp_path):
    # The network moves everything 3 px to the right: a blob comes back off its place, unless
    # the prediction is averaged with that of the mirrored slice (moved 3 px to the left).
    kernel = np.zeros((1, 7), np.float32)
    kernel[0, 0] = 1.0
    session = create_session(tiny_model(tmp_path / "shift.onnx", kernel=kernel, bias=-0.6))
    image = slice_with((20, 14, 12))
    plain = predict_slices(session, contract(), [image], [(1.0, 1.0)])[0]
    assert centroid(plain.masks["cord"]) == pytest.approx((25.5, 22.5))
    averaged = predict_slices(session, contract(average_flip_lr=True), [image], [(1.0, 1.0)])[0]
    assert centroid(averaged.masks["cord"]) == pytest.approx((25.5, 19.5))
    assert averaged.masks["cord"].sum() == 12 * 6  # where both shifted copies overlap


def test_the_mirror_average_runs_slices_and_mirrors_in_the_same_batches(tmp_path):
    session = create_session(tiny_model(tmp_path / "identity.onnx"))
    calls = record_batches(session)
    images = [slice_with((20, 20, 6))] * 3
    predict_slices(session, contract(average_flip_lr=True), images, [(1, 1)] * 3, batch_size=4)
    assert calls == [4, 2]


def test_find_components_orders_by_area_and_keeps_row_major_order_on_ties():
    prob = np.zeros((30, 30), np.float32)
    prob[20:24, 2:6] = 0.9  # 16 px, later in row-major order
    prob[2:6, 20:24] = 0.8  # 16 px, first in row-major order
    prob[10:12, 10:12] = 0.7  # 4 px: under the minimum
    found = find_components(prob, 0.5, min_pixels=5)
    assert found is not None
    assert len(found.kept) == 2
    first, second = found.kept
    assert found.centroids[first] == pytest.approx((3.5, 21.5))
    assert found.centroids[second] == pytest.approx((21.5, 3.5))
    assert found.mass[second] == pytest.approx(16 * 0.9)
    assert find_components(np.zeros((4, 4), np.float32), 0.5, 1) is None


def test_series_choice_joins_slices_across_those_without_a_component():
    prob_right = np.zeros((40, 40), np.float32)
    prob_right[5:10, 5:10] = 0.9
    jumped = prob_right.copy()
    jumped[5:10, 5:10] = 0.0
    jumped[5:8, 5:8] = 0.9  # the cord, smaller here
    jumped[25:35, 25:35] = 0.9  # something larger 28 mm away
    slices = [
        find_components(prob_right, 0.5, 1),
        None,
        find_components(jumped, 0.5, 1),
        find_components(prob_right, 0.5, 1),
    ]
    choice = series_choice(slices, [(1.0, 1.0)] * 4)
    assert choice[1] is None
    jumped_found = slices[2]
    assert jumped_found is not None
    assert jumped_found.centroids[choice[2]] == pytest.approx((6.0, 6.0))
    # Spacing counts: 0.1 mm pixels make the same jump 2.8 mm, and the largest wins.
    choice = series_choice(slices, [(0.1, 0.1)] * 4)
    assert choice[2] == jumped_found.largest


def test_contracts_check_the_new_postprocessing_fields():
    written = contract_to_dict(contract(components="series", average_flip_lr=True))
    assert written["postprocessing"]["components"] == "series"
    assert written["postprocessing"]["average_flip_lr"] is True
    assert (
        contract_from_dict(written).postprocessing
        == contract(components="series", average_flip_lr=True).postprocessing
    )
    assert contract().postprocessing.components == "largest"
    with pytest.raises(ContractError, match=r"postprocessing\.components"):
        contract(components="smallest")
    with pytest.raises(ContractError, match=r"postprocessing\.average_flip_lr"):
        contract(average_flip_lr="yes")
    with pytest.raises(ContractError, match="average_flip_lr: only for models without heatmaps"):
        contract_from_dict(
            {
                "task": "sagittal",
                "input": {"name": "image", "size": [NET, NET]},
                "outputs": {
                    "segmentation": {"name": "seg", "labels": ["cord"]},
                    "heatmap": {"name": "heat", "keypoints": ["C3_AS"]},
                },
                "postprocessing": {"average_flip_lr": True},
            }
        )


def test_tta_disagreement_leaves_out_the_flip_of_a_model_that_averages_it(tmp_path):
    # Flipping a slice that the model already averages with its mirror changes nothing: the
    # flip would only pull the disagreement towards zero.
    session = create_session(tiny_model(tmp_path / "identity.onnx"))
    calls = record_batches(session)
    images, spacings = [slice_with((20, 20, 6))], [(1.0, 1.0)]
    tta_disagreement(session, contract(), images, spacings, flip_lr=True)
    assert len(calls) == 6  # the slice, four shifts and the flip
    calls.clear()
    tta_disagreement(session, contract(average_flip_lr=True), images, spacings, flip_lr=True)
    assert len(calls) == 5
