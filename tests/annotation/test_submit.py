"""Submit: the author hands a read in once the template's required shapes are there (or with
a reason); bad input is refused by name and changes nothing."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from annotation.models import (
    Case,
    CaseState,
    CaseTransition,
    Claim,
    Project,
    Read,
    ReadSubmission,
    ReleaseReason,
)
from tests.annotation.workflow import complete_shapes, human_read, member
from tests.factories import make_case

pytestmark = pytest.mark.django_db


def _submit(client: Client, read: Read, **body: Any) -> Any:
    return client.post(f"/api/reads/{read.pk}/submit", body, content_type="application/json")


def _snapshot() -> list[Any]:
    """Everything a submit may write."""
    return [
        list(Read.objects.values("id", "submitted_at")),
        list(Case.objects.values("id", "state")),
        list(ReadSubmission.objects.values()),
        list(CaseTransition.objects.values()),
        list(Claim.objects.values()),
    ]


@pytest.fixture
def case(project: Project) -> Case:
    return make_case(project=project)


def test_a_complete_read_is_submitted_and_the_case_moves_to_submitted(
    case: Case, cast: dict[str, User], clients: dict[str, Client]
) -> None:
    read = human_read(case, cast["annotator"], complete_shapes(case))
    response = _submit(clients["annotator"], read)
    assert response.status_code == 201, response.content
    assert response.json()["case_state"] == CaseState.SUBMITTED
    assert response.json()["missing"] == []
    read.refresh_from_db()
    assert read.submitted_at is not None
    moves = list(CaseTransition.objects.values_list("from_state", "to_state", "actor"))
    assert moves == [
        (CaseState.NEW, CaseState.IN_ANNOTATION, cast["annotator"].pk),
        (CaseState.IN_ANNOTATION, CaseState.SUBMITTED, cast["annotator"].pk),
    ]
    claim = Claim.objects.get()
    assert (claim.release_reason, claim.read) == (ReleaseReason.SUBMITTED, read)


def test_a_read_lacking_shapes_is_refused_with_the_list_and_nothing_changes(
    case: Case, cast: dict[str, User], clients: dict[str, Client]
) -> None:
    shapes = complete_shapes(case, leave_out=("cord", "C7_"))
    read = human_read(case, cast["annotator"], shapes)
    before = _snapshot()
    response = _submit(clients["annotator"], read)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "missing_shapes"
    messages = [m["message"] for m in body["missing"]]
    assert any("cord on the sagittal mid-slice" in m for m in messages)
    assert any("axial cord" in m for m in messages)
    corners = next(m for m in body["missing"] if m["code"] == "missing_keypoints")
    assert corners["names"] == ["C7_AS", "C7_AI", "C7_PS", "C7_PI"]
    assert _snapshot() == before


def test_implausible_corners_are_listed(
    case: Case, cast: dict[str, User], clients: dict[str, Client]
) -> None:
    read = human_read(case, cast["annotator"], complete_shapes(case, flip="C4"))
    response = _submit(clients["annotator"], read)
    assert response.status_code == 422
    messages = [m["message"] for m in response.json()["missing"]]
    assert "C4_AS should lie above C4_AI" in messages


def test_the_check_lists_what_is_missing_without_submitting(
    case: Case, cast: dict[str, User], clients: dict[str, Client]
) -> None:
    read = human_read(case, cast["annotator"], complete_shapes(case, leave_out=("canal",)))
    before = _snapshot()
    reply = clients["annotator"].get(f"/api/reads/{read.pk}/check").json()
    assert reply["ready"] is False
    assert [m["names"] for m in reply["missing"]] == [["canal"], ["canal"]]
    assert _snapshot() == before


def test_an_override_with_a_reason_submits_and_records_what_was_missing(
    case: Case, cast: dict[str, User], clients: dict[str, Client]
) -> None:
    read = human_read(case, cast["annotator"], complete_shapes(case, leave_out=("canal",)))
    response = _submit(clients["annotator"], read, override_reason="  canal not visible  ")
    assert response.status_code == 201
    submission = ReadSubmission.objects.get()
    assert submission.override_reason == "canal not visible"
    assert [m["names"] for m in submission.missing] == [["canal"], ["canal"]]
    assert CaseTransition.objects.last().reason == "canal not visible"  # type: ignore[union-attr]


@pytest.mark.parametrize(("who", "status"), [("reviewer", 403), ("lead", 403), ("reader", 404)])
def test_someone_else_s_read_is_refused(
    case: Case, cast: dict[str, User], clients: dict[str, Client], who: str, status: int
) -> None:
    read = human_read(case, cast["annotator"], complete_shapes(case))
    before = _snapshot()
    response = _submit(clients[who], read)
    assert response.status_code == status
    assert _snapshot() == before


def test_a_stale_claim_is_refused(
    case: Case, cast: dict[str, User], clients: dict[str, Client]
) -> None:
    read = human_read(case, cast["annotator"], complete_shapes(case))
    claim = clients["annotator"].post("/api/projects/cervical/queue/next").json()["claim"]
    Claim.objects.filter(pk=claim["id"]).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    before = _snapshot()
    response = _submit(clients["annotator"], read, claim=claim["id"])
    assert response.status_code == 409
    assert response.json()["code"] == "stale_claim"
    assert _snapshot() == before


@pytest.mark.parametrize("state", [CaseState.SUBMITTED, CaseState.IN_REVIEW, CaseState.GOLD])
def test_a_submit_from_the_wrong_state_is_a_409_naming_it(
    case: Case, cast: dict[str, User], clients: dict[str, Client], state: str
) -> None:
    read = human_read(case, cast["annotator"], complete_shapes(case))
    Case.objects.filter(pk=case.pk).update(state=state)
    before = _snapshot()
    response = _submit(clients["annotator"], read)
    assert response.status_code == 409
    assert response.json()["state"] == state
    assert f"The case is {state}" in response.json()["detail"]
    assert _snapshot() == before


def test_a_read_is_submitted_once(
    case: Case, cast: dict[str, User], clients: dict[str, Client]
) -> None:
    read = human_read(case, cast["annotator"], complete_shapes(case))
    assert _submit(clients["annotator"], read).status_code == 201
    Case.objects.filter(pk=case.pk).update(state=CaseState.IN_ANNOTATION)
    assert _submit(clients["annotator"], read).status_code == 409


def test_an_overlap_case_waits_for_its_second_annotator(
    case: Case, project: Project, cast: dict[str, User], clients: dict[str, Client]
) -> None:
    Case.objects.filter(pk=case.pk).update(overlap=True)
    second, second_client = member(project, "annotator")
    first_read = human_read(case, cast["annotator"], complete_shapes(case))
    second_read = human_read(case, second, complete_shapes(case))
    assert _submit(clients["annotator"], first_read).json()["case_state"] == "in_annotation"
    assert _submit(second_client, second_read).json()["case_state"] == "submitted"
    assert sorted(Claim.objects.values_list("slot", flat=True)) == [1, 2]
