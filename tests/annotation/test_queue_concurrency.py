"""Concurrent "Next case" calls on PostgreSQL never hand out the same slot, and a call costs
as many queries for 200 cases as for 10."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotation.models import Claim, Project
from annotation.services.projects import project_create
from annotation.services.queue import queue_next
from tests.annotation.workflow import bare_cases, member


def _race(project: Project, users: list[User]) -> list[int | None]:
    """Every user asks for the next case at the same moment; the cases they got."""
    start = threading.Barrier(len(users))
    got: dict[int, int | None] = {}
    errors: list[BaseException] = []

    def ask(user: User) -> None:
        try:
            start.wait()
            claim = queue_next(project=project, user=user, role="annotator")
            got[user.pk] = None if claim is None else claim.case_id
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return [got[u.pk] for u in users]


@pytest.mark.django_db(transaction=True)
def test_concurrent_next_calls_never_return_the_same_case() -> None:
    project = project_create(slug="race", name="Race")
    users = [member(project, "annotator")[0] for _ in range(8)]
    bare_cases(project, 5)
    got = _race(project, users)
    taken = [case for case in got if case is not None]
    assert len(taken) == 5
    assert len(set(taken)) == 5
    assert Claim.objects.filter(released_at__isnull=True).count() == 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_next_calls_fill_both_slots_of_overlap_cases_once() -> None:
    project = project_create(slug="race-overlap", name="Race overlap")
    users = [member(project, "annotator")[0] for _ in range(6)]
    bare_cases(project, 2, overlap=True)
    taken = Counter(case for case in _race(project, users) if case is not None)
    assert sorted(taken.values()) == [2, 2]
    slots = sorted(Claim.objects.values_list("case_id", "slot"))
    assert len(slots) == len(set(slots)) == 4


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["annotator", "reviewer"])
def test_next_costs_the_same_queries_for_200_cases_as_for_10(project: Project, role: str) -> None:
    counts = []
    for size in (10, 200):
        bare_cases(project, size, state="submitted" if role == "reviewer" else "new")
        _user, client = member(project, role)
        with CaptureQueriesContext(connection) as captured:
            response = client.post(f"/api/projects/{project.slug}/queue/next")
        assert response.status_code == 200
        assert response.json()["claim"] is not None
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
