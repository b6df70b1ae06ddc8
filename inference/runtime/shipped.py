"""The default models shipped in inference/shipped/: file paths, contracts and metrics."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.runtime.contract import ModelContract, ModelFileError, load_contract
from inference.runtime.sessions import file_sha256

SHIPPED_DIR = Path(__file__).resolve().parents[1] / "shipped"
SHIPPED_TASKS = ("sagittal", "axial")


@dataclass(frozen=True)
class ShippedModel:
    task: str
    onnx_path: Path
    contract: ModelContract
    contract_data: dict[str, Any]  # the JSON as stored (what a registry row keeps)
    metrics: dict[str, Any]  # held-out metrics, training summary and data lists
    sha256: str
    size_bytes: int
    name: str


def shipped_model(task: str, directory: Path = SHIPPED_DIR) -> ShippedModel:
    """The shipped model of a task; ModelFileError when its files are missing or altered."""
    if task not in SHIPPED_TASKS:
        raise ValueError(f"no shipped model for task {task!r}; tasks: {SHIPPED_TASKS}")
    onnx_path = directory / f"{task}.onnx"
    contract_path = directory / f"{task}.contract.json"
    metrics_path = directory / f"{task}.metrics.json"
    for path in (onnx_path, contract_path, metrics_path):
        if not path.is_file():
            raise ModelFileError(f"shipped model {task}: {path} is missing (run `make models`)")
    contract_data = json.loads(contract_path.read_text(encoding="utf-8"))
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    sha = file_sha256(onnx_path)
    if metrics.get("sha256") not in (None, sha):
        raise ModelFileError(f"shipped model {task}: {onnx_path.name} does not match its metrics")
    return ShippedModel(
        task=task,
        onnx_path=onnx_path,
        contract=load_contract(contract_data),
        contract_data=contract_data,
        metrics=metrics,
        sha256=sha,
        size_bytes=onnx_path.stat().st_size,
        name=str(contract_data.get("metadata", {}).get("name", f"shipped-{task}")),
    )
