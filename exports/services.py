"""Requesting an export: check what was asked, record the job, hand it to the task queue.

Running it is ``exports.run``; the archive and its expiry are ``exports.archive``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from annotation.models import Membership, Project, Role, Split
from annotation.permissions import may_export, require
from exports.announcements import export_announce
from exports.archive import archives_purge_expired
from exports.formats import formats_registered
from exports.models import ExportJob, SelectionKind
from exports.run import export_fail
from exports.selectors import selected_reads
from exports.tasks import export_task
from inference.models import ModelVersion

logger = logging.getLogger(__name__)

EXPORT_RULE = "only the project's leads and reviewers export its reads"
QUEUE_UNREACHABLE = "the task queue could not be reached; request the export again"


class ExportRequestError(Exception):
    """A field of the request is wrong; ``field`` names it, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ExportRequest:
    split: str
    selection_kind: str
    selection_value: str
    formats: tuple[str, ...]


def _check_formats(formats: tuple[str, ...]) -> None:
    known = formats_registered()
    if not formats:
        raise ExportRequestError("formats", f"choose at least one format ({', '.join(known)})")
    unknown = [name for name in formats if name not in known]
    if unknown:
        raise ExportRequestError(
            "formats", f"unknown format {unknown[0]!r}: choose from {', '.join(known)}"
        )
    if len(set(formats)) != len(formats):
        raise ExportRequestError("formats", "a format is listed twice")


def _check_value(project: Project, kind: str, value: str) -> None:
    if kind == SelectionKind.GOLD:
        if value:
            raise ExportRequestError("selection.value", "the gold selection takes no value")
    elif kind == SelectionKind.GROUP:
        if value not in Role.values:
            choices = ", ".join(Role.values)
            raise ExportRequestError(
                "selection.value", f"a reader group is a role: one of {choices}"
            )
    elif kind == SelectionKind.ANNOTATOR:
        if (
            not value.isdigit()
            or not Membership.objects.filter(project=project, user_id=int(value)).exists()
        ):
            raise ExportRequestError(
                "selection.value", f"user {value!r} is not a member of this project"
            )
    elif kind == SelectionKind.MODEL:
        if not value.isdigit() or not ModelVersion.objects.filter(pk=int(value)).exists():
            raise ExportRequestError("selection.value", f"no model version {value!r}")
    else:
        choices = ", ".join(SelectionKind.values)
        raise ExportRequestError("selection.kind", f"unknown selection: choose {choices}")


def _nothing_selected(request: ExportRequest) -> str:
    where = f"the {request.split} split" if request.split else "this project"
    reasons: dict[str, str] = {
        SelectionKind.GOLD: f"no case in {where} has a signed gold standard",
        SelectionKind.GROUP: f"no {request.selection_value} has a saved read in {where}",
        SelectionKind.ANNOTATOR: f"this member has no saved read in {where}",
        SelectionKind.MODEL: f"this model version made no read in {where}",
    }
    return reasons.get(request.selection_kind, f"no reads match in {where}")


def export_request(
    *, project: Project, user: User, role: str | None, request: ExportRequest
) -> ExportJob:
    """Validate and queue an export; ExportRequestError (a 400) names the field."""
    require(may_export(role=role), EXPORT_RULE)
    if request.split and request.split not in Split.values:
        choices = ", ".join(Split.values)
        raise ExportRequestError("split", f"unknown split {request.split!r}: one of {choices}")
    _check_formats(request.formats)
    _check_value(project, request.selection_kind, request.selection_value)
    reads = selected_reads(
        project=project,
        kind=request.selection_kind,
        value=request.selection_value,
        split=request.split,
        user=user,
        role=role,
    )
    if not reads.exists():
        raise ExportRequestError("selection", f"nothing to export: {_nothing_selected(request)}")
    archives_purge_expired()
    with transaction.atomic():
        job = ExportJob.objects.create(
            project=project,
            split=request.split,
            selection_kind=request.selection_kind,
            selection_value=request.selection_value,
            formats=list(request.formats),
            created_by=user,
        )
        export_announce(job)
        transaction.on_commit(lambda: _enqueue(job))
    return job


def _enqueue(job: ExportJob) -> None:
    try:
        result = export_task.enqueue(job.pk)
    except Exception:  # a broker or backend failure leaves the job unqueued
        logger.exception("export %s could not be queued", job.pk)
        export_fail(job, reason=QUEUE_UNREACHABLE)
        return
    ExportJob.objects.filter(pk=job.pk).update(task_id=str(result.id))
