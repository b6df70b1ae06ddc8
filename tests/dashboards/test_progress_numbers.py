"""The progress dashboard's numbers equal an independent computation from the raw records:
cases by state and split, submissions and signatures per day, active time per case from the
revision timestamps (gaps over 5 minutes are idle), returned-case rate, claims in flight and
the finish-date forecast."""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections import defaultdict
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from annotation.models import (
    Case,
    CaseTransition,
    Claim,
    GoldSignature,
    Read,
    ReadKind,
    ReadSubmission,
    Revision,
)
from dashboards.services.rebuild import dashboards_rebuild
from tests.dashboards.world import Study, study_create

pytestmark = pytest.mark.django_db


def _spread_revisions(study: Study) -> None:
    """Give every person's revisions on a case gaps of 1, 10 and 2 minutes (the 10 is idle),
    starting a day apart per case, and recompute the aggregates from them."""
    start = timezone.now() - dt.timedelta(days=5)
    gaps = [60, 600, 120, 45]
    for k, case in enumerate(study.cases):
        revisions = Revision.objects.filter(read__case=case).order_by("read__author_id", "id")
        t = start + dt.timedelta(days=k % 3)
        for n, revision in enumerate(revisions):
            t += dt.timedelta(seconds=gaps[n % len(gaps)])
            Revision.objects.filter(pk=revision.pk).update(created_at=t)
    dashboards_rebuild(project_id=study.project.pk)


def _expected_active(study: Study) -> tuple[dict[int, list[float]], list[float]]:
    times: dict[tuple[int, int], list[dt.datetime]] = defaultdict(list)
    for case_id, author, at in (
        Revision.objects.filter(read__case__project=study.project, author__isnull=False)
        .order_by("created_at", "id")
        .values_list("read__case_id", "author_id", "created_at")
    ):
        times[(case_id, author)].append(at)
    per_user: dict[int, list[float]] = defaultdict(list)
    per_case: dict[int, float] = defaultdict(float)
    for (case_id, user), stamps in times.items():
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(stamps)]
        active = sum(g for g in gaps if g <= 300)
        per_user[user].append(active)
        per_case[case_id] += active
    return per_user, list(per_case.values())


def test_progress_equals_the_raw_records(cast: Any) -> None:
    study = study_create(seed=9, versions=1)
    for k in range(6):
        study.gold_case(split="train" if k % 3 else "test", overlap=k == 2)
    returned = study.new_case(split="train")
    study.annotated(returned)
    study.review(returned)
    study.give_back(returned)
    waiting = study.new_case(split="tune")
    study.save(waiting, study.user("annotator", 1))
    Claim.objects.create(
        case=waiting,
        user=study.user("annotator", 1),
        purpose="annotate",
        expires_at=timezone.now() + dt.timedelta(minutes=20),
    )
    _spread_revisions(study)
    lead = Client()
    lead.force_login(study.user("reviewer"))  # reviewers see what leads see, read-only
    body = lead.get(f"/api/projects/{study.project.slug}/dashboard/progress").json()

    states = Case.objects.filter(project=study.project)
    assert body["total"] == states.count() == 8
    assert body["by_state"]["gold"] == states.filter(state="gold").count() == 6
    assert body["by_state"]["returned"] == 1
    assert {s["split"]: s["backlog"] for s in body["splits"]} == {"test": 0, "train": 1, "tune": 1}
    assert body["backlog"] == 2

    days = {row["date"]: row for row in body["throughput"]}
    assert len(days) == 30
    submitted = ReadSubmission.objects.filter(read__case__project=study.project)
    today = timezone.localdate().isoformat()
    assert days[today]["submitted"] == submitted.count()
    assert days[today]["signed"] == GoldSignature.objects.values("read__case").distinct().count()
    assert body["rate_per_day"] == pytest.approx(6 / 30)
    finish = timezone.localdate() + dt.timedelta(days=2 / (6 / 30))
    assert body["forecast"] == {"status": "ok", "finish_date": finish.isoformat(), "days": 10.0}

    per_user, per_case = _expected_active(study)
    assert body["median_active_s"] == pytest.approx(statistics.median(per_case))
    people = {p["user"]: p for p in body["people"]}
    for user, values in per_user.items():
        assert people[user]["median_active_s"] == pytest.approx(statistics.median(values))
    assert 600 not in [round(v) for values in per_user.values() for v in values]

    annotator = study.user("annotator", 0)
    reads = Read.objects.filter(author=annotator, kind=ReadKind.HUMAN, submissions__isnull=False)
    on_returned = reads.filter(
        case__in=CaseTransition.objects.filter(to_state="returned").values("case")
    ).distinct()
    assert people[annotator.pk]["submitted"] == reads.distinct().count() == 7
    assert people[annotator.pk]["returned"] == on_returned.count() == 1
    assert people[annotator.pk]["returned_rate"] == pytest.approx(1 / 7)
    assert people[study.user("annotator", 1).pk]["claims_in_flight"] == 1
    assert body["claims_in_flight"]["annotate"] == 1

    only_test = lead.get(f"/api/projects/{study.project.slug}/dashboard/progress?split=test")
    assert only_test.json()["total"] == 2
