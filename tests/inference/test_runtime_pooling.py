"""Pooling a series' probabilities across neighbouring slices (contract `slice_pooling_mm`)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from inference.runtime.pooling import pool_probabilities, pooling_weights
from inference.runtime.predict import SlicePrediction, predict_slices
from inference.runtime.preprocess import InputError
from inference.runtime.sessions import create_session
from inference.runtime.shipped import shipped_model
from inference.training.data import real_series


def test_weights_fall_with_distance_and_far_slices_keep_their_own() -> None:
    weights = pooling_weights([0.0, 1.0, 2.0, 30.0], sigma_mm=1.0)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    assert weights[1, 1] > weights[1, 0] == pytest.approx(weights[1, 2])
    assert weights[0, 2] < weights[0, 1]
    assert weights[3].tolist() == [0.0, 0.0, 0.0, 1.0]  # 28 mm from the next: alone


def test_a_lone_leak_is_pooled_away_and_a_shared_structure_kept() -> None:
    shared = np.zeros((8, 8), np.float32)
    shared[2:6, 3:5] = 0.9
    leak = shared.copy()
    leak[6:8, 0:3] = 0.9  # on one slice only
    pooled = pool_probabilities([shared, leak, shared], [0.0, 1.0, 2.0], sigma_mm=1.0)
    assert (pooled[1][2:6, 3:5] > 0.5).all()
    assert (pooled[1][6:8, 0:3] < 0.5).all()
    with pytest.raises(ValueError, match="3 slices but 2 positions"):
        pool_probabilities([shared, leak, shared], [0.0, 1.0], sigma_mm=1.0)


def test_predict_slices_pools_only_a_series_whose_contract_asks() -> None:
    model = shipped_model("axial")
    session = create_session(model.onnx_path)
    series = real_series("axial", "t1")[30:36]
    images, spacings = [s.image for s in series], [s.spacing for s in series]
    positions = [s.position_mm or 0.0 for s in series]

    def predict(pooling_mm: float, positions_mm: list[float] | None) -> list[SlicePrediction]:
        post = dataclasses.replace(model.contract.postprocessing, slice_pooling_mm=pooling_mm)
        contract = dataclasses.replace(model.contract, postprocessing=post)
        return predict_slices(session, contract, images, spacings, positions_mm=positions_mm)

    plain, unpooled = predict(0.0, None), predict(0.0, positions)
    pooled, unrelated = predict(2.0, positions), predict(2.0, None)
    for a, b, c in zip(plain, unpooled, unrelated, strict=True):
        np.testing.assert_array_equal(a.probabilities["cord"], b.probabilities["cord"])
        np.testing.assert_array_equal(a.probabilities["cord"], c.probabilities["cord"])
    expected = pool_probabilities([p.probabilities["cord"] for p in plain], positions, 2.0)
    for got, want in zip(pooled, expected, strict=True):
        np.testing.assert_allclose(got.probabilities["cord"], want, atol=1e-6)
        assert got.shape_confidence["cord"] > 0
    with pytest.raises(InputError, match="6 images but 2 positions"):
        predict_slices(session, model.contract, images, spacings, positions_mm=positions[:2])
