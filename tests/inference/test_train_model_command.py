"""`manage.py train_model`: a tiny run trains, exports, verifies and registers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from inference.models import ModelStatus, ModelVersion

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_a_tiny_training_run_exports_a_verified_model_and_registers_it(
    tmp_path: Path, capsys
) -> None:
    call_command(
        "train_model", "--task", "axial", "--epochs", "1", "--steps", "2", "--batch-size", "2",
        "--out", str(tmp_path), "--activate", "--no-progress",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "epoch 1/1" in out
    assert "max difference" in out
    metrics = json.loads((tmp_path / "axial.metrics.json").read_text())
    assert metrics["onnx_vs_torch_max_abs_diff"] < 1e-4
    assert (tmp_path / "axial.onnx").is_file()
    assert (tmp_path / "axial.contract.json").is_file()
    version = ModelVersion.objects.get()
    assert version.status == ModelStatus.ACTIVE
    assert version.task == "axial"


def test_it_refuses_a_zero_epoch_run() -> None:
    with pytest.raises(CommandError, match="at least 1"):
        call_command("train_model", "--task", "axial", "--epochs", "0")
