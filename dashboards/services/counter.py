"""The project's dashboard change counters (DashboardCounter), bumped in the publisher's
transaction by the domain-event subscribers (config/subscribers.py) whose event changes a
dashboard's figures: the cached answers (dashboards/selectors/cached.py) are keyed on them."""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from django.db import connection

from annotation.domain_events import (
    CasesImported,
    CaseStateChanged,
    ClaimChanged,
    GoldSigned,
    JobFinished,
    ReadSubmitted,
)
from annotation.models import CaseState
from dashboards.models import DashboardCounter

Part = Literal["progress", "agreement"]
BOTH: tuple[Part, ...] = ("progress", "agreement")
_TABLE = DashboardCounter._meta.db_table


def dashboard_counter_bump(*, project_id: int, parts: Collection[str] = BOTH) -> None:
    """The named dashboards' counters + 1 (the row created on the first bump). One statement,
    atomic by itself: it joins the caller's transaction (the event's), so the new counter
    commits with the aggregates the event changed, or rolls back with them. (Concurrent
    publishers in one project wait on the row until the first commits.)"""
    steps = [int(part in parts) for part in BOTH]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_TABLE} (project_id, progress, agreement) VALUES (%s, %s, %s) "  # noqa: S608
            f"ON CONFLICT (project_id) DO UPDATE SET progress = {_TABLE}.progress + %s, "
            f"agreement = {_TABLE}.agreement + %s",
            [project_id, *steps, *steps],
        )


def counter_on_state(event: CaseStateChanged) -> None:
    """Every state counts on the progress dashboard; gold in or out on the agreement's."""
    gold = CaseState.GOLD in (event.previous, event.state)
    dashboard_counter_bump(project_id=event.project_id, parts=BOTH if gold else ("progress",))


def counter_on_claim(event: ClaimChanged) -> None:
    dashboard_counter_bump(project_id=event.project_id, parts=("progress",))


def counter_on_submit(event: ReadSubmitted) -> None:
    """The agreement's counter moves with the case's agreement rows (agreement_case_refresh)."""
    dashboard_counter_bump(project_id=event.project_id, parts=("progress",))


def counter_on_gold(event: GoldSigned) -> None:
    """The agreement's counter moves with the case's agreement rows (agreement_case_refresh)
    and with the case entering gold (counter_on_state)."""
    dashboard_counter_bump(project_id=event.project_id, parts=("progress",))


def counter_on_job(event: JobFinished) -> None:
    """A model version that pre-labelled a case of the project gets an agreement group."""
    dashboard_counter_bump(project_id=event.project_id)


def counter_on_import(event: CasesImported) -> None:
    """After the import's splits are assigned (their own transaction, after commit)."""
    dashboard_counter_bump(project_id=event.project_id)
