"""The model registry: register an ONNX file with its contract, promote, retire.

A file is checked before anything is stored: it must load as ONNX, and the contract
must match the graph's inputs and outputs. The file is copied into MODEL_DIR under its
sha256 (atomically) so a registered version can never change underneath its record.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from inference.models import ModelStatus, ModelTask, ModelVersion
from inference.runtime.contract import ModelError, contract_to_dict, load_contract
from inference.runtime.model_check import contract_check_against_model


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def model_path(version: ModelVersion) -> Path:
    path = Path(version.file)
    return path if path.is_absolute() else Path(settings.MODEL_DIR) / path


def _store_copy(source: Path, digest: str) -> str:
    relative = f"{digest}.onnx"
    target = Path(settings.MODEL_DIR) / relative
    if target.exists():
        return relative
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".onnx")
    os.close(fd)
    try:
        shutil.copyfile(source, temp)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return relative


def weights_precision(file: Path) -> str:
    """ "int8" for a quantised ONNX file, else "float32": read from the file at registration,
    so that the models list says it however the file was made."""
    from inference.training.quantize import is_quantised

    return "int8" if is_quantised(file) else "float32"


def model_register(
    *,
    file: Path,
    task: str,
    contract: dict[str, Any] | Path,
    name: str = "",
    status: str = ModelStatus.CANDIDATE,
    training_manifest: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    created_by: User | None = None,
) -> ModelVersion:
    """Validate and register a model; raise ValidationError naming what is wrong."""
    if task not in ModelTask.values:
        raise ValidationError({"task": [f"unknown task {task!r}; use one of {ModelTask.values}"]})
    if not file.is_file():
        raise ValidationError({"file": [f"{file}: no such file"]})
    try:
        parsed = load_contract(contract)
        contract_check_against_model(parsed, file)
    except ModelError as exc:
        raise ValidationError({"contract": [str(exc)]}) from exc
    if parsed.task != task:
        raise ValidationError(
            {"task": [f"the contract is for the {parsed.task!r} task, not {task!r}"]}
        )
    digest = _sha256(file)
    existing = ModelVersion.objects.filter(task=task, sha256=digest).first()
    if existing is not None:
        return existing
    relative = _store_copy(file, digest)
    with transaction.atomic():
        version = ModelVersion(
            task=task,
            name=name or file.stem,
            file=relative,
            sha256=digest,
            size_bytes=file.stat().st_size,
            contract=contract_to_dict(parsed),
            training_manifest=training_manifest or {},
            metrics={**(metrics or {}), "precision": weights_precision(file)},
            status=ModelStatus.CANDIDATE,
            created_by=created_by,
        )
        version.full_clean()
        version.save()
        if status == ModelStatus.ACTIVE:
            model_promote(version=version)
    return version


@transaction.atomic
def model_promote(*, version: ModelVersion) -> ModelVersion:
    """Make this version the active one of its task; the previous one is retired."""
    ModelVersion.objects.select_for_update().filter(task=version.task).exists()
    ModelVersion.objects.filter(task=version.task, status=ModelStatus.ACTIVE).exclude(
        pk=version.pk
    ).update(status=ModelStatus.RETIRED)
    version.status = ModelStatus.ACTIVE
    version.save(update_fields=["status"])
    return version


def shipped_models_register() -> list[ModelVersion]:
    """Register the models shipped in inference/shipped/ and make each active when no other
    model of its task is (load_demo runs this; a lead's own active model is left alone)."""
    from inference.runtime.contract import ModelFileError
    from inference.runtime.shipped import SHIPPED_TASKS, shipped_model

    versions = []
    for task in SHIPPED_TASKS:
        try:
            shipped = shipped_model(task)
        except ModelFileError:
            continue
        version = model_register(
            file=shipped.onnx_path,
            task=task,
            contract=shipped.contract_data,
            name=shipped.name,
            metrics=shipped.metrics,
            training_manifest={"source": "inference/shipped", "card": "MODEL_CARD.md"},
        )
        if not ModelVersion.objects.filter(task=task, status=ModelStatus.ACTIVE).exists():
            model_promote(version=version)
        versions.append(version)
    return versions


def model_checkpoint(version: ModelVersion) -> Path | None:
    """The torch checkpoint a version can be fine-tuned from: <sha256>.pt beside its stored
    ONNX file (retrained versions), the shipped model's .pt, or <task>.pt in the folder
    `train_model` wrote it to; None when there is none."""
    from inference.runtime.contract import ModelFileError
    from inference.runtime.shipped import shipped_model

    stored = Path(settings.MODEL_DIR) / f"{version.sha256}.pt"
    if stored.is_file():
        return stored
    try:
        shipped = shipped_model(version.task)
    except ModelFileError:
        shipped = None
    if shipped is not None and shipped.sha256 == version.sha256:
        beside = shipped.onnx_path.with_suffix(".pt")
        if beside.is_file():
            return beside
    out = (version.training_manifest or {}).get("out")
    if out:
        trained = Path(out) / f"{version.task}.pt"
        if trained.is_file():
            return trained
    return None
