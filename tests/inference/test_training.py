"""Training a tiny network on phantoms, exporting it to ONNX and checking ONNX against torch."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pytest
import torch

from inference.runtime.contract import load_contract
from inference.runtime.model_check import contract_check_against_model
from inference.runtime.predict import predict_slices
from inference.runtime.sessions import create_session, file_sha256
from inference.training.augment import (
    NO_AUGMENT,
    AugmentConfig,
    gaussian_heatmaps,
    make_sample,
    random_curve,
)
from inference.training.data import TrainingSlice, phantom_slices, real_slices
from inference.training.evaluate import TorchSession
from inference.training.export import ExportError, export_and_verify, export_onnx, verify_onnx
from inference.training.nets import KEYPOINT_NAMES, NetConfig, build_net, parameter_count
from inference.training.pipeline import train_and_export
from inference.training.train import (
    TrainProgress,
    default_config,
    default_contract,
    load_checkpoint,
    losses,
    make_batch,
    net_config,
    train,
)
from tests.inference.tiny import TINY


@pytest.fixture(scope="module")
def sagittal_phantoms() -> list[TrainingSlice]:
    return phantom_slices("sagittal", [11], sagittal_offsets=(0,))


def test_a_tiny_network_fits_a_phantom_batch(sagittal_phantoms):
    torch.manual_seed(0)
    cfg = default_config("sagittal", batch_size=4, **TINY)
    contract = default_contract(cfg)
    batch = make_batch(
        (sagittal_phantoms, []), cfg, contract, np.random.default_rng(0), torch.device("cpu")
    )
    model = build_net(net_config(cfg))
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    history = []
    for _ in range(30):
        seg, heat = losses(model(batch["image"]), batch, cfg)
        loss = seg + heat
        optimiser.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        optimiser.step()
        history.append((seg.item(), heat.item()))
    assert history[-1][0] < 0.85 * history[0][0]
    assert history[-1][1] < history[0][1]


def test_train_reports_per_epoch_metrics_and_a_checkpoint(tmp_path):
    events: list[TrainProgress] = []
    result = train(
        task="sagittal",
        epochs=2,
        steps_per_epoch=2,
        batch_size=2,
        seed=3,
        device="cpu",
        out_dir=tmp_path,
        progress=events.append,
        phantom_train_seeds=(21,),
        phantom_val_seeds=(22,),
        real_train=("t1",),
        real_val=(),
        **TINY,
    )
    assert [e.step for e in events] == [1, 2, 1, 2]
    assert events[1].metrics is not None
    assert events[1].metrics["epoch"] == 1
    assert len(result.history) == 2
    held_out = result.history[-1]["held_out"]["phantom"]
    for key in ("cord_dice", "canal_dice", "keypoint_mre_mm"):
        assert key in held_out
    assert any(s.startswith("real:t1:sagittal:") for s in result.data["train"])
    assert "phantom:22:sagittal:4" in result.data["held_out"]
    assert result.checkpoint is not None
    model, state = load_checkpoint(result.checkpoint)
    assert state["contract"]["task"] == "sagittal"
    x = torch.rand(1, 1, 64, 64)
    with torch.no_grad():
        assert torch.allclose(model(x)[0], result.model(x)[0], atol=1e-5)


def test_the_lateral_real_sagittal_slices_are_trained_on_only_when_asked():
    def areas(slices: list[TrainingSlice]) -> dict[str, int]:
        return {s.source: int(s.masks["cord"].sum()) for s in slices}  # type: ignore[union-attr]

    body, every = (
        areas(real_slices("sagittal", ["t1"])),
        areas(real_slices("sagittal", ["t1"], min_cord_share=0.0)),
    )
    largest = max(every.values())
    assert set(body) < set(every)
    assert all(area >= largest / 2 for area in body.values())  # the scored set, by default
    lateral = {source for source, area in every.items() if area < largest / 2}
    assert lateral == set(every) - set(body)
    assert all(area > 0 for area in every.values())  # no slice beside the cord

    def trained_on(**share: Any) -> set[str]:
        result = train(
            task="sagittal", epochs=1, steps_per_epoch=1, batch_size=2, seed=3, device="cpu",
            phantom_train_seeds=(21,), phantom_val_seeds=(), real_train=("t1",), real_val=(),
            **share, **TINY,
        )  # fmt: skip
        return {s for s in result.data["train"] if s.startswith("real:")}

    assert trained_on() == set(body)
    assert trained_on(real_min_cord_share=0.0) == set(every)


def test_training_is_deterministic_for_a_seed():
    kwargs: dict[str, Any] = {
        "task": "axial", "epochs": 1, "steps_per_epoch": 2, "batch_size": 2, "seed": 5,
        "device": "cpu", "phantom_train_seeds": (31,), "phantom_val_seeds": (),
        "real_train": ("mt",), "real_val": (), "input_size": (48, 48), "widths": (4, 8),
        "threads": 1,
    }  # fmt: skip
    a = train(**kwargs)
    b = train(**kwargs)
    assert a.history[0]["loss"] == b.history[0]["loss"]


def test_a_torch_model_predicts_like_its_onnx_export_through_predict_slices(tmp_path):
    # TorchSession answers the outputs asked for by name (a wider keypoint view asks for the
    # heatmaps alone), as onnxruntime does.
    cfg = default_config("sagittal", **TINY)
    contract = dataclasses.replace(
        default_contract(cfg),
        preprocessing=dataclasses.replace(
            default_contract(cfg).preprocessing, keypoint_min_span_mm=200.0
        ),
    )
    model = build_net(net_config(cfg)).eval()
    session = create_session(export_onnx(model, tmp_path / "tiny.onnx", input_size=(64, 64)))
    torch_session = TorchSession(model, contract)
    (heat,) = torch_session.run(["heatmaps"], {"image": np.zeros((1, 1, 64, 64), np.float32)})
    assert heat.shape[1] == len(KEYPOINT_NAMES)
    image = np.random.default_rng(0).integers(0, 4000, (90, 70)).astype(np.uint16)
    (a,) = predict_slices(torch_session, contract, [image], [(0.5, 0.5)])
    (b,) = predict_slices(session, contract, [image], [(0.5, 0.5)])
    assert a.keypoint_span_mm == b.keypoint_span_mm == pytest.approx(200.0)
    for name in KEYPOINT_NAMES:
        assert (a.keypoints[name].x, a.keypoints[name].y) == pytest.approx(
            (b.keypoints[name].x, b.keypoints[name].y), abs=0.05
        )


def test_export_is_one_file_that_matches_torch(tmp_path):
    cfg = default_config("sagittal", **TINY)
    contract = default_contract(cfg)
    model = build_net(net_config(cfg)).eval()
    path = tmp_path / "tiny.onnx"
    diff = export_and_verify(model, path, contract)
    assert diff < 1e-4
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.onnx"]
    contract_check_against_model(contract, path)
    session = create_session(path)
    assert session.get_inputs()[0].shape[0] == "batch"
    images = [
        np.random.default_rng(i).integers(0, 4000, (90, 70)).astype(np.uint16) for i in range(3)
    ]
    predictions = predict_slices(session, contract, images, [(0.5, 0.5)] * 3, batch_size=2)
    assert len(predictions) == 3
    assert set(predictions[0].keypoints) == set(KEYPOINT_NAMES)
    assert predictions[2].probabilities["cord"].shape == (90, 70)


def test_verify_raises_when_onnx_and_torch_disagree(tmp_path):
    model = build_net(NetConfig(seg_channels=1, widths=(4, 8))).eval()
    path = export_onnx(model, tmp_path / "m.onnx", input_size=(32, 32), output_names=["seg"])
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01)
    with pytest.raises(ExportError, match="differs from torch"):
        verify_onnx(model, path, input_size=(32, 32))


def test_verify_judges_large_outputs_relatively(tmp_path):
    # Logits in the thousands: float32 summation order alone moves them by more than 1e-4.
    model = build_net(NetConfig(seg_channels=1, widths=(4, 8))).eval()
    bias = model.seg_head.bias
    assert bias is not None
    with torch.no_grad():
        bias.fill_(5000.0)
    path = export_onnx(model, tmp_path / "m.onnx", input_size=(32, 32), output_names=["seg"])
    assert verify_onnx(model, path, input_size=(32, 32)) < 1e-4
    with torch.no_grad():
        bias.fill_(5001.0)  # 2e-4 relative: a real disagreement
    with pytest.raises(ExportError, match="differs from torch"):
        verify_onnx(model, path, input_size=(32, 32))


def test_the_shipped_architectures_stay_small():
    for task in ("sagittal", "axial"):
        params = parameter_count(build_net(net_config(default_config(task))))
        assert params < 3_000_000


def test_augmented_samples_are_deterministic_and_keep_keypoints_on_their_marks():
    image = np.full((120, 100), 100, np.uint16)
    image[20:100, 20:80] = 1000
    points = np.array([[30.5 + 2 * i, 30.5 + 3 * i] for i in range(20)])
    for x, y in points[[0, 19]]:
        image[int(y), int(x)] = 4000
    item = TrainingSlice(
        image=image,
        spacing=(0.5, 0.5),
        masks={"cord": np.zeros_like(image, bool), "canal": None},
        keypoints=points,
        source="synthetic",
    )
    cfg = default_config("sagittal", **TINY)
    contract = default_contract(cfg)
    aug = AugmentConfig(
        fov_crop_p=0.0, lowres_p=0.0, noise_p=0.0, blur_p=0.0, bias_p=0.0, rotation_deg=25.0,
        elastic_p=1.0, gamma=(1.0, 1.0), contrast=(1.0, 1.0), brightness=0.0,
    )  # fmt: skip
    kwargs: dict[str, Any] = {
        "labels": ("cord", "canal"),
        "config": aug,
        "heatmap_sigma": 1.0,
        "keypoint_count": 20,
    }
    a = make_sample(item, contract, np.random.default_rng(7), **kwargs)
    b = make_sample(item, contract, np.random.default_rng(7), **kwargs)
    assert np.array_equal(a.image, b.image)
    assert np.array_equal(a.heatmaps, b.heatmaps)
    assert a.mask_weight[1].max() == 0.0  # canal not annotated: no loss
    assert a.heatmap_weight == 1.0
    for k in (0, 19):
        peak = np.unravel_index(np.argmax(a.heatmaps[k]), a.heatmaps[k].shape)
        r, c = peak
        window = a.image[0, r - 2 : r + 3, c - 2 : c + 3]
        # The bright marker pixel ended up under the heatmap peak.
        assert window.max() > 0.5 * a.image[0].max()


def test_a_random_curve_inverts_or_reorders_intensities_within_range():
    x = np.linspace(0.0, 1.0, 101, dtype=np.float32)
    outs = [random_curve(x, np.random.default_rng(seed), 5) for seed in range(40)]
    assert all(o.dtype == np.float32 and o.min() >= 0.0 and o.max() <= 1.0 for o in outs)
    inverted = [o for o in outs if np.allclose(o, 1.0 - x)]
    assert 5 < len(inverted) < 35  # about half the draws invert
    reordered = [o for o in outs if not np.allclose(o, 1.0 - x)]
    assert any(np.any(np.diff(o) < 0) and np.any(np.diff(o) > 0) for o in reordered)
    again = random_curve(x, np.random.default_rng(3), 5)
    assert np.array_equal(again, outs[3])


def test_the_intensity_curve_is_applied_only_when_asked():
    image = np.full((96, 96), 100, np.uint16)
    image[20:76, 30:60] = 1000
    item = TrainingSlice(
        image=image, spacing=(0.5, 0.5), masks={"cord": image > 500}, keypoints=None,
        source="synthetic",
    )  # fmt: skip
    contract = default_contract(default_config("axial", input_size=(64, 64)))
    kwargs: dict[str, Any] = {"labels": ("cord",)}
    plain = make_sample(item, contract, np.random.default_rng(1), config=NO_AUGMENT, **kwargs)
    curved = dataclasses.replace(NO_AUGMENT, remap_p=1.0)
    inverted = make_sample(item, contract, np.random.default_rng(1), config=curved, **kwargs)
    assert not np.array_equal(plain.image, inverted.image)
    assert np.array_equal(plain.masks, inverted.masks)  # the labels do not move
    inside = plain.masks[0] > 0.5
    # The bright square's contrast against its surround changed (inverted or reordered).
    plain_step = plain.image[0][inside].mean() - plain.image[0][~inside].mean()
    new_step = inverted.image[0][inside].mean() - inverted.image[0][~inside].mean()
    assert plain_step > 0.5
    assert abs(new_step - plain_step) > 0.1


def test_gaussian_heatmaps_peak_at_the_point():
    heat = gaussian_heatmaps(np.array([[10.5, 20.5]]), (32, 32), 2.0)
    row, col = np.unravel_index(np.argmax(heat[0]), (32, 32))
    assert (int(row), int(col)) == (20, 10)
    assert heat.max() == pytest.approx(1.0)


def test_labelled_band_masks_only_the_phantom_polygons_ends(sagittal_phantoms):
    item = sagittal_phantoms[0]
    assert item.valid is not None
    canal = item.masks["canal"]
    assert (item.valid | ~canal).all()  # every labelled pixel is in the band
    assert item.valid.sum() < item.valid.size  # and the band does not cover the whole slice


def test_checkpoint_configs_round_trip(tmp_path):
    result = train(
        task="axial", epochs=1, steps_per_epoch=1, batch_size=1, seed=0, device="cpu",
        out_dir=tmp_path, phantom_train_seeds=(41,), phantom_val_seeds=(), real_train=(),
        real_val=(), input_size=(48, 48), widths=(4, 8), threads=1,
    )  # fmt: skip
    assert result.checkpoint is not None
    _, state = load_checkpoint(result.checkpoint)
    assert state["train_config"]["widths"] == [4, 8]
    assert dataclasses.asdict(result.model.config)["seg_channels"] == 2


def test_train_and_export_writes_a_registrable_model(tmp_path):
    result = train_and_export(
        task="axial", out_dir=tmp_path, epochs=1, steps_per_epoch=1, batch_size=2, seed=0,
        device="cpu", stem="tiny", phantom_train_seeds=(51,), phantom_val_seeds=(52,),
        real_train=(), real_val=("mt",), input_size=(48, 48), widths=(4, 8), threads=1,
    )  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "tiny.contract.json", "tiny.metrics.json", "tiny.onnx", "tiny.pt",
    ]  # fmt: skip
    assert result.max_abs_diff < 1e-4
    contract = load_contract(result.contract_path)
    contract_check_against_model(contract, result.onnx_path)
    info = json.loads(result.metrics_path.read_text())
    assert info["sha256"] == file_sha256(result.onnx_path)
    assert info["held_out"]["real"][0].startswith("real:mt:axial:")
    assert "cord_dice" in info["metrics"]["real"]
    assert "canal_dice" in info["metrics"]["phantom"]
