"""Fine-tuning an int8 model's checkpoint (inference/training/finetune.py, quantise=True): the
candidate is int8 when its masks agree with the float network's on the tune slices, float
with the reason otherwise, and its tune metrics are those of the file it ships."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from inference.runtime.contract import load_contract
from inference.runtime.sessions import create_session, file_sha256
from inference.runtime.shipped import SHIPPED_DIR
from inference.training import finetune, quantize
from inference.training.data import phantom_slices, real_slices
from inference.training.evaluate import evaluate_slices
from inference.training.finetune import FinetuneResult, finetune_and_export
from inference.training.quantize import MIN_AGREEMENT, is_quantised
from tests.inference.retrain_fixtures import _tiny_build

QUICK: dict[str, Any] = {"epochs": 1, "steps_per_epoch": 2, "batch_size": 2, "device": "cpu"}


def _axial(out: Path, *, quantise: bool) -> FinetuneResult:
    """Two steps from the shipped axial checkpoint on the mt volume, tuned on t2s."""
    return finetune_and_export(
        checkpoint=SHIPPED_DIR / "axial.pt",
        extra_train=real_slices("axial", ["mt"])[:4],
        tune=real_slices("axial", ["t2s"]),
        out_dir=out,
        quantise=quantise,
        **QUICK,
    )


def test_a_fine_tuned_model_asked_for_int8_ships_int8_and_is_scored_as_shipped(
    tmp_path: Path,
) -> None:
    built = _axial(tmp_path, quantise=True)
    assert is_quantised(built.onnx_path)
    record = built.quantisation
    assert record is not None
    assert "kept_float" not in record
    assert record["mask_agreement"]["mean"] >= MIN_AGREEMENT
    assert record["float_sha256"] != file_sha256(built.onnx_path)
    assert record["float_size_bytes"] > built.onnx_path.stat().st_size
    assert built.contract["metadata"]["sha256"] == file_sha256(built.onnx_path)
    # The tune metrics are the int8 file's own, through the product's prediction path.
    again = evaluate_slices(
        create_session(built.onnx_path),
        load_contract(built.contract),
        real_slices("axial", ["t2s"]),
    )
    assert built.tune_metrics["cord_dice"] == again["cord_dice"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx", "model.pt"]
    # Calibrated as the shipped model is, on the base recipe's held-out phantoms: a retrained
    # model withholds what it is unsure of too.
    assert built.calibration is not None
    assert (
        built.calibration["structure"]["threshold"]
        == built.contract["calibration"]["structure"]["threshold"]
    )
    assert load_contract(built.contract).calibration is not None


def test_masks_that_disagree_keep_the_float_file_and_say_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real comparison, held to an agreement no two networks reach.
    strict = functools.partial(quantize.quantise_checked, min_agreement=1.01)
    monkeypatch.setattr(finetune, "quantise_checked", strict)
    built = _axial(tmp_path, quantise=True)
    assert not is_quantised(built.onnx_path)
    assert built.quantisation is not None
    assert "agree with the float network's" in built.quantisation["kept_float"]
    assert str(tmp_path) not in built.quantisation["kept_float"]  # no server path on the page
    assert built.contract["metadata"]["sha256"] == file_sha256(built.onnx_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx", "model.pt"]


def test_a_network_that_finds_nothing_to_compare_stays_float(tmp_path: Path) -> None:
    tiny = _tiny_build(0)  # two training steps: no mask anywhere yet
    built = finetune_and_export(
        checkpoint=tiny.onnx_path.with_suffix(".pt"),
        extra_train=phantom_slices("sagittal", [42], sagittal_offsets=(0,)),
        tune=phantom_slices("sagittal", [41], sagittal_offsets=(0,)),
        out_dir=tmp_path,
        quantise=True,
        **QUICK,
    )
    assert not is_quantised(built.onnx_path)
    assert built.quantisation == {
        "kept_float": "no held-out input has a mask to compare the two networks on"
    }
    # Its recipe holds nothing out: no calibration, so nothing is withheld, and it says so.
    assert built.calibration == {
        "skipped": "no held-out slice with a reference: nothing is withheld"
    }
    assert "calibration" not in built.contract


def test_without_quantise_the_fine_tuned_model_is_float_and_carries_no_record(
    tmp_path: Path,
) -> None:
    tiny = _tiny_build(0)
    built = finetune_and_export(
        checkpoint=tiny.onnx_path.with_suffix(".pt"),
        extra_train=phantom_slices("sagittal", [42], sagittal_offsets=(0,)),
        tune=phantom_slices("sagittal", [41], sagittal_offsets=(0,)),
        out_dir=tmp_path,
        **QUICK,
    )
    assert not is_quantised(built.onnx_path)
    assert built.quantisation is None
