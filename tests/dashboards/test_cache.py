"""The dashboards' answers are cached under the project's change counter of each dashboard:
a second request reads the counter and nothing else, and a save, a submission or a signature
(each bumps the counters of what it changes, in its own transaction) makes the next request
compute again and equal the uncached selectors. A claim's expiry, which no event
announces, ends the cached answer."""

from __future__ import annotations

import datetime as dt
import gc
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time

from annotation.models import Claim
from dashboards.selectors.agreement import agreement_summary
from dashboards.selectors.cached import cached_answer, dashboard_counter
from dashboards.selectors.progress import progress_summary
from dashboards.services.counter import dashboard_counter_bump
from tests.dashboards.world import Study, study_create

pytestmark = pytest.mark.django_db


def _get(client: Client, url: str) -> tuple[dict[str, Any], list[str]]:
    with CaptureQueriesContext(connection) as captured:
        answer = client.get(url)
    assert answer.status_code == 200, answer.content
    return answer.json(), [q["sql"] for q in captured.captured_queries]


def _counters(study: Study) -> tuple[int, int]:
    return (
        dashboard_counter(project_id=study.project.pk, part="progress"),
        dashboard_counter(project_id=study.project.pk, part="agreement"),
    )


def _lead(study: Study) -> Client:
    lead = Client()
    lead.force_login(study.user("lead"))
    return lead


@pytest.mark.parametrize("part", ["progress", "agreement"])
def test_a_second_request_reads_only_the_counter(cast: Any, part: str) -> None:
    study = study_create(seed=2)
    study.gold_case()
    lead = _lead(study)
    url = f"/api/projects/{study.project.slug}/dashboard/{part}?split=train"
    cold, cold_sql = _get(lead, url)
    warm, warm_sql = _get(lead, url)
    assert warm == cold
    assert len(warm_sql) < len(cold_sql)
    assert any("dashboards_dashboardcounter" in sql for sql in warm_sql)
    touched = ("dashboards_agreement", "dashboards_caseactivity", 'annotation_case"')
    assert not [sql for sql in warm_sql if any(t in sql for t in touched)], warm_sql
    # Other filters are other answers.
    other, _ = _get(lead, f"/api/projects/{study.project.slug}/dashboard/{part}")
    assert other["filters"]["split"] is None


def test_a_save_and_a_submission_refresh_the_cached_progress(cast: Any) -> None:
    study = study_create(seed=3)
    case = study.new_case()
    annotator = study.user("annotator")
    lead = _lead(study)
    url = f"/api/projects/{study.project.slug}/dashboard/progress"
    before, _ = _get(lead, url)
    counters = _counters(study)
    study.save(case, annotator)
    # A save changes progress only: the agreement answer stays cached.
    assert _counters(study) == (counters[0] + 1, counters[1])
    after_save, _ = _get(lead, url)
    person = next(p for p in after_save["people"] if p["user"] == annotator.pk)
    assert person["reads"] == 1
    assert after_save != before
    study.submit(case, annotator)
    # No gold, no overlap: the case has no agreement rows, the agreement answer stands.
    assert _counters(study)[0] > counters[0] + 1
    assert _counters(study)[1] == counters[1]
    after_submit, _ = _get(lead, url)
    person = next(p for p in after_submit["people"] if p["user"] == annotator.pk)
    assert person["submitted"] == 1
    assert after_submit == progress_summary(project=study.project)


def test_a_signature_refreshes_the_cached_agreement(cast: Any) -> None:
    study = study_create(seed=4)
    case = study.new_case()
    study.model_read(case, study.versions[0])
    study.annotated(case)
    study.review(case)
    lead = _lead(study)
    url = f"/api/projects/{study.project.slug}/dashboard/agreement"
    before, _ = _get(lead, url)
    assert before["n_gold"] == 0
    study.sign(case)
    after, _ = _get(lead, url)
    assert after["n_gold"] == 1
    assert after == agreement_summary(project=study.project)


class Undo(Exception):  # noqa: N818 - a signal, not an error
    """Raised inside transaction.atomic() to roll it back."""


def _bump_and_roll_back(project_id: int) -> None:
    with transaction.atomic():
        dashboard_counter_bump(project_id=project_id)
        raise Undo


def test_a_rolled_back_change_leaves_the_counter(cast: Any) -> None:
    study = study_create(seed=5)
    counters = _counters(study)
    with pytest.raises(Undo):
        _bump_and_roll_back(study.project.pk)
    assert _counters(study) == counters


def test_a_cached_progress_ends_when_its_first_claim_expires(cast: Any) -> None:
    study = study_create(seed=6)
    case = study.new_case()
    now = timezone.now()
    Claim.objects.create(
        case=case,
        user=study.user("annotator"),
        purpose="annotate",
        expires_at=now + dt.timedelta(minutes=10),
    )
    lead = _lead(study)
    url = f"/api/projects/{study.project.slug}/dashboard/progress"
    with freeze_time(now):
        during, _ = _get(lead, url)
        assert during["claims_in_flight"]["annotate"] == 1
        again, _ = _get(lead, url)
        assert again == during
    with freeze_time(now + dt.timedelta(minutes=11)):
        after, _ = _get(lead, url)
    assert after["claims_in_flight"]["annotate"] == 0


def test_the_collector_is_back_on_after_an_answer_even_a_failed_one(cast: Any) -> None:
    study = study_create(seed=10)
    lead = _lead(study)
    assert gc.isenabled()
    _get(lead, f"/api/projects/{study.project.slug}/dashboard/agreement")
    assert gc.isenabled()

    def fail() -> Any:
        raise RuntimeError("computation failed")

    with pytest.raises(RuntimeError):
        cached_answer(part="progress", project=study.project, filters={}, compute=fail)
    assert gc.isenabled()
