"""The domain-randomised generator as a training source (issue 14 §1): slices, batches and a
short training run with a share of each batch generated."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from inference.training.augment import make_sample
from inference.training.data import phantom_slices, synth_slice, synth_slices
from inference.training.nets import KEYPOINT_NAMES
from inference.training.train import default_config, default_contract, make_batch, train

TINY: dict[str, Any] = {
    "input_size": (64, 64), "widths": (8, 16, 32), "heatmap_level": 1, "threads": 1,
}  # fmt: skip


def test_a_synth_slice_is_a_training_slice_with_full_truth():
    item = synth_slice(5)
    assert item.source == "synth:5:sagittal"
    assert item.image.dtype == np.uint16
    cord, canal = item.masks["cord"], item.masks["canal"]
    assert cord is not None
    assert canal is not None
    assert cord.shape == canal.shape == item.image.shape
    assert item.keypoints is not None
    assert item.keypoints.shape == (len(KEYPOINT_NAMES), 2)
    assert item.valid is None  # the masks hold everywhere: the cord is drawn all along
    assert all(s > 0 for s in item.spacing)
    assert [s.source for s in synth_slices([1, 2])] == ["synth:1:sagittal", "synth:2:sagittal"]


def test_training_draws_sagittal_slices_across_the_canal_too():
    from fixtures.synth_render import LATERAL_P, synth_sagittal

    for seed in (3, 4):
        expected = synth_sagittal(seed, lateral_p=LATERAL_P)
        assert np.array_equal(synth_slice(seed).image, expected.image)
    offsets = [abs(synth_sagittal(s, lateral_p=LATERAL_P).acquisition.lr_offset) for s in range(40)]
    assert max(offsets) > 2.5


def test_an_all_synth_batch_has_the_networks_shapes_and_heatmaps():
    cfg = default_config("sagittal", batch_size=6, synth_fraction=1.0, **TINY)
    contract = default_contract(cfg)
    batch = make_batch(([], []), cfg, contract, np.random.default_rng(4), torch.device("cpu"))
    assert batch["image"].shape == (6, 1, 64, 64)
    assert batch["masks"].shape == (6, 2, 64, 64)
    assert batch["mask_weight"].shape == (6, 2, 64, 64)
    assert batch["heatmaps"].shape == (6, len(KEYPOINT_NAMES), 32, 32)
    assert bool((batch["mask_weight"] == 1).all())
    assert batch["heatmap_weight"].sum() >= 1  # crops may cut corners off, not all of them
    assert batch["masks"][:, 0].sum() > 0
    again = make_batch(([], []), cfg, contract, np.random.default_rng(4), torch.device("cpu"))
    assert torch.equal(batch["image"], again["image"])


def test_without_a_synth_share_batches_are_drawn_as_before():
    # The shipped recipe (synth_fraction 0) draws exactly the random numbers it drew before
    # the generator existed: one phantom index per item, then its augmentation.
    phantoms = phantom_slices("sagittal", [11, 12], sagittal_offsets=(0,))
    cfg = default_config("sagittal", batch_size=3, **TINY)
    assert cfg.synth_fraction == 0.0
    contract = default_contract(cfg)
    batch = make_batch((phantoms, []), cfg, contract, np.random.default_rng(9), torch.device("cpu"))
    rng = np.random.default_rng(9)
    expected = []
    for _ in range(3):
        item = phantoms[int(rng.integers(len(phantoms)))]
        sample = make_sample(
            item, contract, rng, labels=("cord", "canal"), config=cfg.augment,
            heatmap_sigma=cfg.heatmap_sigma, keypoint_count=len(KEYPOINT_NAMES),
            heatmap_stride=2**cfg.heatmap_level,
        )  # fmt: skip
        expected.append(sample.image)
    assert np.array_equal(batch["image"].numpy(), np.stack(expected))


def test_an_axial_synth_batch_has_masks_and_no_heatmaps():
    item = synth_slice(3, "axial")
    assert item.source == "synth:3:axial"
    assert item.keypoints is None
    cfg = default_config("axial", batch_size=3, synth_fraction=1.0, input_size=(48, 48))
    contract = default_contract(cfg)
    batch = make_batch(([], []), cfg, contract, np.random.default_rng(2), torch.device("cpu"))
    assert batch["image"].shape == (3, 1, 48, 48)
    assert batch["masks"].shape == (3, 2, 48, 48)
    assert batch["masks"][:, 0].sum() > 0  # the cord is inside the 80 mm centre crop
    assert batch["heatmap_weight"].sum() == 0


def test_a_short_training_run_with_half_of_each_batch_generated():
    result = train(
        task="sagittal",
        epochs=1,
        steps_per_epoch=3,
        batch_size=4,
        seed=1,
        device="cpu",
        synth_fraction=0.5,
        phantom_train_seeds=(21,),
        phantom_val_seeds=(22,),
        real_train=(),
        real_val=(),
        **TINY,
    )
    row = result.history[0]
    assert math.isfinite(row["loss"])
    assert row["loss"] > 0
    assert result.config.synth_fraction == 0.5
    assert "cord_dice" in row["held_out"]["phantom"]
