"""The whole review cycle through the API: the annotator submits, the reviewer takes the case
from the queue, pins a comment and returns it; it reappears in the annotator's queue with the
pin; the annotator resubmits and the reviewer signs the gold."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from annotation.models import Case, CaseState, Claim, ClaimPurpose, Image, Read, ReleaseReason
from tests.annotation.workflow import complete_shapes

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def _next_case(client: Client, slug: str) -> int | None:
    answer = _post(client, f"/api/projects/{slug}/queue/next")
    assert answer.status_code == 200, answer.content
    claim = answer.json()["claim"]
    return None if claim is None else int(claim["case"]["id"])


def _submit(client: Client, read: int) -> None:
    answer = _post(client, f"/api/reads/{read}/submit")
    assert answer.status_code in (200, 201), answer.content


def _save(client: Client, read: Read, shapes: dict[str, Any]) -> None:
    head = Read.objects.values_list("head_id", flat=True).get(pk=read.pk)
    answer = _post(client, f"/api/reads/{read.pk}/revisions", {"parent": head, "shapes": shapes})
    assert answer.status_code == 201, answer.content


def test_return_and_resubmit_then_sign(clients, project, case: Case, cast: dict[str, User]) -> None:
    slug = project.slug
    assert _next_case(clients["annotator"], slug) == case.pk
    mine = _post(clients["annotator"], f"/api/cases/{case.pk}/reads").json()
    read = Read.objects.get(pk=mine["id"])
    _save(clients["annotator"], read, complete_shapes(case))
    _submit(clients["annotator"], read.pk)
    assert Case.objects.get(pk=case.pk).state == CaseState.SUBMITTED

    assert _next_case(clients["reviewer"], slug) == case.pk
    assert Case.objects.get(pk=case.pk).state == CaseState.IN_REVIEW
    image = Image.objects.filter(series__case=case, series__orientation="sagittal").first()
    assert image is not None
    returned = _post(
        clients["reviewer"],
        f"/api/cases/{case.pk}/return",
        {
            "reason": "the canal is too wide",
            "comments": [{"body": "here", "read": read.pk, "image": image.pk, "x": 14, "y": 30}],
        },
    )
    assert returned.status_code == 200, returned.content
    review_claim = Claim.objects.get(case=case, purpose=ClaimPurpose.REVIEW)
    assert review_claim.release_reason == ReleaseReason.DECIDED

    # Back in the annotator's queue, with the pin on their read.
    assert _next_case(clients["annotator"], slug) == case.pk
    pins = clients["annotator"].get(f"/api/cases/{case.pk}/comments").json()
    assert [(p["image"], p["x"], p["y"], p["read"]) for p in pins] == [(image.pk, 14, 30, read.pk)]
    _save(clients["annotator"], read, complete_shapes(case))
    _submit(clients["annotator"], read.pk)

    assert _next_case(clients["reviewer"], slug) == case.pk
    composed = _post(
        clients["reviewer"],
        f"/api/cases/{case.pk}/gold/compose",
        {"parent": None, "structures": {"cord": {"from": read.pk}, "canal": {"from": read.pk}}},
    )
    assert composed.status_code == 201, composed.content
    signed = _post(
        clients["reviewer"], f"/api/cases/{case.pk}/gold/sign", {"revision": composed.json()["id"]}
    )
    assert signed.status_code == 201, signed.content
    assert Case.objects.get(pk=case.pk).state == CaseState.GOLD
    assert not Claim.objects.filter(case=case, released_at__isnull=True).exists()
