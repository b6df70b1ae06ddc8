"""Train, export, verify and evaluate in one call: what `make models` and a `train_model`
command run. Writes <stem>.onnx, .pt, .contract.json and .metrics.json into `out_dir`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import platform
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.runtime.contract import ModelContract, contract_to_dict, load_contract
from inference.runtime.preprocess import preprocess
from inference.runtime.sessions import create_session, file_sha256
from inference.training.calibrate import calibrate_files
from inference.training.count_scores import score_synthetic
from inference.training.counting import (
    HELD_OUT_SEEDS,
    CountConfig,
    synthetic_count_items,
    train_counting,
)
from inference.training.data import Task, TrainingSlice, phantom_slices, real_slices
from inference.training.evaluate import evaluate_model
from inference.training.export import export_and_verify
from inference.training.nets import UNet, parameter_count
from inference.training.train import (
    TrainConfig,
    TrainProgress,
    config_from_dict,
    load_checkpoint,
    save_checkpoint,
    train,
)


@dataclass(frozen=True)
class BuildResult:
    onnx_path: Path
    checkpoint_path: Path
    contract_path: Path
    metrics_path: Path
    contract: dict[str, Any]  # the JSON contract (for the registry)
    info: dict[str, Any]  # metrics, training summary, data lists (the .metrics.json)
    max_abs_diff: float  # ONNX Runtime vs torch


def write_atomic(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as fh:
        fh.write(text)
        tmp = Path(fh.name)
    tmp.chmod(0o644)  # NamedTemporaryFile creates 0600
    tmp.replace(path)


def software_versions() -> dict[str, str]:
    import numpy
    import onnx
    import onnxruntime
    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "numpy": numpy.__version__,
    }


def headline(held_out: dict[str, Any]) -> dict[str, float]:
    """The mean Dice and keypoint error of a held-out metrics dict, flattened."""
    out: dict[str, float] = {}
    for group in ("real", "phantom"):
        for key, value in held_out.get(group, {}).items():
            if key.endswith("_dice") or key == "keypoint_mre_mm":
                out[f"{group}_{key}"] = round(value["mean"], 4)
    return out


def train_and_export(
    *,
    task: Task,
    out_dir: str | Path,
    epochs: int,
    steps_per_epoch: int,
    batch_size: int,
    seed: int,
    device: str = "auto",
    stem: str | None = None,
    name: str | None = None,
    work_dir: str | Path | None = None,
    progress: Callable[[TrainProgress], None] | None = None,
    extra_train: Sequence[TrainingSlice] = (),
    init_from: str | Path | None = None,
    counting: CountConfig | None = None,
    **overrides: Any,
) -> BuildResult:
    """Trains (see `train`) and, with `counting`, the counting network on top
    (training/counting.py); then `export_and_write`."""
    started = time.perf_counter()
    result = train(
        task=task, epochs=epochs, steps_per_epoch=steps_per_epoch, batch_size=batch_size,
        seed=seed, device=device, out_dir=work_dir, progress=progress,
        extra_train=extra_train, init_from=init_from, **overrides,
    )  # fmt: skip
    train_seconds = time.perf_counter() - started
    model, contract = result.model, result.contract
    counted: dict[str, Any] | None = None
    if counting is not None:
        model, contract, counted = train_counting(model, contract, counting)
    cfg = result.config
    recipe = {"epochs": epochs, "steps_per_epoch": steps_per_epoch, "batch_size": batch_size}
    training = {
        "recipe": {**recipe, "seed": seed},
        "config": json.loads(json.dumps(dataclasses.asdict(cfg), default=list)),
        "data": result.data,
        "extra_train": len(extra_train),
        "init_from": None if init_from is None else str(init_from),
        "seconds": round(train_seconds, 1),
        "device": result.device,
        "threads": cfg.threads,
        "versions": software_versions(),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if counted is not None:
        training["counting"] = counted
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = stem or task
    save_checkpoint(out / f"{stem}.pt", model, cfg, contract, result.history)
    history = [
        {k: v for k, v in h.items() if k != "held_out"} | {"held_out": headline(h["held_out"])}
        for h in result.history
    ]
    return export_and_write(
        model, contract, cfg, out, stem=stem, name=name, training=training, history=history
    )


def add_counting(
    out_dir: str | Path, *, stem: str = "sagittal", config: CountConfig | None = None
) -> BuildResult:
    """The counting network trained onto the network already in `out_dir` (its checkpoint,
    which must have none yet), exported and evaluated again as `export_and_write` does; the
    training record of the network is kept. What `make models` would have made with
    `counting` had it trained the network itself: the rest of the network is frozen."""
    out = Path(out_dir)
    model, state = load_checkpoint(out / f"{stem}.pt")
    if model.config.count_channels:
        raise ValueError(f"{out / stem}.pt has a counting network already")
    # The shipped contract, not the checkpoint's: settings chosen after training (the keypoint
    # view's span) are in it; its calibration is fitted again below.
    shipped = load_contract(out / f"{stem}.contract.json")
    contract = dataclasses.replace(shipped, calibration=None)
    cfg = config_from_dict(state["train_config"])
    model, contract, counted = train_counting(model, contract, config or CountConfig())
    previous = json.loads((out / f"{stem}.metrics.json").read_text(encoding="utf-8"))
    training = {**previous["training"], "counting": counted}
    save_checkpoint(out / f"{stem}.pt", model, cfg, contract, state.get("history", []))
    return export_and_write(
        model,
        contract,
        cfg,
        out,
        stem=stem,
        name=previous.get("name"),
        training=training,
        history=previous.get("history", []),
    )


def evaluate_files(onnx_path: Path, contract: ModelContract, cfg: TrainConfig) -> dict[str, Any]:
    """The held-out scores of an exported file through ONNX Runtime: the run's real and phantom
    held-out sets and, with counting channels, the count on held-out synthetic images."""
    held_real = real_slices(cfg.task, cfg.real_val)
    held_phantoms = phantom_slices(cfg.task, cfg.phantom_val_seeds, sagittal_offsets=(0,))
    session = create_session(onnx_path)
    metrics = evaluate_model(session, contract, real=held_real, phantoms=held_phantoms)
    if contract.heatmap is not None and contract.heatmap.counting:
        metrics["counting"] = {
            "synthetic": score_synthetic(session, contract, synthetic_count_items()),
            "synthetic_seeds": [HELD_OUT_SEEDS[0], HELD_OUT_SEEDS[-1]],
        }
    return metrics


def export_and_write(
    model: UNet,
    contract_spec: ModelContract,
    cfg: TrainConfig,
    out: Path,
    *,
    stem: str,
    name: str | None,
    training: dict[str, Any],
    history: list[dict[str, Any]],
) -> BuildResult:
    """Exports one ONNX file, checks ONNX Runtime against torch on random and real inputs
    (ExportError at 1e-4 or more) and the contract against the graph, evaluates on the
    held-out sets through ONNX Runtime (and, with counting channels, the count on held-out
    synthetic images), writes the four files, and calibrates the confidences on the held-out
    sets (`calibrate_files`)."""
    task = cfg.task
    held_real = real_slices(task, cfg.real_val)
    held_phantoms = phantom_slices(task, cfg.phantom_val_seeds, sagittal_offsets=(0,))
    onnx_path = out / f"{stem}.onnx"
    real_inputs = [preprocess(s.image, s.spacing, contract_spec).tensor for s in held_real[:4]]
    max_diff = export_and_verify(model, onnx_path, contract_spec, real_inputs=real_inputs)
    metrics = evaluate_files(onnx_path, contract_spec, cfg)
    sha = file_sha256(onnx_path)
    architecture = {**dataclasses.asdict(model.config), "params": parameter_count(model)}
    contract = contract_to_dict(contract_spec)
    contract["metadata"] = {
        "name": name or f"spinelabel-{task}-unet",
        "version": dt.date.today().isoformat(),
        "sha256": sha,
        "architecture": architecture,
    }
    info = {
        "task": task,
        "name": name,
        "file": onnx_path.name,
        "sha256": sha,
        "size_bytes": onnx_path.stat().st_size,
        "onnx_vs_torch_max_abs_diff": max_diff,
        "architecture": architecture,
        "metrics": metrics,
        "history": history,
        "training": training,
        "held_out": {
            "real": [s.source for s in held_real],
            "phantom": [s.source for s in held_phantoms],
        },
    }
    contract_path, metrics_path = out / f"{stem}.contract.json", out / f"{stem}.metrics.json"
    write_atomic(contract_path, json.dumps(contract, indent=2) + "\n")
    write_atomic(metrics_path, json.dumps(info, indent=2) + "\n")
    # Calibrated confidences and withholding thresholds on the same held-out data.
    calibrate_files(out / stem)
    contract = json.loads(contract_path.read_text(encoding="utf-8"))
    info = json.loads(metrics_path.read_text(encoding="utf-8"))
    return BuildResult(
        onnx_path=onnx_path,
        checkpoint_path=out / f"{stem}.pt",
        contract_path=contract_path,
        metrics_path=metrics_path,
        contract=contract,
        info=info,
        max_abs_diff=max_diff,
    )
