"""Running one retraining job: fine-tune the active model on the train split's gold,
evaluate on the tune split's gold, export and verify, then register the candidate.

Everything is written into the job's working folder first; the candidate's files move into
MODEL_DIR and its record, with the job's success, commit in one step at the end. Anything
that fails before leaves no model: the job fails with its reason and its files go."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from annotation.models import Split
from inference.models import JobStatus, ModelStatus, ModelVersion, RetrainJob
from inference.runtime.contract import load_contract
from inference.runtime.sessions import file_sha256, get_session
from inference.selectors.drafted import cases_drafted_by
from inference.services.gold_data import gold_revisions, gold_slices
from inference.services.promotion import candidate_beats, contract_problems
from inference.services.registry import (
    model_checkpoint,
    model_path,
    model_promote,
    weights_precision,
)
from inference.services.retrain import (
    policy_of,
    retrain_announce,
    retrain_fail,
    retrain_files_remove,
    retrain_work_dir,
)
from inference.training.data import Task
from inference.training.evaluate import evaluate_slices
from inference.training.train import TrainProgress

logger = logging.getLogger(__name__)

# Live progress at most this often (each is a database write and a broadcast).
PROGRESS_EVERY_S = 1.0


class RetrainError(Exception):
    """The run cannot go on; the message is the job's reason."""


def _heartbeat(job: RetrainJob, **progress: Any) -> None:
    job.progress = {**(job.progress or {}), **progress}
    job.heartbeat_at = timezone.now()
    with transaction.atomic():
        job.save(update_fields=["progress", "heartbeat_at"])
        retrain_announce(job)


def _progress_reporter(job: RetrainJob) -> Any:
    last = [0.0]

    def report(update: TrainProgress) -> None:
        now = time.monotonic()
        end_of_epoch = update.metrics is not None
        if not end_of_epoch and now - last[0] < PROGRESS_EVERY_S:
            return
        last[0] = now
        fields: dict[str, Any] = {
            "stage": "training",
            "epoch": update.epoch,
            "epochs": update.epochs,
            "step": update.step,
            "steps": update.steps,
            "loss": round(update.loss, 5),
        }
        if update.metrics is not None:
            fields["tune"] = update.metrics.get("held_out", {})
            fields["epoch_seconds"] = round(update.metrics.get("seconds", 0.0), 2)
            if update.epoch == update.epochs:
                fields["stage"] = "exporting and verifying"
        _heartbeat(job, **fields)

    return report


def _start(job: RetrainJob) -> None:
    job.status = JobStatus.RUNNING
    job.attempts += 1
    job.started_at = timezone.now()
    job.heartbeat_at = timezone.now()
    job.error = ""
    job.progress = {"stage": "loading the gold standard"}
    with transaction.atomic():
        job.save(
            update_fields=["status", "attempts", "started_at", "heartbeat_at", "error", "progress"]
        )
        retrain_announce(job)


def _base_model(job: RetrainJob) -> tuple[ModelVersion, Path]:
    base = ModelVersion.objects.filter(task=job.task, status=ModelStatus.ACTIVE).first()
    if base is None:
        raise RetrainError(f"no active {job.task} model to fine-tune")
    checkpoint = model_checkpoint(base)
    if checkpoint is None:
        raise RetrainError(f"the active {job.task} model #{base.pk} has no training checkpoint")
    return base, checkpoint


def _gold(job: RetrainJob) -> tuple[list[Any], list[Any], dict[str, list[int]]]:
    task: Task = "sagittal" if job.task == "sagittal" else "axial"
    train_rev = gold_revisions(project=job.project, split=Split.TRAIN)
    tune_rev = gold_revisions(project=job.project, split=Split.TUNE)
    train = gold_slices(task=task, revisions=train_rev)
    tune = gold_slices(task=task, revisions=tune_rev)
    if not train:
        raise RetrainError(f"the train split's gold has no {job.task} slice with cord or canal")
    if not tune:
        raise RetrainError(f"the tune split's gold has no {job.task} slice with cord or canal")
    data = {"train": sorted(train_rev), "tune": sorted(tune_rev)}
    return train, tune, data


def _finetune(
    job: RetrainJob, base: ModelVersion, checkpoint: Path, train: list[Any], tune: list[Any]
) -> Any:
    from inference.training.finetune import finetune_and_export
    from inference.training.quantize import is_quantised

    work = retrain_work_dir(job)
    work.mkdir(parents=True, exist_ok=True)
    recipe = job.recipe or {}
    return finetune_and_export(
        checkpoint=checkpoint,
        extra_train=train,
        tune=tune,
        out_dir=work,
        epochs=int(recipe.get("epochs", 3)),
        steps_per_epoch=int(recipe.get("steps_per_epoch", 50)),
        batch_size=int(recipe.get("batch_size", 8)),
        seed=job.pk,
        device="auto",
        progress=_progress_reporter(job),
        # An int8 base (the shipped sagittal model) gets an int8 candidate, so that a retrain
        # does not give back the speed the int8 file bought.
        quantise=is_quantised(model_path(base)),
    )


def _move_into_store(source: Path, sha: str, suffix: str) -> str:
    relative = f"{sha}{suffix}"
    os.replace(source, Path(settings.MODEL_DIR) / relative)
    return relative


def _register(job: RetrainJob, base: ModelVersion, built: Any, metrics: dict[str, Any]) -> None:
    """The candidate's files and record, the job's success (and an automatic promotion):
    one transaction; a rename that fails rolls the record back."""
    sha = file_sha256(built.onnx_path)
    _heartbeat(job, stage="registering", sha256=sha)
    if ModelVersion.objects.filter(task=job.task, sha256=sha).exists():
        raise RetrainError("the fine-tuned model is identical to a registered one")
    manifest = {
        "source": "retrain",
        "retrain_job": job.pk,
        "project": job.project.slug,
        "base": base.pk,
        "recipe": job.recipe,
        "data": job.data,
        "device": built.device,
        "seconds": built.seconds,
        "onnx_vs_torch_max_abs_diff": built.max_abs_diff,
        "history": built.history,
        "quantisation": built.quantisation,
    }
    with transaction.atomic():
        candidate = ModelVersion.objects.create(
            task=job.task,
            name=f"{job.task} fine-tuned on {job.project.slug} (job #{job.pk})",
            file=f"{sha}.onnx",
            sha256=sha,
            size_bytes=built.onnx_path.stat().st_size,
            contract=built.contract,
            training_manifest=manifest,
            metrics=metrics,
            created_by=job.requested_by,
        )
        _move_into_store(built.checkpoint_path, sha, ".pt")
        _move_into_store(built.onnx_path, sha, ".onnx")
        job.candidate = candidate
        job.status = JobStatus.SUCCEEDED
        job.finished_at = timezone.now()
        job.progress = {**job.progress, "stage": "candidate registered"}
        job.save(update_fields=["candidate", "status", "finished_at", "progress"])
        _auto_promote(job, candidate, metrics)
        retrain_announce(job)


def _auto_promote(job: RetrainJob, candidate: ModelVersion, metrics: dict[str, Any]) -> None:
    policy = policy_of(job.project)
    if not policy.auto_promote or contract_problems(version=candidate, project=job.project):
        return
    if candidate_beats(candidate=metrics["tune"], active=metrics["base_tune"], policy=policy):
        model_promote(version=candidate)
        job.progress = {**job.progress, "promoted": True}
        job.save(update_fields=["progress"])


def _base_tune_metrics(base: ModelVersion, tune: list[Any]) -> dict[str, Any]:
    """The active model on the same tune gold, through the same path: what to beat."""
    session = get_session(model_path(base), sha256=base.sha256)
    return evaluate_slices(session, load_contract(base.contract), tune)


def retrain_run(*, job_id: int) -> RetrainJob:
    """Run one job to its end: a registered candidate, or a failed job with its reason."""
    job = RetrainJob.objects.select_related("project", "requested_by").get(pk=job_id)
    if job.status != JobStatus.QUEUED:
        return job  # finished, failed by a sweep, or another worker's
    _start(job)
    try:
        base, checkpoint = _base_model(job)
        train, tune, data = _gold(job)
        job.base = base
        job.data = data
        job.save(update_fields=["base", "data"])
        _heartbeat(job, stage="evaluating the active model on the tune gold")
        base_tune = _base_tune_metrics(base, tune)
        _heartbeat(job, stage="preparing the training data")
        built = _finetune(job, base, checkpoint, train, tune)
        metrics = {"tune": built.tune_metrics, "base_tune": base_tune}
        drafted = cases_drafted_by(model=base, case_ids=data["tune"])
        # The models page warns that this tune gold favours the active model.
        metrics["tune_drafted_by_base"] = {
            "model": base.pk,
            "cases": len(drafted),
            "of": len(data["tune"]),
        }
        if built.quantisation is not None:
            metrics["quantisation"] = built.quantisation
        if built.calibration is not None:
            metrics["calibration"] = built.calibration
        metrics["precision"] = weights_precision(built.onnx_path)
        _register(job, base, built, metrics)
    except Exception as exc:
        logger.warning("retrain job %s failed: %s", job.pk, type(exc).__name__)
        retrain_fail(job, reason=str(exc)[:2000] or type(exc).__name__)
    else:
        retrain_files_remove(job)
    return job
