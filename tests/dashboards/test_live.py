"""`dashboard.changed` reaches an open project socket after a save (progress) and after a
gold signature (progress and agreement), naming the case and never a read or its author;
the refetched dashboard then shows the change."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from tests.annotation.sockets import in_the_server_process, socket_open
from tests.dashboards.world import Study, study_create, study_shapes

pytestmark = pytest.mark.django_db(transaction=True)
WAIT_S = 10.0


async def _next_dashboard_event(socket: WebsocketCommunicator) -> dict[str, Any]:
    """The next `dashboard.changed`, skipping the project's other live events."""
    deadline = time.monotonic() + WAIT_S
    while True:
        left = deadline - time.monotonic()
        assert left > 0, "no dashboard.changed within the deadline"
        message: dict[str, Any] = await socket.receive_json_from(timeout=left)
        if message["type"] == "dashboard.changed":
            return message


def _save_through_the_api(study: Study) -> tuple[int, dict[str, Any]]:
    case = study.new_case(split="train")
    annotator = study.user("annotator")
    client = Client()
    client.force_login(annotator)
    read = client.post(f"/api/cases/{case.pk}/reads").json()
    answer = client.post(
        f"/api/reads/{read['id']}/revisions",
        data=json.dumps({"parent": None, "shapes": study_shapes(case, study.rng)}),
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    return case.pk, answer.json()


def _sign_case(study: Study, case_id: int) -> None:
    case = next(c for c in study.cases if c.pk == case_id)
    study.submit(case, study.user("annotator"))
    study.review(case)
    study.sign(case)


def _agreement(study: Study) -> Any:
    lead = Client()
    lead.force_login(study.user("lead"))
    return lead.get(f"/api/projects/{study.project.slug}/dashboard/agreement").json()


@pytest.mark.asyncio
async def test_a_lead_socket_is_told_of_a_save_and_of_a_signature(channel_layer, cast) -> None:
    study = await sync_to_async(study_create)(versions=1)
    lead = Client()
    await sync_to_async(lead.force_login)(study.user("lead"))
    with in_the_server_process():
        socket = await socket_open(lead, f"/ws/projects/{study.project.slug}/")
        case_id, _ = await sync_to_async(_save_through_the_api)(study)
        saved = await _next_dashboard_event(socket)
        assert saved == {
            "type": "dashboard.changed",
            "project": study.project.pk,
            "case": case_id,
            "split": "train",
            "parts": ["progress"],
        }
        assert (await sync_to_async(_agreement)(study))["n_gold"] == 0
        await sync_to_async(_sign_case)(study, case_id)
        parts: set[str] = set()
        while "agreement" not in parts:
            event = await _next_dashboard_event(socket)
            assert event["case"] == case_id
            assert "read_author" not in event
            parts |= set(event["parts"])
        body = await sync_to_async(_agreement)(study)
        assert body["n_gold"] == 1
        assert body["groups"][-2]["n_pairs"] == 1  # the annotators' read against the new gold
        await socket.disconnect()
