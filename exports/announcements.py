"""What the requester's open project page hears of an export: ``export.progress``."""

from __future__ import annotations

from typing import Any

from annotation.live import event_publish, project_group
from exports.models import ExportJob


def export_data(job: ExportJob) -> dict[str, Any]:
    """The job as the API and the live event show it (no file path)."""
    return {
        "id": job.pk,
        "status": job.status,
        "progress": round(job.progress, 4),
        "cases_total": job.cases_total,
        "cases_done": job.cases_done,
        "reason": job.reason,
        "expires_at": job.expires_at.isoformat() if job.expires_at else None,
    }


def export_announce(job: ExportJob) -> None:
    """Sent after the surrounding transaction commits; only the requester's sockets get it
    (``export_owner``: annotation.permissions.may_see_export)."""
    event_publish(
        group=project_group(job.project_id),
        type="export.progress",
        payload={"export": export_data(job), "export_owner": job.created_by_id},
    )
