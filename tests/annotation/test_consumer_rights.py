"""Live rights follow the database: an open socket re-checks membership and blinding for
every event it forwards, and closes when its user leaves the project (both layers)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from annotation.consumers import CLOSE_FORBIDDEN
from annotation.live import case_group, event_publish
from annotation.models import Case, Image, Project
from annotation.services.projects import membership_remove, membership_set, project_update
from tests.annotation.sockets import in_the_server_process, socket_open

pytestmark = pytest.mark.django_db(transaction=True)
MARKER: dict[str, Any] = {"type": "job.progress", "job": {"id": 11}}


def _annotate(client: Client, case: Case, parent: int | None = None) -> dict[str, Any]:
    """Save the client's own read of the case once; returns the new revision."""
    read = client.post(f"/api/cases/{case.pk}/reads").json()
    image = Image.objects.filter(series__case=case).earliest("id")
    shape = {"label": "cord", "shape_type": "polygon", "points": [[1, 1], [9, 1], [9, 9]]}
    response = client.post(
        f"/api/reads/{read['id']}/revisions",
        data=json.dumps({"parent": parent, "shapes": {str(image.pk): [shape]}}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    data: dict[str, Any] = response.json()
    return data


async def _marker(case: Case) -> None:
    """An event for everybody, published after what the test did: the first thing a socket
    receives once everything before it was filtered."""
    await sync_to_async(event_publish)(
        group=case_group(case.pk), type=MARKER["type"], payload={"job": MARKER["job"]}
    )


async def _set_blinding(project: Project, blinded: bool) -> None:
    fresh = await sync_to_async(Project.objects.get)(pk=project.pk)
    await sync_to_async(project_update)(project=fresh, blinded=blinded)


@pytest.mark.asyncio
async def test_blinding_turned_on_stops_other_reads_reaching_a_connected_reader(
    channel_layer, clients, project, case
) -> None:
    await _set_blinding(project, False)
    with in_the_server_process():
        reader = await socket_open(clients["reader"], f"/ws/cases/{case.pk}/")
        saved = await sync_to_async(_annotate)(clients["annotator"], case)
        # Unblinded: the reader follows the annotator's read.
        message = await reader.receive_json_from(timeout=2)
        assert message["type"] == "revision.saved"
        assert message["revision"]["id"] == saved["id"]
        assert (await reader.receive_json_from(timeout=2))["type"] == "measurement.updated"

        await _set_blinding(project, True)
        await sync_to_async(_annotate)(clients["annotator"], case, saved["id"])
        await _marker(case)
        # Nothing about the annotator's second save came before the marker.
        assert await reader.receive_json_from(timeout=2) == MARKER

        # The reader's own read still reaches them.
        mine = await sync_to_async(_annotate)(clients["reader"], case)
        message = await reader.receive_json_from(timeout=2)
        assert message["revision"]["id"] == mine["id"]
        await reader.disconnect()


@pytest.mark.asyncio
async def test_blinding_turned_off_lets_a_connected_reader_follow_other_reads(
    channel_layer, clients, project, case
) -> None:
    with in_the_server_process():
        reader = await socket_open(clients["reader"], f"/ws/cases/{case.pk}/")
        await _set_blinding(project, False)
        saved = await sync_to_async(_annotate)(clients["annotator"], case)
        message = await reader.receive_json_from(timeout=2)
        assert message["type"] == "revision.saved"
        assert message["revision"]["id"] == saved["id"]
        await reader.disconnect()


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["case", "project"])
async def test_a_socket_closes_when_its_user_leaves_the_project(
    channel_layer, clients, cast, project, case, path
) -> None:
    url = f"/ws/cases/{case.pk}/" if path == "case" else f"/ws/projects/{project.slug}/"
    with in_the_server_process():
        socket = await socket_open(clients["annotator"], url)
        await sync_to_async(membership_remove)(project=project, user=cast["annotator"])
        closed = await socket.receive_output(timeout=2)
        assert closed == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}
        # Whatever the project announces next never reaches the closed socket.
        await _marker(case)
        assert await socket.receive_nothing(timeout=0.2)
        await socket.disconnect()


@pytest.mark.asyncio
async def test_a_membership_deleted_without_an_announcement_closes_the_socket_once_rights_age(
    channel_layer, monkeypatch, clients, cast, project, case
) -> None:
    """A change made where nothing is announced (the admin, a shell): the socket finds out
    when its cached rights are older than RIGHTS_MAX_AGE_S, at the next event."""
    from annotation import consumers
    from annotation.models import Membership

    monkeypatch.setattr(consumers, "RIGHTS_MAX_AGE_S", 0.0)
    with in_the_server_process():
        socket = await socket_open(clients["annotator"], f"/ws/cases/{case.pk}/")
        await sync_to_async(
            Membership.objects.filter(project=project, user=cast["annotator"]).delete
        )()
        await _marker(case)
        closed = await socket.receive_output(timeout=2)
        assert closed == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}
        await socket.disconnect()


@pytest.mark.asyncio
async def test_a_role_change_keeps_the_socket_and_applies_the_new_rights(
    channel_layer, clients, cast, project, case
) -> None:
    with in_the_server_process():
        reader = await socket_open(clients["reader"], f"/ws/cases/{case.pk}/")
        # Promoted to reviewer: sees every read from now on, without reconnecting.
        await sync_to_async(membership_set)(project=project, user=cast["reader"], role="reviewer")
        saved = await sync_to_async(_annotate)(clients["annotator"], case)
        message = await reader.receive_json_from(timeout=2)
        assert message["revision"]["id"] == saved["id"]
        await reader.disconnect()


@pytest.mark.django_db
def test_only_a_real_change_of_blinding_is_announced(
    project, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        project_update(project=project, name="Renamed")
    assert callbacks == []
    with django_capture_on_commit_callbacks() as callbacks:
        project_update(project=project, blinded=not project.blinded)
    assert len(callbacks) == 1
