"""Study-report jobs: request one (queued after commit), run it (progress announced live),
write its HTML and CSV atomically under DATA_DIR/reports/<id>/ and record the outcome."""

from __future__ import annotations

import datetime
import logging
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from annotation.live import event_publish, project_group
from annotation.models import Project
from reports.build import report_build
from reports.models import ReportJob, ReportStatus
from reports.render import report_html
from reports.render_csv import report_csv
from reports.selectors import report_data

logger = logging.getLogger(__name__)

SPLITS = ("test", "tune", "train", "all")
QUEUE_UNREACHABLE = "the task queue could not be reached; ask for the report again"
WORKER_STOPPED = "the task worker stopped while generating the report; ask for it again"
# A 1,000-case report takes seconds: a job running for an hour lost its worker.
STALE_AFTER = datetime.timedelta(hours=1)
HTML_NAME = "report.html"
CSV_NAME = "report.csv"


def report_announce(job: ReportJob) -> None:
    """`report.progress` to the project's open pages (after the transaction commits)."""
    event_publish(
        group=project_group(job.project_id),
        type="report.progress",
        payload={
            "report": job.pk,
            "status": job.status,
            "progress": round(job.progress, 3),
            "stage": job.stage,
            "reason": job.reason,
        },
    )


def _job_update(job: ReportJob, **fields: object) -> None:
    for name, value in fields.items():
        setattr(job, name, value)
    with transaction.atomic():
        job.save(update_fields=list(fields))
        report_announce(job)


def report_fail(job: ReportJob, *, reason: str) -> None:
    _job_update(
        job, status=ReportStatus.FAILED, reason=reason, stage="failed", finished_at=timezone.now()
    )


def reports_sweep_stale(*, project: Project) -> list[int]:
    """Jobs left running by a dead worker (the database backend never ends them): failed
    with the reason, once they have run far longer than any report takes."""
    cutoff = timezone.now() - STALE_AFTER
    stale = list(
        ReportJob.objects.filter(
            project=project, status=ReportStatus.RUNNING, started_at__lt=cutoff
        )
    )
    for job in stale:
        report_fail(job, reason=WORKER_STOPPED)
    return [job.pk for job in stale]


def report_request(*, project: Project, requested_by: User | None, split: str) -> ReportJob:
    """A queued job, handed to the task queue once the transaction commits."""
    from reports.tasks import report_task

    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}")
    reports_sweep_stale(project=project)
    with transaction.atomic():
        job = ReportJob.objects.create(project=project, requested_by=requested_by, split=split)
        report_announce(job)

        def enqueue() -> None:
            try:
                result = report_task.enqueue(job.pk)
            except Exception:  # a broker or backend failure leaves the job unqueued
                logger.exception("report job %s could not be queued", job.pk)
                report_fail(job, reason=QUEUE_UNREACHABLE)
                return
            ReportJob.objects.filter(pk=job.pk).update(task_id=str(result.id))

        transaction.on_commit(enqueue)
    return job


def report_dir(job_id: int) -> Path:
    return Path(settings.DATA_DIR) / "reports" / str(job_id)


def _write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _claim(job_id: int) -> ReportJob | None:
    with transaction.atomic():
        job = ReportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != ReportStatus.QUEUED:
            return None
        job.status = ReportStatus.RUNNING
        job.started_at = timezone.now()
        job.stage = "reading the gold cases and their reads"
        job.progress = 0.05
        job.save(update_fields=["status", "started_at", "stage", "progress"])
        report_announce(job)
    return job


def report_run(*, job_id: int) -> ReportJob | None:
    """Generate the report of a queued job; None when it is not queued (already taken)."""
    job = _claim(job_id)
    if job is None:
        return None
    try:
        project = Project.objects.get(pk=job.project_id)
        data = report_data(project=project)

        def progress(fraction: float, stage: str) -> None:
            _job_update(job, progress=fraction, stage=stage)

        report = report_build(data, split=job.split, now=timezone.now(), progress=progress)
        progress(0.9, "writing the HTML and CSV files")
        html, csv = report_html(report), report_csv(report)
        folder = report_dir(job.pk)
        # Both files or neither: each is complete when renamed, and the job names them only
        # after both are in place.
        _write_atomic(folder / HTML_NAME, html)
        _write_atomic(folder / CSV_NAME, csv)
    except Exception as exc:
        logger.exception("report job %s failed", job.pk)
        report_fail(job, reason=f"the report could not be generated: {exc}")
        return job
    base = Path("reports") / str(job.pk)
    _job_update(
        job,
        status=ReportStatus.SUCCEEDED,
        progress=1.0,
        stage="done",
        html_path=str(base / HTML_NAME),
        csv_path=str(base / CSV_NAME),
        summary={
            "gold_cases": report.n_gold,
            "compared_cases": report.n_compared,
            "reads": data.reads_per_group,
        },
        finished_at=timezone.now(),
    )
    return job
