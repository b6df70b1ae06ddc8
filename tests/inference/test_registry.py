"""The model registry: a model is checked against its contract before it is stored."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from inference.models import ModelStatus, ModelVersion
from inference.services.registry import model_path, model_promote, model_register
from tests.inference.tiny import TINY_CONTRACT, tiny_model

pytestmark = pytest.mark.django_db


def test_it_registers_a_model_with_its_digest_and_a_private_copy(tmp_path: Path) -> None:
    source = tiny_model(tmp_path / "tiny.onnx")
    version = model_register(file=source, task="sagittal", contract=TINY_CONTRACT)
    assert version.status == ModelStatus.CANDIDATE
    stored = model_path(version)
    assert stored.read_bytes() == source.read_bytes()
    assert stored != source
    import hashlib

    assert version.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert version.contract["input"]["name"] == "image"
    # Registering the same file again returns the same version.
    again = model_register(file=source, task="sagittal", contract=TINY_CONTRACT)
    assert again.pk == version.pk


def test_promoting_retires_the_previous_active_model(tmp_path: Path) -> None:
    first = model_register(
        file=tiny_model(tmp_path / "a.onnx"),
        task="sagittal",
        contract=TINY_CONTRACT,
        status=ModelStatus.ACTIVE,
    )
    second = model_register(
        file=tiny_model(tmp_path / "b.onnx", input_name="x"),
        task="sagittal",
        contract={**TINY_CONTRACT, "input": {"name": "x", "size": [64, 64]}},
    )
    model_promote(version=second)
    first.refresh_from_db()
    assert first.status == ModelStatus.RETIRED
    assert ModelVersion.objects.get(status=ModelStatus.ACTIVE).pk == second.pk


def test_it_refuses_a_corrupt_onnx_file_and_stores_nothing(tmp_path: Path, settings) -> None:
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x01garbage that is not a protobuf model" * 10)
    with pytest.raises(ValidationError, match=r"broken\.onnx"):
        model_register(file=bad, task="sagittal", contract=TINY_CONTRACT)
    assert ModelVersion.objects.count() == 0
    assert (
        not any(Path(settings.MODEL_DIR).glob("*.onnx"))
        if Path(settings.MODEL_DIR).exists()
        else True
    )


def test_it_refuses_a_contract_that_does_not_match_the_model(tmp_path: Path) -> None:
    contract = copy.deepcopy(TINY_CONTRACT)
    contract["input"]["name"] = "pixels"
    contract["outputs"]["segmentation"]["labels"] = ["cord", "canal", "csf"]
    with pytest.raises(ValidationError) as refused:
        model_register(file=tiny_model(tmp_path / "t.onnx"), task="sagittal", contract=contract)
    message = str(refused.value)
    assert "pixels" in message
    assert ModelVersion.objects.count() == 0


def test_it_refuses_a_contract_for_another_task(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not 'axial'"):
        model_register(file=tiny_model(tmp_path / "t.onnx"), task="axial", contract=TINY_CONTRACT)


def test_the_command_names_the_file_it_refuses(tmp_path: Path) -> None:
    import json

    contract = tmp_path / "contract.json"
    contract.write_text(json.dumps({**TINY_CONTRACT, "input": {"name": "nope", "size": [64, 64]}}))
    model = tiny_model(tmp_path / "mine.onnx")
    with pytest.raises(CommandError, match=r"mine\.onnx: refused"):
        call_command(
            "register_model", str(model), "--task", "sagittal", "--contract", str(contract)
        )


def test_the_command_registers_and_activates(tmp_path: Path, capsys) -> None:
    import json

    contract = tmp_path / "contract.json"
    contract.write_text(json.dumps(TINY_CONTRACT))
    call_command(
        "register_model",
        str(tiny_model(tmp_path / "m.onnx")),
        "--task",
        "sagittal",
        "--contract",
        str(contract),
        "--activate",
    )
    assert ModelVersion.objects.get().status == ModelStatus.ACTIVE
    assert "registered sagittal model" in capsys.readouterr().out
