"""Live updates: a new revision reaches another open view of the case, after commit only,
on the embedded in-memory layer and on Redis (each test runs on both, see `channel_layer`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from annotation import live
from annotation.live import case_group, event_publish, project_group
from annotation.models import Image, LiveEvent
from tests.annotation.sockets import in_the_server_process, socket_for, socket_open

pytestmark = pytest.mark.django_db(transaction=True)
MARKER: dict[str, Any] = {"type": "job.progress", "job": {"id": 7}}
# Deadline for an expected event (met in milliseconds; generous for a loaded 2-core machine).
WAIT_S = 5


@contextlib.asynccontextmanager
async def _relay_running(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """The outbox relay of the embedded server, from the moment it has read its start."""
    started = threading.Event()
    latest = live._latest_outbox_id

    def latest_then_started() -> int:
        value = latest()
        started.set()
        return value

    # Rows written before the relay reads its starting point are never forwarded.
    monkeypatch.setattr(live, "_latest_outbox_id", latest_then_started)
    stop = asyncio.Event()
    relay = asyncio.create_task(live.relay_run(stop=stop))
    assert await asyncio.to_thread(started.wait, 5)
    try:
        yield
    finally:
        stop.set()
        await relay


def _save(client: Client, read_id: int, image_id: int, parent: int | None) -> dict[str, Any]:
    shape = {"label": "cord", "shape_type": "polygon", "points": [[1, 1], [9, 1], [9, 9]]}
    response = client.post(
        f"/api/reads/{read_id}/revisions",
        data=json.dumps({"parent": parent, "shapes": {str(image_id): [shape]}}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    data: dict[str, Any] = response.json()
    return data


def _annotate(client: Client, case: Any) -> dict[str, Any]:
    """A new read of `client`'s user on the case, saved once; returns the revision."""
    read = client.post(f"/api/cases/{case.pk}/reads")
    image = Image.objects.filter(series__case=case).earliest("id")
    return _save(client, read.json()["id"], image.pk, None)


async def _expect_revision_events(socket: WebsocketCommunicator, saved: dict[str, Any]) -> None:
    message = await socket.receive_json_from(timeout=WAIT_S)
    assert message["type"] == "revision.saved"
    assert message["revision"]["id"] == saved["id"]
    measured = await socket.receive_json_from(timeout=WAIT_S)
    expected = {
        "type": "measurement.updated",
        "revision": saved["id"],
        "read": saved["read"],
        "read_author": message["read_author"],
    }
    assert {key: measured.get(key) for key in expected} == expected


@pytest.mark.asyncio
async def test_another_view_of_the_case_sees_the_new_revision(channel_layer, clients, case) -> None:
    with in_the_server_process():
        viewer = await socket_open(clients["reviewer"], f"/ws/cases/{case.pk}/")
        saved = await sync_to_async(_annotate)(clients["annotator"], case)
        await _expect_revision_events(viewer, saved)
        await viewer.disconnect()


@pytest.mark.asyncio
async def test_an_outsider_socket_is_refused(channel_layer, clients, case) -> None:
    socket = socket_for(clients["outsider"], f"/ws/cases/{case.pk}/")
    connected, code = await socket.connect()
    assert not connected
    assert code == 4403


@pytest.mark.asyncio
async def test_a_blinded_reader_gets_no_events_about_other_reads(
    channel_layer, clients, case
) -> None:
    with in_the_server_process():
        reader = await socket_open(clients["reader"], f"/ws/cases/{case.pk}/")
        reviewer = await socket_open(clients["reviewer"], f"/ws/cases/{case.pk}/")
        saved = await sync_to_async(_annotate)(clients["annotator"], case)
        # An event after the save's: the first one the reader gets, so none came before it.
        await sync_to_async(event_publish)(
            group=case_group(case.pk), type=MARKER["type"], payload={"job": MARKER["job"]}
        )
        assert await reader.receive_json_from(timeout=WAIT_S) == MARKER
        await _expect_revision_events(reviewer, saved)
        assert await reviewer.receive_json_from(timeout=WAIT_S) == MARKER
        await reader.disconnect()
        await reviewer.disconnect()


@pytest.mark.parametrize("channel_layer", ["memory"], indirect=True)
def test_the_worker_writes_to_the_outbox_when_it_cannot_reach_the_server(
    channel_layer, settings, clients, case
) -> None:
    settings.LIVE_OUTBOX_ENABLED = True
    _annotate(clients["annotator"], case)
    events = [(e.group, e.type) for e in LiveEvent.objects.order_by("id")]
    # The measurements of a save made away from the server reach browsers the same way, and
    # so does the dashboards' notice to the project.
    assert events == [
        (f"case.{case.pk}", "revision.saved"),
        (f"case.{case.pk}", "measurement.updated"),
        (f"project.{case.project_id}", "dashboard.changed"),
    ]


@pytest.mark.asyncio
async def test_a_save_away_from_the_server_reaches_open_sockets(
    channel_layer, settings, monkeypatch, clients, case
) -> None:
    # In memory through the outbox and the server's relay; on Redis straight to the layer.
    settings.LIVE_OUTBOX_ENABLED = True
    async with contextlib.AsyncExitStack() as stack:
        if channel_layer == "memory":
            await stack.enter_async_context(_relay_running(monkeypatch))
        viewer = await socket_open(clients["reviewer"], f"/ws/cases/{case.pk}/")
        saved = await sync_to_async(_annotate)(clients["annotator"], case)
        await _expect_revision_events(viewer, saved)
        await viewer.disconnect()
    rows = await sync_to_async(LiveEvent.objects.count)()
    # revision.saved, measurement.updated and the project's dashboard.changed.
    assert rows == (3 if channel_layer == "memory" else 0)


@pytest.mark.asyncio
@pytest.mark.parametrize("channel_layer", ["memory"], indirect=True)
async def test_the_relay_forwards_outbox_events_to_sockets(
    channel_layer, monkeypatch, clients, case
) -> None:
    viewer = await socket_open(clients["reviewer"], f"/ws/cases/{case.pk}/")
    async with _relay_running(monkeypatch):
        await sync_to_async(LiveEvent.objects.create)(
            group=f"case.{case.pk}", type=MARKER["type"], payload=MARKER
        )
        assert await viewer.receive_json_from(timeout=WAIT_S) == MARKER
    await viewer.disconnect()


@pytest.mark.asyncio
async def test_a_project_socket_gets_job_progress_and_refuses_outsiders(
    channel_layer, clients, case
) -> None:
    path = f"/ws/projects/{case.project.slug}/"
    outsider = socket_for(clients["outsider"], path)
    assert (await outsider.connect())[0] is False
    with in_the_server_process():
        lead = await socket_open(clients["lead"], path)
        await sync_to_async(event_publish)(
            group=project_group(case.project_id), type="job.progress", payload={"job": {"id": 3}}
        )
        assert await lead.receive_json_from(timeout=WAIT_S) == {
            "type": "job.progress",
            "job": {"id": 3},
        }
        await lead.disconnect()
