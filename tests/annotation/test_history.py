"""The case history: one timeline of transitions, claims, submissions, comments, revisions
and signatures, oldest first, showing each user only what they may see (blinding)."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from annotation.models import Case, CaseState, Claim, Comment, ReadSubmission, StudyDesign
from annotation.services.cases import case_transition
from tests.annotation.review_helpers import Review, make_review

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def review(case: Case, cast: dict[str, User]) -> Review:
    """A case in review with an annotator's, a reader's and a model's read; a claim each,
    a submission, a comment on each human read, a composed and signed gold."""
    case_ = case
    Case.objects.filter(pk=case_.pk).update(state=CaseState.SUBMITTED)
    review = make_review(case=case_, cast=cast, state=CaseState.SUBMITTED)
    case_transition(case=case_, to_state=CaseState.IN_REVIEW, actor=cast["reviewer"])
    now = timezone.now()
    for name, purpose in (("annotator", "annotate"), ("reader", "read")):
        Claim.objects.create(
            case=case_,
            user=cast[name],
            purpose=purpose,
            expires_at=now + datetime.timedelta(minutes=30),
            released_at=now,
            release_reason="submitted",
            released_by=cast[name],
        )
    ReadSubmission.objects.create(
        read=review.annotator, revision_id=review.annotator.head_id, submitted_by=cast["annotator"]
    )
    for read, author in ((review.annotator, "annotator"), (review.reader, "reader")):
        Comment.objects.create(case=case_, read=read, body=f"note by {author}", author=cast[author])
    return review


def _sign(clients: dict[str, Client], review: Review) -> int:
    composed = _post(
        clients["reviewer"],
        f"/api/cases/{review.case.pk}/gold/compose",
        {"parent": None, "structures": {"cord": {"from": review.annotator.pk}}},
    )
    assert composed.status_code == 201, composed.content
    head: int = composed.json()["id"]
    signed = _post(
        clients["reviewer"], f"/api/cases/{review.case.pk}/gold/sign", {"revision": head}
    )
    assert signed.status_code == 201, signed.content
    return head


def _history(client: Client, case: Case) -> dict[str, Any]:
    answer = client.get(f"/api/cases/{case.pk}/history")
    assert answer.status_code == 200, answer.content
    data: dict[str, Any] = answer.json()
    return data


def test_the_reviewer_sees_every_kind_of_record_in_one_timeline_oldest_first(
    clients, review, cast
) -> None:
    gold_head = _sign(clients, review)
    data = _history(clients["reviewer"], review.case)
    events = data["events"]
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    kinds = {e["type"] for e in events}
    assert kinds == {
        "transition",
        "claim",
        "claim_released",
        "submission",
        "comment",
        "revision",
        "signature",
    }
    moves = [(e["from"], e["to"]) for e in events if e["type"] == "transition"]
    assert moves == [("submitted", "in_review"), ("in_review", "gold")]
    signature = next(e for e in events if e["type"] == "signature")
    assert (signature["revision"], signature["actor"]["username"]) == (gold_head, "reviewer")
    revised = {e["read"] for e in events if e["type"] == "revision"}
    assert revised == {r["id"] for r in data["reads"]}
    assert len(data["reads"]) == 4  # annotator, reader, model, gold
    assert {e["comment"]["body"] for e in events if e["type"] == "comment"} == {
        "note by annotator",
        "note by reader",
    }
    assert data["case"] == {
        "id": review.case.pk,
        "pseudonym": review.case.pseudonym,
        "state": "gold",
    }


def test_a_blinded_reader_sees_only_their_own_read_claims_and_comments(
    clients, review, cast
) -> None:
    _sign(clients, review)
    data = _history(clients["reader"], review.case)
    reads = {r["id"] for r in data["reads"]}
    assert reads == {review.reader.pk, review.model.pk}
    events = data["events"]
    assert {e["read"] for e in events if "read" in e and e["type"] != "comment"} <= reads
    assert all(e["type"] != "signature" for e in events)
    assert {e["comment"]["body"] for e in events if e["type"] == "comment"} == {"note by reader"}
    claimers = {e["actor"]["username"] for e in events if e["type"] == "claim"}
    assert claimers == {"reader"}
    assert not [e for e in events if e["type"] == "submission"]
    # The reviewer's moves may speak of other people's reads: their reasons are withheld.
    reasons = [e["reason"] for e in events if e["type"] == "transition"]
    assert reasons == [None, None]
    reviewer_sees = _history(clients["reviewer"], review.case)["events"]
    assert [e["reason"] for e in reviewer_sees if e["type"] == "transition"] == [
        "",
        "gold standard signed",
    ]


def test_without_blinding_every_member_sees_the_other_reads(clients, review, project) -> None:
    type(project).objects.filter(pk=project.pk).update(blinded=False)
    data = _history(clients["reader"], review.case)
    assert {r["id"] for r in data["reads"]} == {
        review.annotator.pk,
        review.reader.pk,
        review.model.pk,
    }
    assert {e["actor"]["username"] for e in data["events"] if e["type"] == "claim"} == {
        "annotator",
        "reader",
    }


def test_outsiders_and_anonymous_users_get_no_history(clients, review) -> None:
    assert clients["outsider"].get(f"/api/cases/{review.case.pk}/history").status_code == 404
    assert clients["anonymous"].get(f"/api/cases/{review.case.pk}/history").status_code in (
        401,
        403,
    )
    assert clients["outsider"].get(f"/cases/{review.case.pk}/history").status_code == 404


def test_the_history_page_embeds_the_case_for_every_member(clients, review) -> None:
    for role in ("annotator", "reader", "reviewer", "lead"):
        page = clients[role].get(f"/cases/{review.case.pk}/history")
        assert page.status_code == 200, role
        assert b'id="history-app"' in page.content
        assert b'id="case-data"' in page.content


def test_a_reader_kept_unaided_sees_neither_the_model_read_nor_its_comments(
    clients, review, cast
) -> None:
    Comment.objects.create(
        case=review.case, read=review.model, body="on the model", author=cast["reviewer"]
    )
    assert review.model.pk in {r["id"] for r in _history(clients["reader"], review.case)["reads"]}
    design = StudyDesign(project=review.case.project)
    design.aided = {**design.aided, "reader": False}
    design.save()
    data = _history(clients["reader"], review.case)
    assert {r["id"] for r in data["reads"]} == {review.reader.pk}
    assert {e["read"] for e in data["events"] if e["type"] == "revision"} == {review.reader.pk}
    assert "on the model" not in {e["comment"]["body"] for e in data["events"] if "comment" in e}
