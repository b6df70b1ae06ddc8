"""The operating point (threshold, slice pooling) of a leave-one-volume-out fold: its keys,
the choice on the other folds, and held-out real slices predicted within their whole series."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from inference.runtime.predict import SlicePrediction, predict_slices
from inference.runtime.sessions import create_session
from inference.runtime.shipped import shipped_model
from inference.training.data import TrainingSlice, real_series, real_slices
from inference.training.operating_point import (
    DEFAULT,
    Point,
    contract_at,
    cross_validated_point,
    predict_in_series,
    series_positions,
)


def test_a_points_key_reads_back_and_unpooled_keys_stay_as_before() -> None:
    assert Point(0.4).key == "0.40"
    assert Point(0.35, 2.0).key == "0.35@2mm"
    for point in (Point(0.4), Point(0.35, 2.0), Point(0.5, 1.0)):
        assert Point.parse(point.key) == point
    assert Point(0.45, 1.0).describe() == "0.45, pooled over 1 mm"


def test_the_point_is_chosen_on_the_other_folds_and_ties_go_to_less_pooling() -> None:
    curves = {
        "a": {"0.50": 0.1, "0.50@1mm": 0.9, "0.40": 0.2, "0.40@1mm": 0.3},
        "b": {"0.50": 0.6, "0.50@1mm": 0.6, "0.40": 0.7, "0.40@1mm": 0.7},
    }
    # Without a: b favours 0.40 (a tie between the poolings goes to none).
    assert cross_validated_point(curves, exclude="a") == Point(0.4, 0.0)
    # Without b: a favours pooling at 0.50, never mind b.
    assert cross_validated_point(curves, exclude="b") == Point(0.5, 1.0)
    assert cross_validated_point({"a": curves["a"]}, exclude="a") == DEFAULT


def test_only_slices_of_one_real_volume_are_a_series() -> None:
    slices = real_slices("axial", ["t2s"])
    assert series_positions(slices) == pytest.approx([7.5 * i for i in range(9)], abs=1e-3)
    mixed = [*slices[:2], *real_slices("axial", ["mt"])[:2]]
    assert series_positions(mixed) is None
    assert series_positions([dataclasses.replace(slices[0], position_mm=None)]) is None


def test_held_out_slices_are_predicted_within_their_whole_series() -> None:
    """The scored sagittal slices (the body of the cord) pooled with every neighbour a job
    would see, the slices beside the cord included, not only with each other."""
    model = shipped_model("sagittal")
    session = create_session(model.onnx_path)
    contract = contract_at(model.contract, Point(0.5, 2.0))
    scored = real_slices("sagittal", ["t2"])
    series = real_series("sagittal", "t2")
    assert len(series) > len(scored)

    def as_series(slices: list[TrainingSlice]) -> list[SlicePrediction]:
        images, spacings = [s.image for s in slices], [s.spacing for s in slices]
        positions = [s.position_mm or 0.0 for s in slices]
        return predict_slices(session, contract, images, spacings, positions_mm=positions)

    got = predict_in_series(session, contract, scored)
    whole = as_series(series)
    first = int(scored[0].source.rsplit(":", 1)[1])
    for offset, prediction in enumerate(got):
        np.testing.assert_array_equal(prediction.masks["cord"], whole[first + offset].masks["cord"])
    alone = as_series(scored)
    # The end slices see neighbours outside the scored set: their masks differ.
    assert not np.array_equal(alone[0].probabilities["cord"], got[0].probabilities["cord"])
