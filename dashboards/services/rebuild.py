"""Recompute the dashboards' aggregates from scratch (the reference the incremental
subscribers must equal; also `manage.py dashboard_rebuild` after a bulk load)."""

from __future__ import annotations

from django.db import transaction

from annotation.models import Case, Revision
from dashboards.models import AgreementRow, CaseActivity
from dashboards.services.activity import activity_rows_compute
from dashboards.services.agreement import agreement_rows_compute, agreement_rows_save
from dashboards.services.counter import dashboard_counter_bump


def activity_rebuild(*, project_id: int) -> int:
    revisions = (
        Revision.objects.filter(read__case__project_id=project_id, author_id__isnull=False)
        .order_by("read__case_id", "author_id", "created_at", "id")
        .values_list("read__case__project_id", "read__case_id", "author_id", "created_at")
        .iterator(chunk_size=5000)
    )
    rows = activity_rows_compute(revisions)
    with transaction.atomic():
        CaseActivity.objects.filter(project_id=project_id).delete()
        CaseActivity.objects.bulk_create(rows, batch_size=2000)
        dashboard_counter_bump(project_id=project_id, parts=("progress",))
    return len(rows)


def agreement_rebuild(*, project_id: int) -> int:
    """Every case's rows computed again (cases without reads to pair cost two queries)."""
    rows: list[AgreementRow] = []
    for case_id in Case.objects.filter(project_id=project_id).values_list("pk", flat=True):
        rows += agreement_rows_compute(case_id=case_id)
    with transaction.atomic():
        AgreementRow.objects.filter(project_id=project_id).delete()
        agreement_rows_save(rows)
        dashboard_counter_bump(project_id=project_id, parts=("agreement",))
    return len(rows)


def dashboards_rebuild(*, project_id: int) -> tuple[int, int]:
    """(activity rows, agreement rows) of the project, recomputed."""
    return activity_rebuild(project_id=project_id), agreement_rebuild(project_id=project_id)
