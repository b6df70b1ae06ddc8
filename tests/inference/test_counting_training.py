"""Training the counting network (issue 14 §5) onto a trained network, leaving the rest of it
as it was, and shipping it through the pipeline."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import torch

from inference.runtime.contract import load_contract
from inference.runtime.model_check import contract_check_against_model
from inference.training.counting import (
    CountConfig,
    counting_sample,
    counting_targets,
    train_counting,
    with_counter,
)
from inference.training.nets import NetConfig, build_net
from inference.training.pipeline import add_counting, train_and_export
from inference.training.train import default_config, default_contract, load_checkpoint, train
from tests.inference.tiny import TINY

QUICK = CountConfig(steps=3, pool=4, batch_size=2, threads=1)


def tiny_sagittal() -> tuple[Any, Any]:
    config = default_config("sagittal", **TINY)
    torch.manual_seed(0)
    net = build_net(
        NetConfig(seg_channels=2, heatmap_channels=20, widths=(8, 16, 32), heatmap_level=1)
    )
    return net.eval(), default_contract(config)


def test_targets_peak_on_the_dens_and_every_body_in_sight():
    # Network labelme coordinates on pixel centres of the stride-4 grid: 4 * (i + 0.5).
    centres = np.array([[22.0, 14.0], [22.0, 30.0], [26.0, 50.0], [26.0, 300.0]])
    target = counting_targets(np.array([18.0, 6.0]), centres, (64, 64), 4)
    assert target.shape == (2, 16, 16)
    dens, bodies = target
    assert tuple(int(i) for i in np.unravel_index(int(np.argmax(dens)), dens.shape)) == (1, 4)
    peaks = {(r, c) for r, c in zip(*np.nonzero(bodies > 0.99), strict=True)}
    assert peaks == {(3, 5), (7, 5), (12, 6)}  # the fourth body is out of sight


def test_a_dens_out_of_sight_leaves_its_channel_flat():
    target = counting_targets(np.array([18.0, -30.0]), np.array([[22.0, 14.0]]), (64, 64), 4)
    assert not target[0].any()
    assert target[1].max() > 0.9


def test_a_sample_keeps_its_points_through_the_augmentation():
    _, contract = tiny_sagittal()
    image, target = counting_sample(7, contract, np.random.default_rng(7), 2)
    assert image.shape == (1, 64, 64)
    assert target.shape == (2, 32, 32)
    assert target[1].max() > 0.5  # bodies in view


def test_only_the_counting_network_learns_and_the_rest_is_bit_for_bit_the_same():
    net, contract = tiny_sagittal()
    counted = with_counter(net)
    assert {n.split(".")[0] for n, p in counted.named_parameters() if p.requires_grad} == {
        "counter"
    }
    trained, counted_contract, record = train_counting(net, contract, QUICK)
    assert counted_contract.heatmap is not None
    assert counted_contract.heatmap.counting == ("dens_tip", "bodies")
    assert contract.postprocessing.corner_levels == "any"
    assert counted_contract.postprocessing.corner_levels == "counted"  # drawn where counted
    assert record["config"]["steps"] == 3
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(2, 1, 64, 64)).astype(np.float32))
    with torch.no_grad():
        seg, heat = net(x)
        seg2, heat2 = trained(x)
    assert torch.equal(seg, seg2)
    assert torch.equal(heat, heat2[:, :20])
    assert heat2.shape[1] == 22
    torch.manual_seed(QUICK.seed)  # the counter as train_counting starts it
    fresh = with_counter(net)
    assert fresh.counter is not None
    assert trained.counter is not None
    start = dict(fresh.counter.named_parameters())
    assert any(not torch.equal(start[n], p) for n, p in trained.counter.named_parameters())


@pytest.fixture(scope="module")
def tiny_build(tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("tiny_sagittal")
    train_and_export(
        task="sagittal", out_dir=out, epochs=1, steps_per_epoch=1, batch_size=2, seed=0,
        device="cpu", stem="tiny", phantom_train_seeds=(51,), phantom_val_seeds=(52,),
        real_train=(), real_val=(), **TINY,
    )  # fmt: skip
    return out


def test_the_counting_network_is_added_to_a_shipped_network_and_registrable(tiny_build):
    before = json.loads((tiny_build / "tiny.metrics.json").read_text())
    # A setting chosen after training, in the shipped contract only: it must stay.
    shipped = json.loads((tiny_build / "tiny.contract.json").read_text())
    shipped["preprocessing"]["keypoint_min_span_mm"] = 123.0
    (tiny_build / "tiny.contract.json").write_text(json.dumps(shipped))
    result = add_counting(tiny_build, stem="tiny", config=QUICK)
    contract = load_contract(result.contract_path)
    assert contract.preprocessing.keypoint_min_span_mm == 123.0
    assert contract.heatmap is not None
    assert contract.heatmap.counting == ("dens_tip", "bodies")
    assert contract.postprocessing.corner_levels == "counted"
    contract_check_against_model(contract, result.onnx_path)
    info = json.loads(result.metrics_path.read_text())
    assert info["training"]["recipe"] == before["training"]["recipe"]
    assert info["training"]["counting"]["config"]["steps"] == 3
    assert set(info["metrics"]["counting"]["synthetic"]) >= {"all", "cervical", "full"}
    assert info["sha256"] != before["sha256"]
    with pytest.raises(ValueError, match="has a counting network already"):
        add_counting(tiny_build, stem="tiny", config=QUICK)


def test_fine_tuning_a_counting_network_leaves_its_counter_as_it_is(tiny_build, tmp_path):
    if not (tiny_build / "tiny.contract.json").read_text().count("dens_tip"):
        add_counting(tiny_build, stem="tiny", config=QUICK)
    start, _ = load_checkpoint(tiny_build / "tiny.pt")
    result = train(
        task="sagittal", epochs=1, steps_per_epoch=2, batch_size=2, seed=1, device="cpu",
        out_dir=tmp_path, init_from=tiny_build / "tiny.pt", phantom_train_seeds=(53,),
        phantom_val_seeds=(), real_train=(), real_val=(), **TINY,
    )  # fmt: skip
    assert result.contract.heatmap is not None
    assert result.contract.heatmap.counting == ("dens_tip", "bodies")
    assert result.contract.postprocessing.corner_levels == "counted"  # a retrain keeps the rule
    assert result.model.counter is not None
    assert start.counter is not None
    before, after = start.counter.state_dict(), result.model.counter.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not all(
        torch.equal(a, b)
        for a, b in zip(
            start.seg_head.parameters(), result.model.seg_head.parameters(), strict=True
        )
    )


def test_make_models_trains_the_counting_network_after_the_rest(tmp_path):
    result = train_and_export(
        task="sagittal", out_dir=tmp_path, epochs=1, steps_per_epoch=1, batch_size=2, seed=0,
        device="cpu", stem="tiny", phantom_train_seeds=(51,), phantom_val_seeds=(52,),
        real_train=(), real_val=(), counting=QUICK, **TINY,
    )  # fmt: skip
    contract = load_contract(result.contract_path)
    assert contract.heatmap is not None
    assert contract.heatmap.counting == ("dens_tip", "bodies")
    contract_check_against_model(contract, result.onnx_path)
    assert result.info["training"]["counting"]["config"]["pool"] == 4
    assert result.info["architecture"]["count_channels"] == 2
