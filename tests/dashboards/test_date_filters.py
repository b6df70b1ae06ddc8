"""The dashboards' `from` and `to` filters take whole days, both inclusive: a submission or a
gold signature at 23:59:59 counts on its day and not on the next (the filters are ranges of
instants, not a per-row cast to date)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from annotation.models import ReadSubmission
from dashboards.models import AgreementArea, AgreementField, AgreementRow
from dashboards.services.counter import dashboard_counter_bump
from tests.dashboards.world import Study, study_create

pytestmark = pytest.mark.django_db
LATE = dt.datetime(2026, 3, 1, 23, 59, 59, tzinfo=dt.UTC)


def _get(study: Study, part: str, query: str) -> dict[str, Any]:
    lead = Client()
    lead.force_login(study.user("lead"))
    answer = lead.get(f"/api/projects/{study.project.slug}/dashboard/{part}?{query}")
    assert answer.status_code == 200, answer.content
    body: dict[str, Any] = answer.json()
    return body


def test_progress_counts_a_late_submission_on_its_day(cast: Any) -> None:
    study = study_create(seed=8)
    case = study.new_case()
    study.save(case, study.user("annotator"))
    study.submit(case, study.user("annotator"))
    ReadSubmission.objects.filter(read__case=case).update(submitted_at=LATE)
    dashboard_counter_bump(project_id=study.project.pk)  # edited behind the services' back
    on_day = _get(study, "progress", "from=2026-03-01&to=2026-03-01")["throughput"]
    assert on_day == [{"date": "2026-03-01", "submitted": 1, "signed": 0}]
    next_day = _get(study, "progress", "from=2026-03-02&to=2026-03-02")["throughput"]
    assert next_day == [{"date": "2026-03-02", "submitted": 0, "signed": 0}]


def test_agreement_counts_a_late_signature_on_its_day(cast: Any) -> None:
    study = study_create(seed=9, versions=1)
    study.gold_case()
    for model in (AgreementRow, AgreementArea, AgreementField):
        model.objects.filter(project=study.project).update(reference_at=LATE)
    dashboard_counter_bump(project_id=study.project.pk)
    for query, pairs in (("from=2026-03-01&to=2026-03-01", 1), ("from=2026-03-02", 0)):
        body = _get(study, "agreement", query)
        group = next(g for g in body["groups"] if g["key"] == "annotators")
        assert group["n_pairs"] == pairs, query
        # The area table is filtered on its own copy of the date (models.RowCopy).
        assert ("sagittal cord" in body["structures"]) == bool(pairs), query
        if pairs:
            assert group["structures"]["sagittal cord"]["dice"]["n"] == 1
