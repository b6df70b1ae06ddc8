"""The shipped default models: their files, and predictions on held-out phantoms and slices."""

from __future__ import annotations

import numpy as np
import pytest

from inference.runtime.model_check import contract_check_against_model
from inference.runtime.predict import predict_slices, prediction_to_shapes
from inference.runtime.sessions import create_session, get_session, view_session
from inference.runtime.shipped import SHIPPED_TASKS, ShippedModel, shipped_model
from inference.training.data import TrainingSlice, phantom_slices, real_slices
from inference.training.evaluate import dice, radial_errors_mm
from inference.training.nets import KEYPOINT_NAMES


@pytest.fixture(scope="module")
def sagittal() -> ShippedModel:
    return shipped_model("sagittal")


@pytest.fixture(scope="module")
def axial() -> ShippedModel:
    return shipped_model("axial")


@pytest.fixture(scope="module")
def held_out_phantom() -> tuple[TrainingSlice, TrainingSlice]:
    # Seed 9006 is in neither the training seeds (1000-1039) nor the benchmark's.
    sag = phantom_slices("sagittal", [9006], sagittal_offsets=(0,))[0]
    ax = phantom_slices("axial", [9006])
    return sag, ax[len(ax) // 2]


def test_the_shipped_files_are_small_verified_and_match_their_contracts():
    total = 0
    for task in SHIPPED_TASKS:
        model = shipped_model(task)
        contract_check_against_model(model.contract, model.onnx_path)
        assert model.contract.task == task
        assert model.metrics["onnx_vs_torch_max_abs_diff"] < 1e-4
        assert model.metrics["sha256"] == model.sha256
        total += model.size_bytes
    assert total <= 20_000_000


def test_the_sagittal_model_outlines_cord_and_canal_and_finds_the_corners(
    sagittal: ShippedModel, held_out_phantom: tuple[TrainingSlice, TrainingSlice]
) -> None:
    item = held_out_phantom[0]
    session = get_session(sagittal.onnx_path, sha256=sagittal.sha256)
    pred = predict_slices(session, sagittal.contract, [item.image], [item.spacing])[0]
    assert item.masks["cord"] is not None
    assert item.masks["canal"] is not None
    assert dice(pred.masks["cord"], item.masks["cord"]) > 0.8
    assert dice(pred.masks["canal"], item.masks["canal"]) > 0.8
    assert item.keypoints is not None
    errors = radial_errors_mm(pred, item.keypoints, item.spacing)
    assert float(np.median(errors)) < 3.0
    shapes = prediction_to_shapes(pred)
    assert sorted(s["label"] for s in shapes if s["shape_type"] == "polygon") == ["canal", "cord"]
    points = [s["label"] for s in shapes if s["shape_type"] == "point"]
    assert points == list(KEYPOINT_NAMES)
    assert 0.0 <= pred.uncertainty <= 1.0


def test_the_axial_model_outlines_cord_and_canal(
    axial: ShippedModel, held_out_phantom: tuple[TrainingSlice, TrainingSlice]
) -> None:
    item = held_out_phantom[1]
    session = get_session(axial.onnx_path, sha256=axial.sha256)
    pred = predict_slices(session, axial.contract, [item.image], [item.spacing])[0]
    assert item.masks["cord"] is not None
    assert item.masks["canal"] is not None
    assert dice(pred.masks["cord"], item.masks["cord"]) > 0.85
    assert dice(pred.masks["canal"], item.masks["canal"]) > 0.85
    assert pred.keypoints == {}


def test_the_axial_model_finds_the_cord_on_held_out_real_t2s_slices(axial: ShippedModel) -> None:
    slices = real_slices("axial", ["t2s"])
    session = get_session(axial.onnx_path, sha256=axial.sha256)
    preds = predict_slices(
        session, axial.contract, [s.image for s in slices], [s.spacing for s in slices]
    )
    scores = [dice(p.masks["cord"], s.masks["cord"]) for p, s in zip(preds, slices, strict=True)]  # type: ignore[arg-type]
    assert float(np.mean(scores)) > 0.8


def test_every_accepted_pixel_type_gives_the_same_cord(
    axial: ShippedModel, held_out_phantom: tuple[TrainingSlice, TrainingSlice]
) -> None:
    item = held_out_phantom[1]
    session = get_session(axial.onnx_path, sha256=axial.sha256)
    pixels = item.image.astype(np.float32)
    variants = [pixels, pixels.astype(np.int16), (pixels / pixels.max() * 255).astype(np.uint8)]
    preds = predict_slices(session, axial.contract, variants, [item.spacing] * 3)
    reference = preds[0].masks["cord"]
    for pred in preds[1:]:
        assert dice(pred.masks["cord"], reference) > 0.95


def test_the_branched_sagittal_network_gives_the_whole_networks_outputs(
    sagittal: ShippedModel,
) -> None:
    # A slice and its wider keypoint view run together through the branched network.
    session = create_session(sagittal.onnx_path)
    branched = view_session(session, "heatmaps")
    assert branched is not None
    h, w = sagittal.contract.input.height, sagittal.contract.input.width
    rng = np.random.default_rng(1)
    slices, views = (rng.random((n, 1, h, w), dtype=np.float32) for n in (2, 1))
    seg, heat, view_heat = branched.run(
        ["segmentation", "heatmaps", "view/heatmaps"], {"image": slices, "view/image": views}
    )
    whole = session.run(["segmentation", "heatmaps"], {"image": np.concatenate([slices, views])})
    assert np.array_equal(seg, whole[0][:2])
    assert np.array_equal(heat, whole[1][:2])
    assert np.allclose(view_heat, whole[1][2:], atol=1e-5)
