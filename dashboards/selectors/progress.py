"""The progress dashboard: cases by state per split, throughput per day, active time per
case, backlog with a finish-date forecast, claims in flight and each person's share and
returned-case rate. A fixed number of grouped queries, whatever the number of cases."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from annotation.models import (
    Case,
    CaseState,
    CaseTransition,
    Claim,
    ClaimPurpose,
    GoldSignature,
    Membership,
    Project,
    Read,
    ReadKind,
    ReadSubmission,
)
from dashboards.models import CaseActivity
from dashboards.selectors.summaries import not_enough

DEFAULT_WINDOW_DAYS = 30


def _window(date_from: dt.date | None, date_to: dt.date | None) -> tuple[dt.date, dt.date]:
    end = date_to or timezone.localdate()
    start = date_from or end - dt.timedelta(days=DEFAULT_WINDOW_DAYS - 1)
    return start, end


def _cases(project: Project, split: str | None, prefix: str = "") -> Q:
    q = Q(**{f"{prefix}project": project})
    if split is not None:
        q &= Q(**{f"{prefix}split": split})
    return q


def _states(project: Project, split: str | None) -> list[dict[str, Any]]:
    by_split: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(CaseState.values, 0))
    for s, state, n in (
        Case.objects.filter(_cases(project, split))
        .values_list("split", "state")
        .annotate(n=Count("id"))
        .order_by()
    ):
        by_split[s][state] = n
    return [
        {
            "split": s,
            "total": sum(states.values()),
            "by_state": states,
            "backlog": sum(states.values()) - states[CaseState.GOLD],
        }
        for s, states in sorted(by_split.items())
    ]


def day_range(field: str, start: dt.date | None, end: dt.date | None) -> Q:
    """`field` on the days start..end (inclusive, current time zone) as a range of instants,
    which PostgreSQL estimates (and indexes) where a cast to date per row it cannot: the
    cast made it expect 50 of 10,000 submissions and join them row by row."""
    q = Q()
    if start is not None:
        q &= Q(**{f"{field}__gte": timezone.make_aware(dt.datetime.combine(start, dt.time.min))})
    if end is not None:
        after = end + dt.timedelta(days=1)
        q &= Q(**{f"{field}__lt": timezone.make_aware(dt.datetime.combine(after, dt.time.min))})
    return q


def _per_day(
    rows: QuerySet[Any],
    field: str,
    start: dt.date,
    end: dt.date,
    by: str,
    count: str = "id",
    distinct: bool = False,
) -> list[tuple[Any, dt.date, int]]:
    return list(
        rows.filter(day_range(field, start, end))
        .annotate(day=TruncDate(field))
        .values_list(by, "day")
        .annotate(n=Count(count, distinct=distinct))
        .order_by()
    )


def _forecast(backlog: int, signed: int, days: int, end: dt.date) -> dict[str, Any]:
    if backlog == 0:
        return {"status": "ok", "finish_date": end.isoformat(), "days": 0.0}
    if signed == 0:
        return not_enough(0, f"needs at least one case signed between the window's {days} days")
    rate = signed / days
    remaining = backlog / rate
    finish = end + dt.timedelta(days=remaining)
    return {"status": "ok", "finish_date": finish.isoformat(), "days": remaining}


def _people(
    project: Project,
    split: str | None,
    submitted_days: list[tuple[Any, dt.date, int]],
    claims: dict[int, int],
) -> tuple[list[dict[str, Any]], float | None]:
    members = list(
        Membership.objects.filter(project=project)
        .order_by("user__username")
        .values_list("user_id", "user__username", "role")
    )
    humans = Read.objects.filter(_cases(project, split, "case__"), kind=ReadKind.HUMAN)
    by_state: dict[int, dict[str, int]] = defaultdict(dict)
    for author, state, n in (
        humans.values_list("author_id", "case__state").annotate(n=Count("id")).order_by()
    ):
        by_state[author][state] = n
    # Semi-joins (EXISTS), not a join to every submission counted DISTINCT (a sort).
    handed_in = Exists(ReadSubmission.objects.filter(read_id=OuterRef("pk")))
    submitted = dict(
        humans.filter(handed_in).values_list("author_id").annotate(n=Count("id")).order_by()
    )
    returned_case = CaseTransition.objects.filter(
        case_id=OuterRef("case_id"), to_state=CaseState.RETURNED
    )
    returned = dict(
        humans.filter(Exists(returned_case), handed_in)
        .values_list("author_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    active: dict[int, list[float]] = defaultdict(list)
    per_case: dict[int, float] = defaultdict(float)
    for user, case_id, seconds in CaseActivity.objects.filter(
        _cases(project, split, "case__")
    ).values_list("user_id", "case_id", "active_seconds"):
        active[user].append(seconds)
        per_case[case_id] += seconds
    days: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for user, day, n in sorted(submitted_days, key=lambda r: (r[0], r[1])):
        days[user].append({"date": day.isoformat(), "submitted": n})
    people = [
        {
            "user": user,
            "username": username,
            "role": role,
            "reads": sum(by_state[user].values()),
            "submitted": submitted.get(user, 0),
            "by_state": {s: by_state[user].get(s, 0) for s in CaseState.values},
            "median_active_s": statistics.median(active[user]) if active[user] else None,
            "returned": returned.get(user, 0),
            "returned_rate": (
                returned.get(user, 0) / submitted[user] if submitted.get(user) else None
            ),
            "claims_in_flight": claims.get(user, 0),
            "per_day": days[user],
        }
        for user, username, role in members
    ]
    overall = statistics.median(per_case.values()) if per_case else None
    return people, overall


def progress_summary(
    *,
    project: Project,
    split: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> dict[str, Any]:
    """The progress dashboard's JSON (docs/API.md, "Dashboards")."""
    return progress_summary_until(
        project=project, split=split, date_from=date_from, date_to=date_to
    )[0]


def progress_summary_until(
    *,
    project: Project,
    split: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> tuple[dict[str, Any], dt.datetime | None]:
    """The progress dashboard's JSON, and when it next changes without an event: the first
    expiry of a claim in flight (None: not before a domain event, or the next day)."""
    start, end = _window(date_from, date_to)
    splits = _states(project, split)
    by_state = dict.fromkeys(CaseState.values, 0)
    for row in splits:
        for state, n in row["by_state"].items():
            by_state[state] += n
    submissions = ReadSubmission.objects.filter(_cases(project, split, "read__case__"))
    submitted_days = _per_day(submissions, "submitted_at", start, end, "submitted_by_id")
    signatures = GoldSignature.objects.filter(_cases(project, split, "read__case__"))
    # A case signed twice on one day counts once (a submission joins one read, one case).
    signed_days = _per_day(
        signatures,
        "signed_at",
        start,
        end,
        "read__case__project_id",
        count="read__case_id",
        distinct=True,
    )
    claims_by_purpose = dict.fromkeys(ClaimPurpose.values, 0)
    claims_by_user: dict[int, int] = defaultdict(int)
    expiries: list[dt.datetime] = []
    for purpose, user, n, first in (
        Claim.objects.filter(
            _cases(project, split, "case__"),
            released_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .values_list("purpose", "user_id")
        .annotate(n=Count("id"), first=Min("expires_at"))
        .order_by()
    ):
        claims_by_purpose[purpose] += n
        claims_by_user[user] += n
        expiries.append(first)
    people, median_active = _people(project, split, submitted_days, claims_by_user)
    n_days = (end - start).days + 1
    submitted_on: dict[dt.date, int] = defaultdict(int)
    for _, day, n in submitted_days:
        submitted_on[day] += n
    signed_on: dict[dt.date, int] = defaultdict(int)
    for _, day, n in signed_days:
        signed_on[day] += n
    throughput = [
        {"date": d.isoformat(), "submitted": submitted_on[d], "signed": signed_on[d]}
        for d in (start + dt.timedelta(days=i) for i in range(n_days))
    ]
    signed = sum(signed_on.values())
    backlog = sum(by_state.values()) - by_state[CaseState.GOLD]
    body = {
        "project": project.slug,
        "filters": {
            "split": split,
            "from": date_from.isoformat() if date_from else None,
            "to": date_to.isoformat() if date_to else None,
        },
        "window": {"from": start.isoformat(), "to": end.isoformat(), "days": n_days},
        "total": sum(by_state.values()),
        "by_state": by_state,
        "splits": splits,
        "throughput": throughput,
        "backlog": backlog,
        "rate_per_day": signed / n_days,
        "forecast": _forecast(backlog, signed, n_days, end),
        "median_active_s": median_active,
        "claims_in_flight": claims_by_purpose,
        "people": people,
    }
    return body, min(expiries, default=None)
