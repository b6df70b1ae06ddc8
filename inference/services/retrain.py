"""Retraining jobs: ask for one (a lead, or enough new train-split gold), announce its
progress, and clean up after a worker that died during one. The run itself is
inference.services.retrain_run, called by the task."""

from __future__ import annotations

import logging
import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotation.domain_events import GoldSigned
from annotation.live import event_publish, project_group
from annotation.models import Project, Split
from inference.models import (
    JobStatus,
    ModelStatus,
    ModelTask,
    ModelVersion,
    RetrainJob,
    RetrainPolicy,
    RetrainTrigger,
)
from inference.serializers import retrain_job_data
from inference.services.gold_data import gold_count
from inference.services.registry import model_checkpoint

logger = logging.getLogger(__name__)

OPEN_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
QUEUE_UNREACHABLE = "the task queue could not be reached; ask for the retraining again"
WORKER_LOST = "the worker stopped during retraining (killed or restarted); ask for it again"


class RetrainConflictError(Exception):
    """A run is already queued or running for this project and task (HTTP 409)."""

    def __init__(self, job: RetrainJob) -> None:
        super().__init__(
            f"retraining job #{job.pk} is already {job.status} for the {job.task} model"
        )
        self.job = job


def policy_of(project: Project) -> RetrainPolicy:
    """The project's retraining policy (unsaved defaults when it has none)."""
    policy = RetrainPolicy.objects.filter(project=project).first()
    return policy or RetrainPolicy(project=project)


def retrain_announce(job: RetrainJob) -> None:
    """`retrain.progress` with the job's state to the project, after commit."""
    event_publish(
        group=project_group(job.project_id),
        type="retrain.progress",
        payload={"job": retrain_job_data(job)},
    )


def _refusals(*, project: Project, task: str) -> tuple[dict[str, list[str]], int]:
    """Field-level reasons a run cannot start, and the train-split gold count."""
    errors: dict[str, list[str]] = {}
    if task not in ModelTask.values:
        return {"task": [f"unknown task {task!r}; use one of {ModelTask.values}"]}, 0
    active = ModelVersion.objects.filter(task=task, status=ModelStatus.ACTIVE).first()
    if active is None:
        errors["task"] = [f"no active {task} model to fine-tune: register and activate one"]
    elif model_checkpoint(active) is None:
        errors["task"] = [f"the active {task} model #{active.pk} has no training checkpoint"]
    train = gold_count(project=project, split=Split.TRAIN)
    if train == 0:
        errors["train"] = ["no signed gold in the train split: nothing to train on"]
    if gold_count(project=project, split=Split.TUNE) == 0:
        errors["tune"] = ["no signed gold in the tune split: nothing to evaluate the candidate on"]
    return errors, train


def retrain_request(
    *, project: Project, task: str, requested_by: User | None, trigger: str
) -> RetrainJob:
    """Queue one fine-tuning run of the task's active model on the project's gold.

    ValidationError (naming the field) when there is no train or tune gold or no model to
    start from; RetrainConflictError when a run is already queued or running for the
    project and task (the database allows one: two requests at once make one run)."""
    errors, train_count = _refusals(project=project, task=task)
    if errors:
        raise ValidationError(errors)
    policy = policy_of(project)
    recipe = {
        "epochs": policy.epochs,
        "steps_per_epoch": policy.steps_per_epoch,
        "batch_size": policy.batch_size,
    }
    try:
        with transaction.atomic():
            job = RetrainJob.objects.create(
                project=project, task=task, trigger=trigger, recipe=recipe,
                train_gold_count=train_count, requested_by=requested_by,
            )  # fmt: skip
            retrain_announce(job)
            _task_enqueue(job)
    except IntegrityError:
        running = RetrainJob.objects.filter(
            project=project, task=task, status__in=OPEN_STATUSES
        ).first()
        if running is None:  # it ended in between: the caller may simply ask again
            raise
        raise RetrainConflictError(running) from None
    return job


def _task_enqueue(job: RetrainJob) -> None:
    """Hand the job to the task queue after commit; fail it at once if the queue is down."""
    from inference.tasks import retrain_task

    def enqueue() -> None:
        try:
            result = retrain_task.enqueue(job.pk)
        except Exception:  # any broker failure leaves the job unqueued
            logger.exception("retrain job %s could not be queued", job.pk)
            retrain_fail(job, reason=QUEUE_UNREACHABLE)
            return
        RetrainJob.objects.filter(pk=job.pk).update(task_id=str(result.id))

    transaction.on_commit(enqueue)


def retrain_fail(job: RetrainJob, *, reason: str) -> None:
    """Store the job as failed with its reason and remove its working files."""
    with transaction.atomic():
        job.status = JobStatus.FAILED
        job.error = reason[:2000]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        retrain_announce(job)
    retrain_files_remove(job)


def retrain_work_dir(job: RetrainJob) -> Path:
    """Where a run writes before anything is registered (hidden in MODEL_DIR)."""
    return Path(settings.MODEL_DIR) / f".retrain-{job.pk}"


def retrain_files_remove(job: RetrainJob) -> None:
    """The run's working folder, and model files it moved into MODEL_DIR without their
    registration committing (a worker killed in between)."""
    shutil.rmtree(retrain_work_dir(job), ignore_errors=True)
    sha = (job.progress or {}).get("sha256")
    if sha and not ModelVersion.objects.filter(sha256=sha).exists():
        for suffix in (".onnx", ".pt"):
            (Path(settings.MODEL_DIR) / f"{sha}{suffix}").unlink(missing_ok=True)


def retrain_on_gold_signed(event: GoldSigned) -> None:
    """Subscriber of GoldSigned, after commit: start a run per task once the policy's number
    of new train-split gold cases were signed since the last run asked for."""
    from annotation.models import Case

    case = Case.objects.select_related("project").get(pk=event.case_id)
    if case.split != Split.TRAIN:
        return
    project = case.project
    threshold = max(1, policy_of(project).gold_threshold)
    count = gold_count(project=project, split=Split.TRAIN)
    for task in _orientations_drawn(event.revision_id) & set(ModelTask.values):
        last = RetrainJob.objects.filter(project=project, task=task).order_by("-id").first()
        since = count - (last.train_gold_count if last is not None else 0)
        if since < threshold:
            continue
        try:
            retrain_request(
                project=project, task=task, requested_by=None, trigger=RetrainTrigger.GOLD_COUNT
            )
        except (ValidationError, RetrainConflictError) as exc:
            logger.info("gold-count retraining of %s not started: %s", task, exc)


def _orientations_drawn(revision_id: int | None) -> set[str]:
    """The orientations of the series a gold revision draws on: a task whose images the new
    gold leaves blank has nothing new to learn from it."""
    from annotation.models import Image, Revision

    if revision_id is None:
        return set()
    revision = Revision.objects.filter(pk=revision_id).only("shapes").first()
    if revision is None:
        return set()
    ids = [int(key) for key, shapes in (revision.shapes or {}).items() if shapes]
    rows = Image.objects.filter(pk__in=ids).values_list("series__orientation", flat=True)
    return set(rows.distinct())


def retrain_sweep_stale(*, older_than_s: float | None = None) -> list[int]:
    """Runs left RUNNING by a dead worker fail with that reason (a fine-tuning run is long:
    the lead asks again rather than a worker silently starting over); their files go."""
    cutoff_s = settings.TASK_STALE_AFTER_S if older_than_s is None else older_than_s
    cutoff = timezone.now() - timedelta(seconds=cutoff_s)
    stale = RetrainJob.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lte=cutoff)
    swept = []
    for job in stale:
        _task_result_mark_failed(job.task_id)
        retrain_fail(job, reason=WORKER_LOST)
        swept.append(job.pk)
    return swept


def _task_result_mark_failed(task_id: str) -> None:
    from inference.services.jobs import _task_result_mark_failed as mark

    mark(task_id)
