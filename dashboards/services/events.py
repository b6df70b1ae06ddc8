"""Domain-event subscribers of the dashboards (rows in config/subscribers.py): the
aggregates of the one affected case are updated in the publisher's transaction, and
`dashboard.changed` tells the project's open dashboards what to refetch after commit."""

from __future__ import annotations

from annotation.domain_events import (
    CaseStateChanged,
    ClaimChanged,
    GoldSigned,
    JobFinished,
    ReadSubmitted,
    RevisionSaved,
)
from annotation.live import event_publish, project_group
from annotation.models import Case, CaseState
from dashboards.services.activity import activity_record
from dashboards.services.agreement import agreement_case_refresh
from dashboards.services.counter import dashboard_counter_bump
from inference.models import JobStatus

DASHBOARD_CHANGED = "dashboard.changed"
PROGRESS = "progress"
AGREEMENT = "agreement"


def dashboard_changed_publish(*, project_id: int, case_id: int, parts: tuple[str, ...]) -> None:
    """Queue `dashboard.changed` for the project group (sent if and when the transaction
    commits). It names the case and its split, never a read or its author."""
    split = Case.objects.filter(pk=case_id).values_list("split", flat=True).first() or ""
    event_publish(
        group=project_group(project_id),
        type=DASHBOARD_CHANGED,
        payload={"project": project_id, "case": case_id, "split": split, "parts": list(parts)},
    )


def activity_on_save(event: RevisionSaved) -> None:
    """RevisionSaved, in the transaction: its author's activity on the case, and the
    project's dashboard change counter."""
    revision = event.revision
    project_id = Case.objects.values_list("project_id", flat=True).get(pk=revision.read.case_id)
    activity_record(revision=revision, project_id=project_id, case_id=revision.read.case_id)
    dashboard_counter_bump(project_id=project_id, parts=("progress",))


def dashboard_on_save(event: RevisionSaved) -> None:
    """RevisionSaved, after commit: progress changed (active time, throughput)."""
    read = event.revision.read
    project_id = Case.objects.values_list("project_id", flat=True).get(pk=read.case_id)
    dashboard_changed_publish(project_id=project_id, case_id=read.case_id, parts=(PROGRESS,))


def agreement_on_submit(event: ReadSubmitted) -> None:
    agreement_case_refresh(case_id=event.case_id)


def dashboard_on_submit(event: ReadSubmitted) -> None:
    dashboard_changed_publish(
        project_id=event.project_id, case_id=event.case_id, parts=(PROGRESS, AGREEMENT)
    )


def agreement_on_state(event: CaseStateChanged) -> None:
    """A case leaving gold (reopened) loses its rows against gold; reaching gold is
    handled by GoldSigned, published after the move."""
    if event.previous == CaseState.GOLD and event.state != CaseState.GOLD:
        agreement_case_refresh(case_id=event.case_id)


def dashboard_on_state(event: CaseStateChanged) -> None:
    gold = CaseState.GOLD in (event.previous, event.state)
    parts = (PROGRESS, AGREEMENT) if gold else (PROGRESS,)
    dashboard_changed_publish(project_id=event.project_id, case_id=event.case_id, parts=parts)


def agreement_on_gold(event: GoldSigned) -> None:
    agreement_case_refresh(case_id=event.case_id)


def dashboard_on_gold(event: GoldSigned) -> None:
    dashboard_changed_publish(
        project_id=event.project_id, case_id=event.case_id, parts=(PROGRESS, AGREEMENT)
    )


def agreement_on_job(event: JobFinished) -> None:
    """A model read arrived (its model versions are linked by now)."""
    if event.status == JobStatus.SUCCEEDED and event.read_id is not None:
        agreement_case_refresh(case_id=event.case_id)


def dashboard_on_job(event: JobFinished) -> None:
    if event.status == JobStatus.SUCCEEDED and event.read_id is not None:
        dashboard_changed_publish(
            project_id=event.project_id, case_id=event.case_id, parts=(AGREEMENT,)
        )


def dashboard_on_claim(event: ClaimChanged) -> None:
    dashboard_changed_publish(project_id=event.project_id, case_id=event.case_id, parts=(PROGRESS,))
