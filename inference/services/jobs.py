"""Pre-label jobs: enqueue, run (predict, then write the model read in one transaction),
and recover jobs whose worker died.

A job computes everything before it writes anything, so a failure at any point leaves
no partial read: the job is marked failed with its reason and the case is unchanged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from annotation.live import case_group, event_publish, project_group
from annotation.models import Case, Image, Read, ReadKind, Series
from annotation.models.imaging import CaseState
from annotation.models.reads import RevisionSource
from annotation.pixels import pixel_read
from annotation.services.revisions import revision_create
from inference.models import JobStatus, ModelStatus, ModelVersion, PrelabelJob
from inference.runtime.contract import load_contract
from inference.runtime.predict import SlicePrediction, predict_slices, prediction_to_shapes
from inference.runtime.sessions import get_session
from inference.services.registry import model_path

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# Orientation of a series → the model task that reads it.
TASK_FOR_ORIENTATION = {"sagittal": "sagittal", "axial": "axial"}


class PrelabelError(Exception):
    """A job cannot run; the message is shown to users as the job's reason."""


def job_payload(job: PrelabelJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "case": job.case_id,
        "status": job.status,
        "progress": round(job.progress, 3),
        "message": job.message,
        "error": job.error,
        "read": job.read_id,
        "attempts": job.attempts,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def _announce(job: PrelabelJob, project_id: int) -> None:
    payload = {"job": job_payload(job)}
    event_publish(group=case_group(job.case_id), type="job.progress", payload=payload)
    event_publish(group=project_group(project_id), type="job.progress", payload=payload)


def prelabel_enqueue(*, case: Case, requested_by: User | None = None) -> PrelabelJob:
    """Create a job and hand it to the task queue once the transaction commits."""
    from inference.tasks import prelabel_case_task

    with transaction.atomic():
        job = PrelabelJob.objects.create(case=case, requested_by=requested_by)

        def enqueue() -> None:
            result = prelabel_case_task.enqueue(job.pk)
            PrelabelJob.objects.filter(pk=job.pk).update(task_id=str(result.id))

        transaction.on_commit(enqueue)
        _announce(job, case.project_id)
    return job


def prelabel_enqueue_many(
    *, cases: Iterable[Case], requested_by: User | None = None
) -> list[PrelabelJob]:
    return [prelabel_enqueue(case=case, requested_by=requested_by) for case in cases]


def _active_models() -> dict[str, ModelVersion]:
    return {
        version.task: version for version in ModelVersion.objects.filter(status=ModelStatus.ACTIVE)
    }


def _series_arrays(series: Series) -> tuple[list[Image], list[np.ndarray]]:
    images = list(series.images.order_by("index"))
    arrays = [
        pixel_read(image.pixel_path, dtype=series.dtype, rows=series.rows, columns=series.columns)
        for image in images
    ]
    return images, arrays


def _keypoint_slice(predictions: list[SlicePrediction]) -> int:
    """Seed 003 labels the corners on the slice that shows cord and canal largest."""

    def area(prediction: SlicePrediction) -> int:
        return sum(int(mask.sum()) for mask in prediction.masks.values())

    return max(range(len(predictions)), key=lambda i: area(predictions[i]))


def _heartbeat(
    job: PrelabelJob,
    *,
    progress: float,
    message: str,
    project_id: int,
    also: tuple[str, ...] = (),
) -> None:
    """Save the job's progress (and the fields named in `also`) in one write, then announce."""
    job.progress = progress
    job.message = message[:200]
    job.heartbeat_at = timezone.now()
    job.save(update_fields=["progress", "message", "heartbeat_at", *also])
    _announce(job, project_id)


def _predict_case(
    job: PrelabelJob, case: Case, models: dict[str, ModelVersion]
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, float], list[ModelVersion]]:
    series_list = [
        s for s in case.series.all() if TASK_FOR_ORIENTATION.get(s.orientation) in models
    ]
    if not series_list:
        raise PrelabelError("the case has no sagittal or axial series that a model can read")
    shapes: dict[str, list[dict[str, Any]]] = {}
    uncertainty: dict[str, float] = {}
    used: list[ModelVersion] = []
    delay = float(getattr(settings, "PRELABEL_DEBUG_DELAY_S", 0.0))
    for done, series in enumerate(series_list):
        version = models[TASK_FOR_ORIENTATION[series.orientation]]
        if version not in used:
            used.append(version)
        session = get_session(model_path(version), sha256=version.sha256)
        contract = load_contract(version.contract)
        images, arrays = _series_arrays(series)
        spacing = (series.pixel_spacing_row, series.pixel_spacing_col)
        predictions = predict_slices(session, contract, arrays, [spacing] * len(arrays))
        keep_keypoints = _keypoint_slice(predictions) if contract.heatmap is not None else -1
        for index, (image, prediction) in enumerate(zip(images, predictions, strict=True)):
            if index != keep_keypoints:
                prediction.keypoints = {}
            image_shapes = prediction_to_shapes(prediction)
            if image_shapes:
                shapes[str(image.pk)] = image_shapes
            uncertainty[str(image.pk)] = round(float(prediction.uncertainty), 5)
        if delay:
            time.sleep(delay)
        _heartbeat(
            job,
            progress=(done + 1) / (len(series_list) + 1),
            message=f"{series.orientation} series predicted",
            project_id=case.project_id,
        )
    return shapes, uncertainty, used


def prelabel_run(*, job_id: int) -> PrelabelJob:
    """Run one job to the end: a model read, or a failed job with its reason."""
    job = PrelabelJob.objects.select_related("case").get(pk=job_id)
    if job.status == JobStatus.SUCCEEDED:
        return job
    case = job.case
    now = timezone.now()
    job.status = JobStatus.RUNNING
    job.attempts += 1
    job.started_at = now
    job.error = ""
    _heartbeat(
        job,
        progress=0.0,
        message="loading the models",
        project_id=case.project_id,
        also=("status", "attempts", "started_at", "error"),
    )
    try:
        models = _active_models()
        if not models:
            raise PrelabelError("no active model: register one with manage.py register_model")
        shapes, uncertainty, used = _predict_case(job, case, models)
        with transaction.atomic():
            read = Read.objects.create(
                case=case,
                kind=ReadKind.MODEL,
                name="model · " + " + ".join(f"{v.task} #{v.pk}" for v in used),
            )
            revision_create(
                read=read,
                parent_id=None,
                shapes=shapes,
                source=RevisionSource.MODEL,
                message="pre-label",
            )
            job.model_versions.set(used)
            job.status = JobStatus.SUCCEEDED
            job.progress = 1.0
            job.message = f"{sum(len(v) for v in shapes.values())} shapes"
            job.read = read
            job.finished_at = timezone.now()
            job.uncertainty = uncertainty
            job.save()
            if case.state == CaseState.NEW:
                Case.objects.filter(pk=case.pk).update(state=CaseState.PRELABELLED)
                for group in (case_group(case.pk), project_group(case.project_id)):
                    event_publish(
                        group=group,
                        type="case.state_changed",
                        payload={"case": case.pk, "state": CaseState.PRELABELLED},
                    )
            _announce(job, case.project_id)
    except Exception as exc:
        logger.warning("pre-label job %s failed: %s", job.pk, type(exc).__name__)
        job.status = JobStatus.FAILED
        job.error = _reason(exc)
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        _announce(job, case.project_id)
    return job


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text[:2000]


def jobs_sweep_stale(*, older_than_s: float | None = None) -> list[int]:
    """Jobs left RUNNING by a dead worker: re-queue them (up to MAX_ATTEMPTS) or fail them.

    `older_than_s=0` treats every running job as lost: right at start-up of the only
    worker (the embedded default). With several workers, pass a cutoff longer than a
    job's heartbeat interval.
    """
    cutoff_s = settings.TASK_STALE_AFTER_S if older_than_s is None else older_than_s
    cutoff = timezone.now() - timedelta(seconds=cutoff_s)
    swept: list[int] = []
    stale = PrelabelJob.objects.select_related("case").filter(
        status=JobStatus.RUNNING, heartbeat_at__lte=cutoff
    )
    for job in stale:
        _task_result_mark_failed(job.task_id)
        if job.attempts >= MAX_ATTEMPTS:
            job.status = JobStatus.FAILED
            job.error = f"the worker stopped during the job {job.attempts} times; giving up"
            job.finished_at = timezone.now()
            job.save(update_fields=["status", "error", "finished_at"])
            _announce(job, job.case.project_id)
        else:
            from inference.tasks import prelabel_case_task

            job.status = JobStatus.QUEUED
            job.message = "re-queued after its worker stopped"
            job.save(update_fields=["status", "message"])
            result = prelabel_case_task.enqueue(job.pk)
            PrelabelJob.objects.filter(pk=job.pk).update(task_id=str(result.id))
            _announce(job, job.case.project_id)
        swept.append(job.pk)
    return swept


def _task_result_mark_failed(task_id: str) -> None:
    """The database backend leaves a killed task RUNNING forever; close it."""
    if not task_id or "django_tasks_db" not in settings.INSTALLED_APPS:
        return
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(id=task_id, status="RUNNING").update(
        status="FAILED", finished_at=timezone.now()
    )


def prelabel_after_import(
    *, case_ids: Iterable[int], requested_by: User | None = None
) -> list[PrelabelJob]:
    """Queue pre-labelling of newly imported cases when the setting, the project and an
    active model allow it (settings.PRELABEL_ON_IMPORT, Project.prelabel_on_import)."""
    if not settings.PRELABEL_ON_IMPORT:
        return []
    if not ModelVersion.objects.filter(status=ModelStatus.ACTIVE).exists():
        return []
    cases = Case.objects.filter(pk__in=list(case_ids), project__prelabel_on_import=True)
    return prelabel_enqueue_many(cases=cases.order_by("id"), requested_by=requested_by)
