"""How much work waits in a project: cases per state and live claims per purpose. The same
for every member (no read, no person named), so live `queue.changed` events carry it."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from annotation.models import Case, CaseState, Claim, ClaimPurpose


def queue_counts(*, project_id: int) -> dict[str, Any]:
    """{"states": {state: cases}, "claimed": {purpose: unreleased claims}}, every key
    present; two queries."""
    states = dict.fromkeys(CaseState.values, 0)
    for state, n in (
        Case.objects.filter(project_id=project_id)
        .values_list("state")
        .annotate(n=Count("id"))
        .order_by()
    ):
        states[state] = n
    claimed = dict.fromkeys(ClaimPurpose.values, 0)
    for purpose, n in (
        # Unreleased claims, expired or not: the live `queue.changed` deltas count a claim
        # until it is released (an expired one when the queue sweeps it).
        Claim.objects.filter(case__project_id=project_id, released_at__isnull=True)
        .values_list("purpose")
        .annotate(n=Count("id"))
        .order_by()
    ):
        claimed[purpose] = n
    return {"states": states, "claimed": claimed}
