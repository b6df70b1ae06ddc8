"""Fine-tune a model from its checkpoint on extra annotated slices (a project's gold), with
its own recipe's phantoms and real volumes; evaluate on a tune set; export and verify ONNX.

Everything is written into `out_dir`, which the caller owns (a temporary folder that it
moves into the registry, or removes, as one step).

A tune gold corrected from the active model's own pre-labels favours that model: in the demo
(manage.py demo_campaign) candidates score 2 to 10 points below it there. On independent truth
this recipe costs nothing: the shipped sagittal model fine-tuned with no new slice kept its
cord Dice on the real `t2` slices it never trained on (95.6 against 95.9 % pooled, 2026-12-07)."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.runtime.contract import ModelContract, contract_to_dict
from inference.runtime.preprocess import preprocess
from inference.runtime.sessions import create_session, file_sha256
from inference.training.augment import AugmentConfig
from inference.training.data import TrainingSlice, real_slices
from inference.training.evaluate import evaluate_slices
from inference.training.export import ExportError, export_and_verify
from inference.training.quantize import quantise_checked, training_slices
from inference.training.train import (
    TrainConfig,
    TrainProgress,
    load_checkpoint,
    save_checkpoint,
    train,
)

logger = logging.getLogger(__name__)

# Fine-tuning starts from trained weights: a smaller step and a short warm-up.
LR_FACTOR = 0.25
WARMUP_STEPS = 10
# Rehearsal on part of the recipe's phantoms keeps what the model knew (cord, canal and
# corners everywhere) at a fraction of their generation time (~1 s each on 2 cores).
REHEARSAL_PHANTOMS = 8
_TUPLES = ("input_size", "widths", "phantom_train_seeds", "phantom_val_seeds")


@dataclass(frozen=True)
class FinetuneResult:
    onnx_path: Path
    checkpoint_path: Path
    contract: dict[str, Any]
    tune_metrics: dict[str, Any]
    history: list[dict[str, Any]]
    max_abs_diff: float
    device: str
    seconds: float
    # Asked to quantise: the int8 record (quantize.quantise_checked's, with the float file's
    # sha256), or {"kept_float": why} when the float file was kept.
    quantisation: dict[str, Any] | None = None
    # The confidence calibration's report (calibrate.fit_calibration's), or why there is none.
    calibration: dict[str, Any] | None = None


def config_from_checkpoint(state: dict[str, Any]) -> TrainConfig:
    """The recipe the checkpoint was trained with (JSON lists back to tuples)."""
    raw = dict(state["train_config"])
    for key in _TUPLES:
        raw[key] = tuple(raw[key])
    raw["real_train"] = tuple(raw.get("real_train", ()))
    raw["real_val"] = tuple(raw.get("real_val", ()))
    augment: dict[str, Any] = {}
    for key, value in raw.get("augment", {}).items():
        augment[key] = tuple(value) if isinstance(value, list) else value
    raw["augment"] = AugmentConfig(**augment)
    return TrainConfig(**raw)


def tune_evaluator(
    tune: Sequence[TrainingSlice],
) -> Callable[[Any, ModelContract], dict[str, Any]]:
    """Metrics on the tune slices through the product's prediction path."""

    def evaluate(session: Any, contract: ModelContract) -> dict[str, Any]:
        return evaluate_slices(session, contract, tune)

    return evaluate


def finetune_and_export(
    *,
    checkpoint: Path,
    extra_train: Sequence[TrainingSlice],
    tune: Sequence[TrainingSlice],
    out_dir: Path,
    epochs: int,
    steps_per_epoch: int,
    batch_size: int,
    seed: int = 0,
    device: str = "auto",
    progress: Callable[[TrainProgress], None] | None = None,
    quantise: bool = False,
) -> FinetuneResult:
    """Fine-tunes the checkpoint's network, exports model.onnx + model.pt into `out_dir`
    and verifies ONNX Runtime against torch (ExportError at 1e-4 or more). With `quantise`
    (the base model was int8), model.onnx becomes the int8 network when its masks agree with
    the float one's on the tune slices; otherwise the float file stays, and the result says
    why."""
    _, state = load_checkpoint(checkpoint)
    base = config_from_checkpoint(state)
    cfg = dataclasses.replace(
        base,
        lr=base.lr * LR_FACTOR,
        warmup_steps=WARMUP_STEPS,
        phantom_train_seeds=base.phantom_train_seeds[:REHEARSAL_PHANTOMS],
        real_val=(),
        phantom_val_seeds=(),
    )
    evaluate = tune_evaluator(tune)
    result = train(
        task=cfg.task, epochs=epochs, steps_per_epoch=steps_per_epoch, batch_size=batch_size,
        seed=seed, device=device, progress=progress, config=cfg, extra_train=extra_train,
        init_from=checkpoint, evaluate=evaluate,
    )  # fmt: skip
    onnx_path = out_dir / "model.onnx"
    real_inputs = [preprocess(s.image, s.spacing, result.contract).tensor for s in tune[:4]]
    max_diff = export_and_verify(result.model, onnx_path, result.contract, real_inputs=real_inputs)
    quantisation = None
    if quantise:
        quantisation = _quantise_in_place(onnx_path, result.contract, cfg, extra_train, tune)
    tuned, calibration = _calibrate(onnx_path, result.contract, base)
    tune_metrics = evaluate(create_session(onnx_path), tuned)
    contract = contract_to_dict(tuned)
    contract["metadata"] = {
        **(state.get("contract", {}).get("metadata") or {}),
        "sha256": file_sha256(onnx_path),
        "fine_tuned_from": str(checkpoint.name),
    }
    checkpoint_path = out_dir / "model.pt"
    save_checkpoint(checkpoint_path, result.model, result.config, result.contract, result.history)
    history = json.loads(json.dumps(result.history, default=float))
    return FinetuneResult(
        onnx_path=onnx_path,
        checkpoint_path=checkpoint_path,
        contract=contract,
        tune_metrics=tune_metrics,
        history=history,
        max_abs_diff=max_diff,
        device=result.device,
        seconds=round(result.seconds, 1),
        quantisation=quantisation,
        calibration=calibration,
    )


def _calibrate(
    onnx_path: Path, contract: ModelContract, base: TrainConfig
) -> tuple[ModelContract, dict[str, Any]]:
    """The contract with its confidences calibrated as the shipped model's are, on the base
    recipe's held-out phantoms and real slices (fine-tuning trains on neither): without it a
    retrained model would draw every pre-label, withholding none (runtime.withhold)."""
    from inference.training.calibrate import calibrate_session

    held_out = {
        "phantom": [f"phantom:{seed}" for seed in base.phantom_val_seeds],
        "real": [s.source for s in real_slices(base.task, base.real_val)],
    }
    calibration, report = calibrate_session(create_session(onnx_path), contract, held_out)
    if calibration is None:
        return contract, {"skipped": report["skipped"]}
    return dataclasses.replace(contract, calibration=calibration), report


def _quantise_in_place(
    onnx_path: Path,
    contract: ModelContract,
    cfg: TrainConfig,
    extra_train: Sequence[TrainingSlice],
    tune: Sequence[TrainingSlice],
) -> dict[str, Any]:
    """Replaces the float `onnx_path` by its int8 network, calibrated on the slices it was
    fine-tuned on and checked on the tune slices (which it never saw); the float file stays
    when they disagree, and the record says why."""
    calibration = [*extra_train, *training_slices(cfg)]
    int8_path = onnx_path.with_name(f"{onnx_path.stem}.int8.onnx")
    float_sha, float_size = file_sha256(onnx_path), onnx_path.stat().st_size
    try:
        checked = quantise_checked(onnx_path, int8_path, contract, calibration, tune)
    except ExportError as exc:
        # The reason is shown on the models page: without the server's working path.
        return {"kept_float": str(exc).removeprefix(f"{onnx_path}: ")}
    except Exception as exc:  # ONNX Runtime's quantiser failing: the float model still serves
        logger.warning("quantising %s failed: %s", onnx_path.name, type(exc).__name__)
        int8_path.unlink(missing_ok=True)
        return {"kept_float": f"quantisation failed: {type(exc).__name__}: {exc}"}
    int8_path.replace(onnx_path)
    return {**checked, "float_sha256": float_sha, "float_size_bytes": float_size}
