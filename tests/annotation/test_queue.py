"""Work queues: "Next case" offers what the user still owes under the study design, by split
priority then oldest first; claims expire, renew, and are released or reassigned by leads."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.db.models.expressions import Combinable
from django.test import Client
from django.utils import timezone

from annotation.models import Case, CaseState, CaseTransition, Claim, Project, ReleaseReason, Split
from annotation.selectors.queue import QUEUE_ORDERINGS, queue_ordering_register
from tests.annotation.workflow import bare_cases, member

pytestmark = pytest.mark.django_db


def _next(client: Client, project: Project) -> dict[str, Any] | None:
    response = client.post(f"/api/projects/{project.slug}/queue/next")
    assert response.status_code == 200, response.content
    claim: dict[str, Any] | None = response.json()["claim"]
    return claim


def _case_id(claim: dict[str, Any] | None) -> int:
    assert claim is not None
    case = claim["case"]
    assert isinstance(case, dict)
    return int(case["id"])


def test_next_takes_the_test_split_first_then_the_oldest(
    project: Project, clients: dict[str, Client]
) -> None:
    older_train, newer_train = bare_cases(project, 2, split=Split.TRAIN)
    (test_case,) = bare_cases(project, 1, split=Split.TEST)
    seen = []
    for _ in range(3):
        claim = _next(clients["annotator"], project)
        seen.append(_case_id(claim))
        assert claim is not None
        Claim.objects.filter(pk=claim["id"]).update(
            released_at=timezone.now(), release_reason=ReleaseReason.SUBMITTED
        )
    assert seen == [test_case.pk, older_train.pk, newer_train.pk]
    assert _next(clients["annotator"], project) is None


def test_a_claim_moves_the_case_into_annotation_and_logs_who(
    project: Project, cast: dict[str, User], clients: dict[str, Client]
) -> None:
    (case,) = bare_cases(project, 1, state=CaseState.PRELABELLED)
    claim = _next(clients["annotator"], project)
    assert claim is not None
    assert claim["purpose"] == "annotate"
    assert claim["slot"] == 1
    case.refresh_from_db()
    assert case.state == CaseState.IN_ANNOTATION
    move = CaseTransition.objects.get(case=case)
    assert (move.from_state, move.actor) == (CaseState.PRELABELLED, cast["annotator"])


def test_next_again_gives_back_the_claim_held(project: Project, clients: dict[str, Client]) -> None:
    bare_cases(project, 3)
    first = _next(clients["annotator"], project)
    again = _next(clients["annotator"], project)
    assert first is not None
    assert again is not None
    assert again["id"] == first["id"]
    assert again["expires_at"] >= first["expires_at"]


def test_two_annotators_get_different_cases_unless_the_case_is_an_overlap_case(
    project: Project, clients: dict[str, Client]
) -> None:
    (overlap,) = bare_cases(project, 1, overlap=True)
    (plain,) = bare_cases(project, 1)
    _second, second_client = member(project, "annotator")
    _third, third_client = member(project, "annotator")
    a = _next(clients["annotator"], project)
    b = _next(second_client, project)
    c = _next(third_client, project)
    assert (_case_id(a), _case_id(b), _case_id(c)) == (overlap.pk, overlap.pk, plain.pk)
    assert a is not None
    assert b is not None
    assert {a["slot"], b["slot"]} == {1, 2}
    _fourth, fourth_client = member(project, "annotator")
    assert _next(fourth_client, project) is None


def test_readers_owe_test_cases_only(project: Project, clients: dict[str, Client]) -> None:
    bare_cases(project, 2, split=Split.TRAIN)
    (test_case,) = bare_cases(project, 1, split=Split.TEST)
    claim = _next(clients["reader"], project)
    assert _case_id(claim) == test_case.pk
    assert claim is not None
    assert claim["purpose"] == "read"


def test_reviewers_take_submitted_cases_into_review(
    project: Project, clients: dict[str, Client]
) -> None:
    bare_cases(project, 2, state=CaseState.IN_ANNOTATION)
    (submitted,) = bare_cases(project, 1, state=CaseState.SUBMITTED)
    claim = _next(clients["reviewer"], project)
    assert _case_id(claim) == submitted.pk
    assert claim is not None
    assert claim["purpose"] == "review"
    submitted.refresh_from_db()
    assert submitted.state == CaseState.IN_REVIEW
    assert _next(clients["lead"], project) is None


def test_an_expired_claim_returns_to_the_queue_and_cannot_be_renewed(
    project: Project, clients: dict[str, Client]
) -> None:
    (case,) = bare_cases(project, 1)
    claim = _next(clients["annotator"], project)
    assert claim is not None
    Claim.objects.filter(pk=claim["id"]).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    before = list(Claim.objects.values())
    response = clients["annotator"].post(f"/api/claims/{claim['id']}/renew")
    assert response.status_code == 409
    assert response.json()["code"] == "stale_claim"
    assert "has ended" in response.json()["detail"]
    assert list(Claim.objects.values()) == before
    _second, second_client = member(project, "annotator")
    assert _case_id(_next(second_client, project)) == case.pk
    assert Claim.objects.get(pk=claim["id"]).release_reason == ReleaseReason.EXPIRED


def test_renewing_pushes_the_expiry_a_full_term(
    project: Project, clients: dict[str, Client], settings: object
) -> None:
    bare_cases(project, 1)
    claim = _next(clients["annotator"], project)
    assert claim is not None
    soon = timezone.now() + datetime.timedelta(seconds=5)
    Claim.objects.filter(pk=claim["id"]).update(expires_at=soon)
    response = clients["annotator"].post(f"/api/claims/{claim['id']}/renew")
    assert response.status_code == 200
    renewed = Claim.objects.get(pk=claim["id"]).expires_at
    assert renewed - soon > datetime.timedelta(minutes=29)


def test_someone_else_cannot_renew_or_release_a_claim(
    project: Project, clients: dict[str, Client]
) -> None:
    bare_cases(project, 1)
    claim = _next(clients["annotator"], project)
    assert claim is not None
    before = list(Claim.objects.values())
    assert clients["reader"].post(f"/api/claims/{claim['id']}/renew").status_code == 404
    assert clients["reviewer"].post(f"/api/claims/{claim['id']}/release").status_code == 403
    assert clients["outsider"].post(f"/api/claims/{claim['id']}/release").status_code == 404
    assert list(Claim.objects.values()) == before


def test_the_lead_lists_releases_and_reassigns_claims(
    project: Project, cast: dict[str, User], clients: dict[str, Client]
) -> None:
    bare_cases(project, 2)
    claim = _next(clients["annotator"], project)
    assert claim is not None
    listed = clients["lead"].get(f"/api/projects/{project.slug}/claims")
    assert [c["id"] for c in listed.json()] == [claim["id"]]
    assert clients["annotator"].get(f"/api/projects/{project.slug}/claims").status_code == 403
    other, _ = member(project, "annotator")
    moved = clients["lead"].post(
        f"/api/claims/{claim['id']}/reassign", {"user": other.pk}, content_type="application/json"
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["user"]["id"] == other.pk
    assert moved.json()["slot"] == claim["slot"]
    old = Claim.objects.get(pk=claim["id"])
    assert (old.release_reason, old.released_by) == (ReleaseReason.REASSIGNED, cast["lead"])
    released = clients["lead"].post(f"/api/claims/{moved.json()['id']}/release")
    assert released.status_code == 204
    assert not Claim.objects.filter(released_at__isnull=True).exists()


def test_a_claim_is_not_reassigned_to_a_member_of_another_queue(
    project: Project, cast: dict[str, User], clients: dict[str, Client]
) -> None:
    bare_cases(project, 1)
    claim = _next(clients["annotator"], project)
    assert claim is not None
    before = list(Claim.objects.values())
    for target, field in (
        (cast["reviewer"].pk, "a reviewer"),
        (cast["outsider"].pk, "not a member"),
    ):
        response = clients["lead"].post(
            f"/api/claims/{claim['id']}/reassign", {"user": target}, content_type="application/json"
        )
        assert response.status_code == 400
        assert field in str(response.json()["user"])
    assert list(Claim.objects.values()) == before


def test_a_reviewer_who_lets_go_puts_the_case_back_in_the_review_queue(
    project: Project, clients: dict[str, Client]
) -> None:
    (case,) = bare_cases(project, 1, state=CaseState.SUBMITTED)
    claim = _next(clients["reviewer"], project)
    assert claim is not None
    assert clients["reviewer"].post(f"/api/claims/{claim['id']}/release").status_code == 204
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED
    assert _case_id(_next(clients["lead"], project)) == case.pk


def test_the_ordering_is_pluggable(
    project: Project, clients: dict[str, Client], settings: object
) -> None:
    _older, newer = bare_cases(project, 2)

    @queue_ordering_register("newest_first_for_test")
    def newest_first(cases: QuerySet[Case], project: Project) -> list[Combinable | str]:
        return ["-created_at", "-id"]

    try:
        settings.QUEUE_ORDERING = "newest_first_for_test"  # type: ignore[attr-defined]
        assert _case_id(_next(clients["annotator"], project)) == newer.pk
    finally:
        QUEUE_ORDERINGS.pop("newest_first_for_test")


def test_the_case_page_names_the_claim_its_user_holds(
    project: Project, clients: dict[str, Client]
) -> None:
    (case,) = bare_cases(project, 1)
    assert b"data-claim=" not in clients["annotator"].get(f"/cases/{case.pk}/").content
    claim = _next(clients["annotator"], project)
    assert claim is not None
    page = clients["annotator"].get(f"/cases/{case.pk}/").content
    assert f'data-claim="{claim["id"]}"'.encode() in page
    assert b"data-claim=" not in clients["reviewer"].get(f"/cases/{case.pk}/").content
