"""Live updates: a new revision reaches another open view of the case, after commit only."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from annotation.models import Image
from config.asgi import router

pytestmark = pytest.mark.django_db(transaction=True)


async def _connect(client: Client, case_id: int) -> WebsocketCommunicator:
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    communicator = WebsocketCommunicator(
        router,
        f"/ws/cases/{case_id}/",
        headers=[
            (b"cookie", cookie.encode()),
            (b"host", b"127.0.0.1"),
            (b"origin", b"http://127.0.0.1"),
        ],
    )
    return communicator


@pytest.fixture
def layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def _first_image(case: Any) -> Image:
    return Image.objects.filter(series__case=case).earliest("id")


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


@pytest.mark.asyncio
async def test_another_view_of_the_case_sees_the_new_revision(layer, clients, case) -> None:
    from annotation import live

    live.server_process_mark(asyncio.get_running_loop())
    try:
        viewer = await _connect(clients["reviewer"], case.pk)
        connected, _ = await viewer.connect()
        assert connected
        read = await sync_to_async(clients["annotator"].post)(f"/api/cases/{case.pk}/reads")
        image = await sync_to_async(
            lambda: Image.objects.filter(series__case=case).earliest("id")
        )()
        saved = await sync_to_async(_save)(clients["annotator"], read.json()["id"], image.pk, None)
        message = await viewer.receive_json_from(timeout=1)
        assert message["type"] == "revision.saved"
        assert message["revision"]["id"] == saved["id"]
        measured = await viewer.receive_json_from(timeout=1)
        assert measured == {
            "type": "measurement.updated",
            "revision": saved["id"],
            "read": saved["read"],
            "read_author": message["read_author"],
        }
        await viewer.disconnect()
    finally:
        live._server_loop = None


@pytest.mark.asyncio
async def test_an_outsider_socket_is_refused(layer, clients, case) -> None:
    socket = await _connect(clients["outsider"], case.pk)
    connected, code = await socket.connect()
    assert not connected
    assert code == 4403


@pytest.mark.asyncio
async def test_a_blinded_reader_gets_no_events_about_other_reads(layer, clients, case) -> None:
    from annotation import live

    live.server_process_mark(asyncio.get_running_loop())
    try:
        reader = await _connect(clients["reader"], case.pk)
        connected, _ = await reader.connect()
        assert connected
        read = await sync_to_async(clients["annotator"].post)(f"/api/cases/{case.pk}/reads")
        image = await sync_to_async(
            lambda: Image.objects.filter(series__case=case).earliest("id")
        )()
        await sync_to_async(_save)(clients["annotator"], read.json()["id"], image.pk, None)
        assert await reader.receive_nothing(timeout=0.5)
        await reader.disconnect()
    finally:
        live._server_loop = None


def test_the_worker_writes_to_the_outbox_when_it_cannot_reach_the_server(
    layer, settings, clients, case
) -> None:
    from annotation.models import LiveEvent

    settings.LIVE_OUTBOX_ENABLED = True
    read = clients["annotator"].post(f"/api/cases/{case.pk}/reads").json()
    image = Image.objects.filter(series__case=case).earliest("id")
    _save(clients["annotator"], read["id"], image.pk, None)
    events = list(LiveEvent.objects.order_by("id"))
    assert [e.group for e in events] == [f"case.{case.pk}"] * 2
    # The measurements of a save made away from the server reach browsers the same way.
    assert [e.type for e in events] == ["revision.saved", "measurement.updated"]


@pytest.mark.asyncio
async def test_the_relay_forwards_outbox_events_to_sockets(layer, clients, case) -> None:
    from annotation import live
    from annotation.models import LiveEvent

    viewer = await _connect(clients["reviewer"], case.pk)
    connected, _ = await viewer.connect()
    assert connected
    stop = asyncio.Event()
    relay = asyncio.create_task(live.relay_run(stop=stop))
    await asyncio.sleep(0.2)
    await sync_to_async(LiveEvent.objects.create)(
        group=f"case.{case.pk}",
        type="job.progress",
        payload={"type": "job.progress", "job": {"id": 7}},
    )
    message = await viewer.receive_json_from(timeout=2)
    assert message == {"type": "job.progress", "job": {"id": 7}}
    stop.set()
    await relay
    await viewer.disconnect()


@pytest.mark.asyncio
async def test_a_project_socket_gets_job_progress_and_refuses_outsiders(
    layer, clients, case
) -> None:
    from annotation import live
    from annotation.live import event_publish, project_group

    def connect(name: str) -> WebsocketCommunicator:
        cookie = f"sessionid={clients[name].cookies['sessionid'].value}"
        return WebsocketCommunicator(
            router,
            f"/ws/projects/{case.project.slug}/",
            headers=[
                (b"cookie", cookie.encode()),
                (b"host", b"127.0.0.1"),
                (b"origin", b"http://127.0.0.1"),
            ],
        )

    outsider = connect("outsider")
    assert (await outsider.connect())[0] is False
    live.server_process_mark(asyncio.get_running_loop())
    try:
        lead = connect("lead")
        assert (await lead.connect())[0] is True
        await sync_to_async(event_publish)(
            group=project_group(case.project_id), type="job.progress", payload={"job": {"id": 3}}
        )
        assert await lead.receive_json_from(timeout=1) == {"type": "job.progress", "job": {"id": 3}}
        await lead.disconnect()
    finally:
        live._server_loop = None
