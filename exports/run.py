"""Running an export (the task's body): cases stream through each format's writer into a
private folder, which is zipped atomically; progress goes to the requester's page.

The requester's rights are checked again when the task starts (a member demoted since the
request exports nothing), and the reads are chosen under them (blinding, unaided roles).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from annotation.models import Membership
from annotation.permissions import may_export
from exports.announcements import export_announce
from exports.archive import archive_write, work_folder, work_remove
from exports.bundle import ExportContext
from exports.formats import CaseWriter, ExportFormatError, format_get
from exports.models import ExportJob, ExportStatus
from exports.selectors import case_bundles, job_reads, selected_case_ids

logger = logging.getLogger(__name__)

# Progress is announced at most this often (seconds), and always at the end.
PROGRESS_EVERY_S = 0.5


def export_fail(job: ExportJob, *, reason: str) -> None:
    with transaction.atomic():
        job.status = ExportStatus.FAILED
        job.reason = reason[:2000]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "reason", "finished_at"])
        export_announce(job)


def _claim(job_id: int) -> ExportJob | None:
    """Move a queued job to running; None when another worker took it (or it ended)."""
    now = timezone.now()
    moved = ExportJob.objects.filter(pk=job_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING, started_at=now
    )
    if moved != 1:
        return None
    job = ExportJob.objects.select_related("project", "created_by").get(pk=job_id)
    export_announce(job)
    return job


def _context(job: ExportJob) -> ExportContext:
    return ExportContext(
        project_slug=job.project.slug,
        export_id=job.pk,
        template=job.project.template,
        selection={"kind": job.selection_kind, "value": job.selection_value},
        split=job.split,
        created_at=job.created_at.isoformat(),
    )


def _open_writers(job: ExportJob, folder: Path) -> list[CaseWriter]:
    context = _context(job)
    writers = []
    for name in job.formats:
        spec = format_get(name)
        if spec is None:
            raise ExportFormatError(f"the format {name!r} is no longer available")
        target = folder / name
        target.mkdir()
        writers.append(spec.open(target, context))
    return writers


def _progress(job: ExportJob, done: int) -> None:
    job.cases_done = done
    job.progress = done / job.cases_total if job.cases_total else 1.0
    job.save(update_fields=["cases_done", "progress"])
    export_announce(job)


def _write(job: ExportJob, folder: Path, role: str | None) -> None:
    reads = job_reads(job, role=role)
    case_ids = selected_case_ids(reads)
    if not case_ids:
        raise ExportFormatError("nothing to export: no read matches the selection any more")
    job.cases_total = len(case_ids)
    job.save(update_fields=["cases_total"])
    writers = _open_writers(job, folder)
    last = time.monotonic()
    bundles = case_bundles(reads=reads, case_ids=case_ids, project_id=job.project_id)
    for done, case in enumerate(bundles, start=1):
        for writer in writers:
            writer.write_case(case)
        if time.monotonic() - last >= PROGRESS_EVERY_S:
            _progress(job, done)
            last = time.monotonic()
    for writer in writers:
        writer.close()
    _progress(job, len(case_ids))


def export_run(*, job_id: int) -> ExportJob:
    """Run one queued export to success or failure; returns the job as it ended."""
    job = _claim(job_id)
    if job is None:
        return ExportJob.objects.get(pk=job_id)
    role = (
        Membership.objects.filter(project_id=job.project_id, user_id=job.created_by_id)
        .values_list("role", flat=True)
        .first()
    )
    if not may_export(role=role):
        export_fail(job, reason="the requester is no longer a lead or reviewer of the project")
        return job
    folder = work_folder(job.pk)
    try:
        _write(job, folder, role)
        name, size = archive_write(folder=folder, job_id=job.pk)
    except ExportFormatError as exc:
        export_fail(job, reason=str(exc))
        return job
    except Exception as exc:
        logger.exception("export %s failed", job.pk)
        export_fail(job, reason=f"the export failed ({type(exc).__name__}); see the server log")
        return job
    finally:
        work_remove(folder)
    with transaction.atomic():
        job.status = ExportStatus.SUCCEEDED
        job.file = name
        job.size_bytes = size
        job.finished_at = timezone.now()
        job.expires_at = job.finished_at + timedelta(hours=settings.EXPORT_LINK_HOURS)
        job.save(update_fields=["status", "file", "size_bytes", "finished_at", "expires_at"])
        export_announce(job)
    return job
