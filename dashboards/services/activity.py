"""Per person and case: revisions and active time, kept on every save (one row upsert).

Active time is the sum of the gaps between a person's consecutive revisions on a case that
are at most ACTIVE_GAP_S long; a longer gap is idle time and counts nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction

from annotation.models import Revision
from dashboards.models import CaseActivity

ACTIVE_GAP_S = 300.0


def active_gap(previous: datetime, at: datetime) -> float:
    gap = (at - previous).total_seconds()
    return gap if 0.0 <= gap <= ACTIVE_GAP_S else 0.0


def activity_record(*, revision: Revision, project_id: int, case_id: int) -> None:
    """Count one new revision by its author (inside the save's transaction)."""
    if revision.author_id is None:
        return
    at = revision.created_at
    with transaction.atomic():
        row = (
            CaseActivity.objects.select_for_update()
            .filter(case_id=case_id, user_id=revision.author_id)
            .first()
        )
        if row is None:
            CaseActivity.objects.create(
                project_id=project_id,
                case_id=case_id,
                user_id=revision.author_id,
                revisions=1,
                active_seconds=0.0,
                first_at=at,
                last_at=at,
            )
            return
        row.active_seconds += active_gap(row.last_at, at)
        row.revisions += 1
        row.last_at = max(row.last_at, at)
        row.save(update_fields=["active_seconds", "revisions", "last_at"])


def activity_rows_compute(
    revisions: Iterable[tuple[int, int, int, datetime]],
) -> list[CaseActivity]:
    """From-scratch rows from (project, case, author, created_at) sorted by case, author,
    time."""
    rows: dict[tuple[int, int], CaseActivity] = {}
    for project_id, case_id, user_id, at in revisions:
        row = rows.get((case_id, user_id))
        if row is None:
            rows[(case_id, user_id)] = CaseActivity(
                project_id=project_id,
                case_id=case_id,
                user_id=user_id,
                revisions=1,
                active_seconds=0.0,
                first_at=at,
                last_at=at,
            )
            continue
        row.active_seconds += active_gap(row.last_at, at)
        row.revisions += 1
        row.last_at = at
    return list(rows.values())
