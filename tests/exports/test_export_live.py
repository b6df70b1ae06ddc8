"""Export progress reaches the requester's project page live, and nobody else's; an export
never takes reads the requester may not see (an unaided role and model reads)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client

from annotation.live import event_publish, project_group
from annotation.models import Project, StudyDesign
from exports.run import export_run
from tests.annotation.sockets import in_the_server_process, socket_open
from tests.exports.conftest import Study

pytestmark = pytest.mark.django_db(transaction=True)
MARKER: dict[str, Any] = {"type": "job.progress", "job": {"id": 7}}
WAIT_S = 10


def _request(client: Client, slug: str, body: dict[str, Any]) -> Any:
    return client.post(
        f"/api/projects/{slug}/exports", data=json.dumps(body), content_type="application/json"
    )


@pytest.mark.asyncio
async def test_progress_reaches_the_requester_only(
    channel_layer: str, clients: dict[str, Client], project: Project, study: Study
) -> None:
    with in_the_server_process():
        lead = await socket_open(clients["lead"], f"/ws/projects/{project.slug}/")
        reviewer = await socket_open(clients["reviewer"], f"/ws/projects/{project.slug}/")
        body = {"selection": {"kind": "gold"}, "formats": ["csv", "labelme"]}
        response = await sync_to_async(_request)(clients["lead"], project.slug, body)
        assert response.status_code == 202
        job_id = response.json()["id"]
        await sync_to_async(export_run)(job_id=job_id)
        await sync_to_async(event_publish)(
            group=project_group(project.pk), type=MARKER["type"], payload={"job": MARKER["job"]}
        )
        heard = []
        while (message := await lead.receive_json_from(timeout=WAIT_S)) != MARKER:
            if message["type"] == "export.progress":
                heard.append(message["export"])
        assert [h["id"] for h in heard] == [job_id] * len(heard)
        assert [h["status"] for h in heard][:2] == ["queued", "running"]
        assert heard[-1]["status"] == "succeeded"
        assert heard[-1]["progress"] == 1.0
        assert heard[-1]["cases_done"] == 1
        # The reviewer's first event is the marker: no export event came before it.
        assert await reviewer.receive_json_from(timeout=WAIT_S) == MARKER
        await lead.disconnect()
        await reviewer.disconnect()
    await sync_to_async(connections.close_all)()


def test_an_unaided_reviewer_cannot_export_model_reads(
    clients: dict[str, Client], project: Project, cast: dict[str, User], study: Study
) -> None:
    design, _ = StudyDesign.objects.get_or_create(project=project)
    design.aided = {**design.aided, "reviewer": False}
    design.save()
    body = {
        "selection": {"kind": "model", "value": str(study.model_version.pk)},
        "formats": ["csv"],
    }

    refused = _request(clients["reviewer"], project.slug, body)
    allowed = _request(clients["lead"], project.slug, body)

    assert refused.status_code == 400
    assert "this model version made no read" in refused.json()["selection"][0]
    assert allowed.status_code == 202


def test_a_role_made_unaided_after_the_request_exports_no_model_read(
    clients: dict[str, Client], project: Project, study: Study
) -> None:
    body = {
        "selection": {"kind": "model", "value": str(study.model_version.pk)},
        "formats": ["csv"],
    }
    job_id = _request(clients["reviewer"], project.slug, body).json()["id"]
    design, _ = StudyDesign.objects.get_or_create(project=project)
    design.aided = {**design.aided, "reviewer": False}
    design.save()

    job = export_run(job_id=job_id)

    assert job.status == "failed"
    assert "no read matches the selection" in job.reason
