"""Running one pre-label job: predict every series, then write the model read in one
transaction.

A job computes everything before it writes anything, so a failure at any point leaves
no partial read: the job is marked failed with its reason and the case is unchanged.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from annotation.domain_events import JobFinished, publish
from annotation.models import Case, Image, Read, ReadKind, Series
from annotation.models.imaging import CaseState
from annotation.models.reads import RevisionSource
from annotation.pixels import pixel_read
from annotation.services.cases import case_state_move
from annotation.services.revisions import revision_create
from inference.announcements import job_announce
from inference.models import JobStatus, ModelStatus, ModelVersion, PrelabelJob
from inference.runtime.contract import load_contract
from inference.runtime.keypoint_slice import keypoint_slice
from inference.runtime.lateral import limit_lateral_extent
from inference.runtime.predict import predict_slices
from inference.runtime.sessions import get_session
from inference.runtime.withhold import shapes_and_suggestions
from inference.services.registry import model_path

logger = logging.getLogger(__name__)

# Orientation of a series → the model task that reads it.
TASK_FOR_ORIENTATION = {"sagittal": "sagittal", "axial": "axial"}


class PrelabelError(Exception):
    """A job cannot run; the message is shown to users as the job's reason."""


def _active_models() -> dict[str, ModelVersion]:
    return {
        version.task: version for version in ModelVersion.objects.filter(status=ModelStatus.ACTIVE)
    }


def series_arrays(series: Series) -> tuple[list[Image], list[np.ndarray]]:
    images = list(series.images.order_by("index"))
    arrays = [
        pixel_read(image.pixel_path, dtype=series.dtype, rows=series.rows, columns=series.columns)
        for image in images
    ]
    return images, arrays


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
    job_announce(job, project_id=project_id)


Shapes = dict[str, list[dict[str, Any]]]


def _predict_series(
    series: Series, version: ModelVersion
) -> tuple[Shapes, dict[str, float], Shapes, str]:
    """Shapes, uncertainty and withheld suggestions per image id of one series, and a note
    in words of what its lateral extent left out ("" when nothing)."""
    session = get_session(model_path(version), sha256=version.sha256)
    contract = load_contract(version.contract)
    images, arrays = series_arrays(series)
    spacing = (series.pixel_spacing_row, series.pixel_spacing_col)
    positions = [image.position for image in images]
    predictions = predict_slices(
        session, contract, arrays, [spacing] * len(arrays), positions_mm=positions
    )
    # Before the keypoint slice is chosen: a cord drawn beside the spine must not win it.
    extent = limit_lateral_extent(predictions, positions, contract.postprocessing.lateral_extent_mm)
    keep_keypoints = keypoint_slice(predictions) if contract.heatmap is not None else -1
    shapes: Shapes = {}
    withheld: Shapes = {}
    uncertainty: dict[str, float] = {}
    for index, (image, prediction) in enumerate(zip(images, predictions, strict=True)):
        if index != keep_keypoints:
            prediction.keypoints = {}
        image_shapes, suggestions = shapes_and_suggestions(prediction, contract.calibration)
        if image_shapes:
            shapes[str(image.pk)] = image_shapes
        if suggestions:
            withheld[str(image.pk)] = suggestions
        uncertainty[str(image.pk)] = round(float(prediction.uncertainty), 5)
    return shapes, uncertainty, withheld, extent.summary() if extent is not None else ""


def _predict_case(
    job: PrelabelJob, case: Case, models: dict[str, ModelVersion]
) -> tuple[Shapes, dict[str, float], Shapes, list[ModelVersion], list[str]]:
    """Every series' shapes, uncertainty, withheld suggestions, the model versions used and
    the notes of what the sagittal lateral extent left out."""
    series_list = [
        s for s in case.series.all() if TASK_FOR_ORIENTATION.get(s.orientation) in models
    ]
    if not series_list:
        raise PrelabelError("the case has no sagittal or axial series that a model can read")
    shapes: Shapes = {}
    withheld: Shapes = {}
    uncertainty: dict[str, float] = {}
    used: list[ModelVersion] = []
    notes: list[str] = []
    for done, series in enumerate(series_list):
        version = models[TASK_FOR_ORIENTATION[series.orientation]]
        if version not in used:
            used.append(version)
        series_shapes, series_uncertainty, series_withheld, note = _predict_series(series, version)
        if note:
            notes.append(f"{series.orientation} {note}")
        shapes.update(series_shapes)
        uncertainty.update(series_uncertainty)
        withheld.update(series_withheld)
        _heartbeat(
            job,
            progress=(done + 1) / (len(series_list) + 1),
            message=f"{series.orientation} series predicted",
            project_id=case.project_id,
        )
    return shapes, uncertainty, withheld, used, notes


def _job_finished(job: PrelabelJob, *, project_id: int) -> JobFinished:
    return JobFinished(
        job_id=job.pk,
        case_id=job.case_id,
        project_id=project_id,
        status=job.status,
        # A failed write may leave a rolled-back read on the instance: only success has one.
        read_id=job.read_id if job.status == JobStatus.SUCCEEDED else None,
    )


def _write_model_read(
    job: PrelabelJob,
    case: Case,
    *,
    shapes: Shapes,
    uncertainty: dict[str, float],
    withheld: Shapes,
    used: list[ModelVersion],
    notes: list[str],
) -> None:
    """The model read, its revision, the job's success and the case's new state: one write."""
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
        held = sum(len(v) for v in withheld.values())
        job.message = (
            f"{sum(len(v) for v in shapes.values())} shapes"
            + (f", {held} withheld as suggestions" if held else "")
            + "".join(f"; {note}" for note in notes)
        )[:200]
        job.read = read
        job.finished_at = timezone.now()
        job.uncertainty = uncertainty
        job.withheld = withheld
        job.save()
        case_state_move(case=case, from_state=CaseState.NEW, to_state=CaseState.PRELABELLED)
        publish(_job_finished(job, project_id=case.project_id))


def prelabel_run(*, job_id: int) -> PrelabelJob:
    """Run one job to the end: a model read, or a failed job with its reason."""
    job = PrelabelJob.objects.select_related("case").get(pk=job_id)
    if job.status == JobStatus.SUCCEEDED:
        return job
    case = job.case
    job.status = JobStatus.RUNNING
    job.attempts += 1
    job.started_at = timezone.now()
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
        shapes, uncertainty, withheld, used, notes = _predict_case(job, case, models)
        _write_model_read(
            job,
            case,
            shapes=shapes,
            uncertainty=uncertainty,
            withheld=withheld,
            used=used,
            notes=notes,
        )
    except Exception as exc:
        logger.warning("pre-label job %s failed: %s", job.pk, type(exc).__name__)
        job_fail(job, reason=_reason(exc), project_id=case.project_id)
    return job


def job_fail(job: PrelabelJob, *, reason: str, project_id: int) -> None:
    """Store the job as failed with its reason, and publish JobFinished."""
    with transaction.atomic():
        job.status = JobStatus.FAILED
        job.error = reason
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        publish(_job_finished(job, project_id=project_id))


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text[:2000]
