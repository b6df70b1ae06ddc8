"""Pre-label jobs: queue them (on request, or when cases are imported) and recover jobs
whose worker died. Running a job is inference.services.prelabel, called by the task."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from annotation.domain_events import CasesImported
from annotation.models import Case
from inference.announcements import job_announce
from inference.models import JobStatus, ModelStatus, ModelVersion, PrelabelJob
from inference.services.prelabel import job_fail
from inference.tasks import prelabel_case_task

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
QUEUE_UNREACHABLE = "the task queue could not be reached; ask for the pre-label again"


def _task_enqueue(job: PrelabelJob, *, project_id: int) -> None:
    """Hand the job to the task queue once the surrounding transaction commits. If the
    queue cannot take it (its broker is down), the job fails with that reason at once:
    no worker would ever pick it up, and nothing sweeps jobs that were never queued."""

    def enqueue() -> None:
        try:
            result = prelabel_case_task.enqueue(job.pk)
        except Exception:  # any broker or backend failure leaves the job unqueued
            logger.exception("pre-label job %s could not be queued", job.pk)
            job_fail(job, reason=QUEUE_UNREACHABLE, project_id=project_id)
            return
        PrelabelJob.objects.filter(pk=job.pk).update(task_id=str(result.id))

    transaction.on_commit(enqueue)


def prelabel_enqueue(*, case: Case, requested_by: User | None = None) -> PrelabelJob:
    """Create a job and hand it to the task queue once the transaction commits."""
    with transaction.atomic():
        job = PrelabelJob.objects.create(case=case, requested_by=requested_by)
        # Announced before the hand-over, so viewers hear "queued" before what follows.
        job_announce(job, project_id=case.project_id)
        _task_enqueue(job, project_id=case.project_id)
    return job


def prelabel_enqueue_many(
    *, cases: Iterable[Case], requested_by: User | None = None
) -> list[PrelabelJob]:
    return [prelabel_enqueue(case=case, requested_by=requested_by) for case in cases]


def prelabel_on_import(event: CasesImported) -> None:
    """Subscriber of CasesImported: queue pre-labelling of the new cases when the setting,
    the project and an active model allow it (settings.PRELABEL_ON_IMPORT,
    Project.prelabel_on_import)."""
    if not settings.PRELABEL_ON_IMPORT or not event.case_ids:
        return
    if not ModelVersion.objects.filter(status=ModelStatus.ACTIVE).exists():
        return
    cases = Case.objects.filter(pk__in=event.case_ids, project__prelabel_on_import=True)
    prelabel_enqueue_many(cases=cases.order_by("id"), requested_by=event.requested_by)


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
            reason = f"the worker stopped during the job {job.attempts} times; giving up"
            job_fail(job, reason=reason, project_id=job.case.project_id)
        else:
            with transaction.atomic():
                job.status = JobStatus.QUEUED
                job.message = "re-queued after its worker stopped"
                job.save(update_fields=["status", "message"])
                job_announce(job, project_id=job.case.project_id)
                _task_enqueue(job, project_id=job.case.project_id)
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
