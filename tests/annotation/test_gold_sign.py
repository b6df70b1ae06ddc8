"""Signing the gold (one wins when two sign at once; a later change is signed again) and
returning a case to its annotators with comments."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from annotation.models import (
    Case,
    CaseState,
    CaseTransition,
    Comment,
    GoldSignature,
    Image,
    Project,
    Read,
    ReadKind,
)
from tests.annotation.review_helpers import Review, make_review
from tests.factories import make_case


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _compose(client: Client, review: Review, parent: int | None = None) -> int:
    answer = _post(
        client,
        f"/api/cases/{review.case.pk}/gold/compose",
        {"parent": parent, "structures": {"cord": {"from": review.annotator.pk}}},
    )
    assert answer.status_code == 201, answer.content
    head: int = answer.json()["id"]
    return head


def _sign(client: Client, case: Case, revision: int) -> Any:
    return _post(client, f"/api/cases/{case.pk}/gold/sign", {"revision": revision})


def _foreign_image(project: Project) -> Image:
    """An image of another case of the same project."""
    return Image.objects.filter(series__case=make_case(project=project)).earliest("id")


@pytest.fixture
def review(case: Case, cast: dict[str, User]) -> Review:
    return make_review(case=case, cast=cast)


@pytest.mark.django_db
def test_signing_records_signer_and_time_and_moves_the_case_to_gold(clients, review, cast) -> None:
    head = _compose(clients["reviewer"], review)
    answer = _sign(clients["reviewer"], review.case, head)
    assert answer.status_code == 201, answer.content
    signature = GoldSignature.objects.get()
    assert (signature.revision_id, signature.signed_by) == (head, cast["reviewer"])
    assert answer.json() == {
        "revision": head,
        "signed_by": {"id": cast["reviewer"].pk, "username": "reviewer"},
        "signed_at": signature.signed_at.isoformat(),
        "read": signature.read_id,
        "case_state": "gold",
    }
    assert Case.objects.get(pk=review.case.pk).state == CaseState.GOLD
    move = CaseTransition.objects.filter(case=review.case).latest("id")
    assert (move.from_state, move.to_state, move.actor) == ("in_review", "gold", cast["reviewer"])
    payload = clients["lead"].get(f"/api/cases/{review.case.pk}/review").json()
    assert payload["gold"]["signed"] is True
    assert payload["gold"]["signature"]["signed_by"]["username"] == "reviewer"


@pytest.mark.django_db
def test_a_later_change_appends_and_is_signed_again(clients, review) -> None:
    first = _compose(clients["reviewer"], review)
    assert _sign(clients["reviewer"], review.case, first).status_code == 201
    second = _compose(clients["lead"], review, parent=first)
    payload = clients["lead"].get(f"/api/cases/{review.case.pk}/review").json()
    assert payload["gold"]["head"] == second
    assert payload["gold"]["signed"] is False  # the signature is of the older revision
    assert _sign(clients["lead"], review.case, second).status_code == 201
    assert list(GoldSignature.objects.order_by("id").values_list("revision_id", flat=True)) == [
        first,
        second,
    ]
    assert Case.objects.get(pk=review.case.pk).state == CaseState.GOLD


@pytest.mark.django_db
def test_signing_an_older_revision_answers_409_with_the_gold_head(clients, review) -> None:
    first = _compose(clients["reviewer"], review)
    second = _compose(clients["reviewer"], review, parent=first)
    answer = _sign(clients["lead"], review.case, first)
    assert answer.status_code == 409
    assert answer.json()["head"]["id"] == second
    assert answer.json()["signature"] is None
    assert not GoldSignature.objects.exists()
    assert Case.objects.get(pk=review.case.pk).state == CaseState.IN_REVIEW


@pytest.mark.django_db
def test_signing_a_signed_gold_answers_409_with_the_winners_signature(clients, review) -> None:
    head = _compose(clients["reviewer"], review)
    assert _sign(clients["reviewer"], review.case, head).status_code == 201
    answer = _sign(clients["lead"], review.case, head)
    assert answer.status_code == 409
    assert answer.json()["signature"]["signed_by"]["username"] == "reviewer"
    assert answer.json()["head"]["id"] == head
    assert GoldSignature.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["annotator", "reader"])
def test_only_reviewers_and_leads_sign(clients, review, role) -> None:
    head = _compose(clients["reviewer"], review)
    assert _sign(clients[role], review.case, head).status_code == 403
    assert not GoldSignature.objects.exists()


@pytest.mark.django_db
def test_a_case_not_in_review_is_not_signed(clients, review) -> None:
    head = _compose(clients["reviewer"], review)
    Case.objects.filter(pk=review.case.pk).update(state=CaseState.SUBMITTED)
    answer = _sign(clients["reviewer"], review.case, head)
    assert answer.status_code == 409
    assert answer.json()["state"] == "submitted"
    assert "in_review" in answer.json()["allowed"]
    assert not GoldSignature.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_signing_at_once_one_wins_the_other_gets_409(project, cast) -> None:
    review = make_review(case=make_case(project=project), cast=cast)
    clients = {}
    for name in ("reviewer", "lead"):
        clients[name] = Client()
        clients[name].force_login(cast[name])
    head = _compose(clients["reviewer"], review)
    start = threading.Barrier(2)
    answers: dict[str, Any] = {}

    def sign(name: str) -> None:
        try:
            start.wait()
            answers[name] = _sign(clients[name], review.case, head)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign, args=(name,)) for name in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(a.status_code for a in answers.values())
    assert statuses == [201, 409]
    winner = next(n for n, a in answers.items() if a.status_code == 201)
    loser = next(a for a in answers.values() if a.status_code == 409)
    assert loser.json()["signature"]["signed_by"]["username"] == winner
    assert loser.json()["head"]["id"] == head
    assert GoldSignature.objects.get().signed_by == cast[winner]
    assert CaseTransition.objects.filter(case=review.case, to_state="gold").count() == 1


# ----- return -----


def _return(client: Client, case: Case, body: dict[str, Any]) -> Any:
    return _post(client, f"/api/cases/{case.pk}/return", body)


@pytest.mark.django_db
def test_returning_moves_the_case_and_hands_over_the_pinned_comments(clients, review, cast) -> None:
    earlier = _post(
        clients["reviewer"],
        f"/api/cases/{review.case.pk}/comments",
        {"body": "canal too wide at C5", "read": review.annotator.pk},
    ).json()
    answer = _return(
        clients["reviewer"],
        review.case,
        {
            "reason": "corners off by a level",
            "comments": [
                {
                    "body": "C4 corner here",
                    "read": review.annotator.pk,
                    "image": review.sagittal.pk,
                    "x": 30.5,
                    "y": 8.0,
                }
            ],
        },
    )
    assert answer.status_code == 200, answer.content
    assert Case.objects.get(pk=review.case.pk).state == CaseState.RETURNED
    move = CaseTransition.objects.get(pk=answer.json()["transition"])
    assert (move.to_state, move.reason, move.actor) == (
        "returned",
        "corners off by a level",
        cast["reviewer"],
    )
    assert set(Comment.objects.filter(returned_with=move).values_list("id", flat=True)) == {
        earlier["id"],
        answer.json()["comments"][0]["id"],
    }
    # The annotator sees both, with the pin, on their read.
    seen = clients["annotator"].get(f"/api/cases/{review.case.pk}/comments").json()
    pinned = next(c for c in seen if c["body"] == "C4 corner here")
    assert (pinned["image"], pinned["x"], pinned["y"]) == (review.sagittal.pk, 30.5, 8.0)
    assert pinned["returned_with"] == move.pk
    assert len(seen) == 2


@pytest.mark.django_db
def test_a_return_with_a_pin_outside_the_case_changes_nothing(clients, review, project) -> None:
    image = _foreign_image(project)
    answer = _return(
        clients["reviewer"],
        review.case,
        {
            "comments": [
                {"body": "x", "read": review.annotator.pk, "image": image.pk, "x": 1, "y": 1}
            ]
        },
    )
    assert answer.status_code == 400
    assert answer.json()["image"] == [f"image {image.pk} is not an image of this case"]
    assert Case.objects.get(pk=review.case.pk).state == CaseState.IN_REVIEW
    assert not Comment.objects.exists()
    assert not CaseTransition.objects.filter(case=review.case).exists()


@pytest.mark.django_db
def test_returning_a_case_not_in_review_names_its_state(clients, review) -> None:
    Case.objects.filter(pk=review.case.pk).update(state=CaseState.GOLD)
    answer = _return(clients["lead"], review.case, {"reason": "again"})
    assert answer.status_code == 409
    assert answer.json()["state"] == "gold"
    assert answer.json()["allowed"] == ["in_review"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["annotator", "reader"])
def test_only_reviewers_and_leads_return(clients, review, role) -> None:
    assert _return(clients[role], review.case, {"reason": "no"}).status_code == 403
    assert Case.objects.get(pk=review.case.pk).state == CaseState.IN_REVIEW
    assert not Read.objects.filter(kind=ReadKind.GOLD).exists()
