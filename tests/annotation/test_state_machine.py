"""The case state machine: every legal move is made, logged and published; every illegal
one is refused naming the current state and the allowed ones, changing nothing."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from annotation.domain_events import CaseStateChanged
from annotation.models import Case, CaseState, CaseTransition, Project
from annotation.services import cases as case_service
from annotation.services.cases import (
    TRANSITIONS,
    IllegalTransitionError,
    ReasonRequiredError,
    case_state_move,
    case_transition,
    case_transitions_along,
)

S = CaseState
LEGAL = {
    (S.NEW, S.PRELABELLED),
    (S.NEW, S.IN_ANNOTATION),
    (S.PRELABELLED, S.IN_ANNOTATION),
    (S.IN_ANNOTATION, S.SUBMITTED),
    (S.SUBMITTED, S.IN_REVIEW),
    (S.IN_REVIEW, S.RETURNED),
    (S.IN_REVIEW, S.GOLD),
    (S.IN_REVIEW, S.SUBMITTED),
    (S.RETURNED, S.IN_ANNOTATION),
    (S.GOLD, S.IN_REVIEW),
}
ALL_PAIRS = list(itertools.product(S.values, repeat=2))


@pytest.fixture
def new_case(project: Project) -> Case:
    return Case.objects.create(project=project, pseudonym="SM-1", source_key="sm-1")


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[CaseStateChanged]:
    events: list[CaseStateChanged] = []
    real: Callable[..., None] = case_service.publish  # type: ignore[attr-defined]

    def spy(event: CaseStateChanged) -> None:
        events.append(event)
        real(event)

    monkeypatch.setattr(case_service, "publish", spy)
    return events


def _at(case: Case, state: str) -> Case:
    Case.objects.filter(pk=case.pk).update(state=state)
    case.refresh_from_db()
    return case


def test_the_table_is_the_issue_s_state_machine() -> None:
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == LEGAL


@pytest.mark.parametrize(("from_state", "to_state"), sorted(LEGAL))
def test_a_legal_move_is_made_logged_and_published(
    new_case: Case,
    cast: dict[str, User],
    published: list[CaseStateChanged],
    from_state: str,
    to_state: str,
) -> None:
    case = _at(new_case, from_state)
    actor = cast["reviewer"]
    transition = case_transition(case=case, to_state=to_state, actor=actor, reason="why not")
    case.refresh_from_db()
    assert case.state == to_state
    row = CaseTransition.objects.get()
    assert row == transition
    assert (row.from_state, row.to_state, row.actor, row.reason) == (
        from_state,
        to_state,
        actor,
        "why not",
    )
    assert [(e.case_id, e.previous, e.state, e.actor_id, e.transition_id) for e in published] == [
        (case.pk, from_state, to_state, actor.pk, row.pk)
    ]


@pytest.mark.parametrize(("from_state", "to_state"), [p for p in ALL_PAIRS if p not in LEGAL])
def test_an_illegal_move_is_refused_naming_the_state_and_changes_nothing(
    new_case: Case,
    cast: dict[str, User],
    published: list[CaseStateChanged],
    from_state: str,
    to_state: str,
) -> None:
    case = _at(new_case, from_state)
    with pytest.raises(IllegalTransitionError) as refused:
        case_transition(case=case, to_state=to_state, actor=cast["lead"], reason="because")
    error = refused.value
    assert error.status == 409
    assert error.extra["state"] == from_state
    assert error.extra["allowed"] == sorted(b for a, b in LEGAL if a == from_state)
    assert f"The case is {from_state}" in error.detail
    assert Case.objects.get(pk=case.pk).state == from_state
    assert not CaseTransition.objects.exists()
    assert published == []


@pytest.mark.parametrize("reason", ["", "   "])
def test_reopening_gold_needs_a_reason(new_case: Case, cast: dict[str, User], reason: str) -> None:
    case = _at(new_case, S.GOLD)
    with pytest.raises(ReasonRequiredError):
        case_transition(case=case, to_state=S.IN_REVIEW, actor=cast["lead"], reason=reason)
    assert Case.objects.get(pk=case.pk).state == S.GOLD
    assert not CaseTransition.objects.exists()


def test_the_conditional_move_loses_quietly_when_the_case_moved_on(new_case: Case) -> None:
    case = _at(new_case, S.IN_ANNOTATION)
    assert case_state_move(case=case, from_state=S.NEW, to_state=S.PRELABELLED) is False
    assert Case.objects.get(pk=case.pk).state == S.IN_ANNOTATION
    assert not CaseTransition.objects.exists()


def test_the_conditional_move_logs_the_system_as_actor(new_case: Case) -> None:
    assert case_state_move(case=new_case, from_state=S.NEW, to_state=S.PRELABELLED) is True
    row = CaseTransition.objects.get()
    assert (row.from_state, row.to_state, row.actor) == (S.NEW, S.PRELABELLED, None)


def test_the_conditional_move_refuses_a_move_off_the_table(new_case: Case) -> None:
    with pytest.raises(IllegalTransitionError):
        case_state_move(case=new_case, from_state=S.NEW, to_state=S.GOLD)
    assert Case.objects.get(pk=new_case.pk).state == S.NEW


def test_a_path_is_walked_from_where_the_case_stands(new_case: Case, cast: dict[str, User]) -> None:
    case = _at(new_case, S.RETURNED)
    path = (S.NEW, S.IN_ANNOTATION, S.SUBMITTED)
    with pytest.raises(IllegalTransitionError):
        case_transitions_along(case=case, path=path, actor=cast["annotator"])
    path = (S.RETURNED, S.IN_ANNOTATION, S.SUBMITTED)
    moves = case_transitions_along(case=case, path=path, actor=cast["annotator"])
    assert [(m.from_state, m.to_state) for m in moves] == [
        (S.RETURNED, S.IN_ANNOTATION),
        (S.IN_ANNOTATION, S.SUBMITTED),
    ]
    assert Case.objects.get(pk=case.pk).state == S.SUBMITTED


def _reopen(client: Client, case: Case, reason: str) -> Any:
    return client.post(
        f"/api/cases/{case.pk}/reopen", {"reason": reason}, content_type="application/json"
    )


def test_a_reviewer_reopens_a_gold_case_with_a_reason(
    new_case: Case, cast: dict[str, User], clients: dict[str, Client]
) -> None:
    case = _at(new_case, S.GOLD)
    response = _reopen(clients["reviewer"], case, "C5 corner misplaced")
    assert response.status_code == 200
    assert response.json()["state"] == S.IN_REVIEW
    row = CaseTransition.objects.get()
    assert (row.from_state, row.to_state, row.actor, row.reason) == (
        S.GOLD,
        S.IN_REVIEW,
        cast["reviewer"],
        "C5 corner misplaced",
    )


@pytest.mark.parametrize(
    ("who", "state", "reason", "status", "code"),
    [
        ("reviewer", S.GOLD, " ", 400, "reason_required"),
        ("lead", S.SUBMITTED, "why", 409, "not_gold"),
        ("annotator", S.GOLD, "why", 403, None),
        ("outsider", S.GOLD, "why", 404, None),
    ],
)
def test_a_bad_reopen_is_refused_by_name_and_changes_nothing(
    new_case: Case,
    clients: dict[str, Client],
    who: str,
    state: str,
    reason: str,
    status: int,
    code: str | None,
) -> None:
    case = _at(new_case, state)
    response = _reopen(clients[who], case, reason)
    assert response.status_code == status
    if code is not None:
        assert response.json()["code"] == code
    assert Case.objects.get(pk=case.pk).state == state
    assert not CaseTransition.objects.exists()
