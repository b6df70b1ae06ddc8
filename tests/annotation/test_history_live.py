"""Queue counts and claims, live: a "Next case" claim reaches the project's open case lists
as claim.changed (no claimant named) and queue.changed with the change of the counts, which
the counts API answers in full."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from annotation import live
from annotation.models import Project, Split
from config.asgi import router
from tests.annotation.workflow import bare_cases

WAIT_S = 5


def _counts(client: Client, project: Project) -> dict[str, Any]:
    answer = client.get(f"/api/projects/{project.slug}/queue/counts")
    assert answer.status_code == 200, answer.content
    data: dict[str, Any] = answer.json()
    return data


@pytest.mark.django_db
def test_the_counts_name_cases_per_state_and_live_claims_per_purpose(clients, project) -> None:
    bare_cases(project, 3, split=Split.TRAIN)
    before = _counts(clients["reader"], project)
    assert before["states"]["new"] == 3
    assert set(before["claimed"]) == {"annotate", "read", "review"}
    assert sum(before["claimed"].values()) == 0
    claimed = clients["annotator"].post(f"/api/projects/{project.slug}/queue/next")
    assert claimed.json()["claim"] is not None
    after = _counts(clients["reader"], project)
    assert after["claimed"]["annotate"] == 1
    assert after["states"]["new"] == 2
    assert after["states"]["in_annotation"] == 1


async def _receive_until(socket: WebsocketCommunicator, wanted: str) -> dict[str, Any]:
    while True:
        event: dict[str, Any] = await socket.receive_json_from(timeout=WAIT_S)
        if event["type"] == wanted:
            return event


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_claim_reaches_the_case_list_with_the_new_counts(
    channel_layer, clients, project
) -> None:
    (case,) = await sync_to_async(bare_cases)(project, 1, split=Split.TRAIN)
    live.server_process_mark(asyncio.get_running_loop())
    cookie = clients["lead"].cookies["sessionid"].value
    socket = WebsocketCommunicator(
        router,
        f"/ws/projects/{project.slug}/",
        headers=[
            (b"cookie", f"sessionid={cookie}".encode()),
            (b"host", b"127.0.0.1"),
            (b"origin", b"http://127.0.0.1"),
        ],
    )
    try:
        connected, _ = await socket.connect()
        assert connected
        await sync_to_async(clients["annotator"].post)(f"/api/projects/{project.slug}/queue/next")
        claim = await _receive_until(socket, "claim.changed")
        assert claim == {
            "type": "claim.changed",
            "case": case.pk,
            "purpose": "annotate",
            "action": "claimed",
        }
        # The case left "new" for "in_annotation", and one annotate claim more.
        deltas = [(await _receive_until(socket, "queue.changed"))["delta"] for _ in range(2)]
        assert sorted(deltas, key=str) == sorted(
            [{"states": {"new": -1, "in_annotation": 1}}, {"claimed": {"annotate": 1}}], key=str
        )
        await socket.disconnect()
    finally:
        live._server_loop = None
