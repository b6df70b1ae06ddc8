"""The PACS routes: the connection (password encrypted, never sent back), search and
import requests refused by field, PACS faults as 502/504 naming the cause, live progress."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from pacs.crypto import secret_decrypt
from pacs.models import PacsConnection, PacsImport
from pacs.services.imports import pacs_import_run
from tests.pacs import orthanc
from tests.pacs.conftest import Pacs


def _put(client: Client, slug: str, body: dict[str, Any]) -> Any:
    return client.put(
        f"/api/projects/{slug}/pacs/connection",
        data=json.dumps(body),
        content_type="application/json",
    )


@pytest.mark.django_db
def test_the_password_is_stored_encrypted_and_never_sent_back(project, clients) -> None:
    slug = project.slug
    reply = _put(
        clients["lead"],
        slug,
        {"base_url": "http://pacs.example:8042/dicom-web", "username": "u", "password": "s3cr3t!"},
    )
    assert reply.status_code == 200
    assert "s3cr3t!" not in reply.content.decode()
    assert reply.json()["has_password"] is True
    stored = PacsConnection.objects.get(project=project)
    assert "s3cr3t!" not in stored.password_encrypted
    assert secret_decrypt(stored.password_encrypted) == "s3cr3t!"
    # Omitting the password keeps it; the GET never shows it.
    _put(clients["lead"], slug, {"base_url": "http://pacs.example/dw", "username": "u"})
    stored.refresh_from_db()
    assert secret_decrypt(stored.password_encrypted) == "s3cr3t!"
    shown = clients["lead"].get(f"/api/projects/{slug}/pacs/connection").json()
    assert shown == {
        "configured": True,
        "base_url": "http://pacs.example/dw",
        "username": "u",
        "has_password": True,
        "timeout_s": 30.0,
        "updated_at": shown["updated_at"],
    }


@pytest.mark.django_db
def test_a_key_from_the_settings_replaces_the_derived_one(project, clients, settings) -> None:
    settings.PACS_ENCRYPTION_KEY = "a key read from PACS_ENCRYPTION_KEY_FILE"
    _put(
        clients["lead"],
        project.slug,
        {"base_url": "http://pacs.example/dw", "username": "u", "password": "pw"},
    )
    stored = PacsConnection.objects.get(project=project).password_encrypted
    assert secret_decrypt(stored) == "pw"
    settings.PACS_ENCRYPTION_KEY = None
    from pacs.crypto import SecretUnreadable

    with pytest.raises(SecretUnreadable, match="enter it again"):
        secret_decrypt(stored)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"base_url": "ftp://pacs/dw"}, "base_url"),
        ({"base_url": "http://user:pw@pacs/dw"}, "base_url"),
        ({"base_url": "http://pacs/dw?x=1"}, "base_url"),
        ({"base_url": "http://pacs/dw", "timeout_s": 0}, "timeout_s"),
        ({}, "base_url"),
    ],
)
def test_a_bad_connection_is_refused_naming_the_field(project, clients, body, field) -> None:
    reply = _put(clients["lead"], project.slug, body)
    assert reply.status_code == 400
    assert field in reply.json()
    assert not PacsConnection.objects.filter(project=project).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "accession_number"),
        ({"date_from": "2024-02-30"}, "date_from"),
        ({"date_from": "2024-03-02", "date_to": "2024-03-01"}, "date_to"),
        ({"modality": "M R"}, "modality"),
        ({"accession_number": "AC*"}, "accession_number"),
    ],
)
def test_a_bad_search_is_refused_naming_the_field(project, clients, query, field) -> None:
    reply = clients["lead"].get(f"/api/projects/{project.slug}/pacs/studies", query)
    assert reply.status_code == 400
    assert field in reply.json()


@pytest.mark.django_db
def test_a_pacs_fault_in_a_search_is_a_502_naming_the_cause(
    project, clients, connect, pacs_server: Pacs
) -> None:
    connect(pacs_server.url, password="wrong")
    reply = clients["lead"].get(f"/api/projects/{project.slug}/pacs/studies", {"modality": "MR"})
    assert reply.status_code == 502
    assert "HTTP 401" in reply.json()["detail"]


@pytest.mark.django_db
def test_an_import_request_is_checked_before_anything_is_queued(project, clients, connect) -> None:
    url = f"/api/projects/{project.slug}/pacs/imports"
    lead = clients["lead"]
    reply = lead.post(url, data=json.dumps({"studies": ["1.2.3"]}), content_type="application/json")
    assert reply.status_code == 409
    assert "no PACS connection" in reply.json()["detail"]
    connect("http://127.0.0.1:9/dicom-web")
    for studies in ([], ["1.2.x"], "1.2.3"):
        reply = lead.post(
            url, data=json.dumps({"studies": studies}), content_type="application/json"
        )
        assert reply.status_code == 400
        assert "studies" in reply.json()
    assert not PacsImport.objects.exists()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_import_progress_is_published_live_on_the_project_socket(
    channel_layer, project, cast, clients, pacs_server: Pacs
) -> None:
    from asgiref.sync import sync_to_async
    from channels.testing import WebsocketCommunicator

    from config.asgi import router
    from pacs.services.connection import connection_set

    await sync_to_async(connection_set)(
        project=project,
        user=cast["lead"],
        base_url=pacs_server.url,
        username=orthanc.USER,
        password=orthanc.PASSWORD,
        timeout_s=30.0,
    )
    cookie = clients["annotator"].cookies["sessionid"].value
    headers = [
        (b"host", b"127.0.0.1"),
        (b"origin", b"http://127.0.0.1"),
        (b"cookie", f"sessionid={cookie}".encode()),
    ]
    socket = WebsocketCommunicator(router, f"/ws/projects/{project.slug}/", headers=headers)
    connected, _ = await socket.connect()
    assert connected
    job = await sync_to_async(PacsImport.objects.create)(
        project=project, requested_by=cast["lead"], studies=[pacs_server.loaded.phantom_uids[0]]
    )
    await sync_to_async(pacs_import_run)(import_id=job.pk)
    seen: list[dict[str, Any]] = []
    while not seen or seen[-1]["status"] != "succeeded":
        message = await socket.receive_json_from(timeout=20)
        if message.get("type") == "pacs.progress":
            seen.append(message["import"])
    await socket.disconnect()
    assert seen[0]["status"] == "running"
    assert seen[-1]["instances_done"] == seen[-1]["instances_total"] > 0
    assert seen[-1]["cases"]
    assert seen[-1]["cases"][0].startswith(project.pseudonym_prefix)
    # Pseudonyms and counts only: not the study UIDs the lead picked.
    assert pacs_server.loaded.phantom_uids[0] not in json.dumps(seen)


@pytest.mark.django_db
def test_the_import_list_pages_and_filters_like_every_list(project, clients) -> None:
    from pacs.models import ImportStatus, PacsImport

    for status in (ImportStatus.FAILED, ImportStatus.SUCCEEDED, ImportStatus.SUCCEEDED):
        PacsImport.objects.create(project=project, studies=["1.2.3"], status=status)
    url = f"/api/projects/{project.slug}/pacs/imports"
    lead = clients["lead"]
    page = lead.get(url, {"limit": 2})
    assert page.status_code == 200
    assert page["X-Total-Count"] == "3"
    assert [job["status"] for job in page.json()] == ["succeeded", "succeeded"]
    assert 'rel="next"' in page["Link"]
    failed = lead.get(url, {"status": "failed"})
    assert [job["status"] for job in failed.json()] == ["failed"]
    bad = lead.get(url, {"status": "lost"})
    assert bad.status_code == 400
    assert "status" in bad.json()
