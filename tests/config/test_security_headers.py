"""Headers and error shapes (issue 11, row 9): a strict Content-Security-Policy on pages
whose templates carry no inline script; nosniff and frame options on static answers;
static names checked before any filesystem call; JSON errors on every /api/ route."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from config.static import StaticFilesApp

INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
EVENT_ATTRIBUTE = re.compile(rb"<[^>]+\son[a-z]+\s*=", re.I)


def _directives(policy: str) -> dict[str, list[str]]:
    parts = [part.split() for part in policy.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


@pytest.mark.django_db
def test_every_page_has_a_strict_policy_and_no_inline_script(clients, case) -> None:
    slug = case.project.slug
    pages = [
        ("anonymous", "/accounts/login/"),
        ("lead", "/"),
        ("lead", f"/projects/{slug}/"),
        ("lead", f"/projects/{slug}/import/"),
        ("lead", f"/projects/{slug}/settings/"),
        ("annotator", f"/cases/{case.pk}/"),
    ]
    for who, url in pages:
        response = clients[who].get(url)
        assert response.status_code == 200, url
        policy = _directives(response["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"], url
        assert "'unsafe-inline'" not in policy["style-src"]
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["base-uri"] == ["'none'"]
        assert INLINE_SCRIPT.search(response.content) is None, url
        assert EVENT_ATTRIBUTE.search(response.content) is None, url


@pytest.mark.django_db
def test_the_case_page_embeds_its_data_as_a_json_block(clients, case) -> None:
    response = clients["annotator"].get(f"/cases/{case.pk}/")

    assert b'<script id="case-data" type="application/json">' in response.content


async def _get(path: str) -> tuple[int, dict[bytes, bytes]]:
    async def downstream(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("a static path reached Django")

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        sent.append(message)

    app = StaticFilesApp(downstream, prefix="/static/")
    await app({"type": "http", "method": "GET", "path": path, "headers": []}, receive, send)
    return sent[0]["status"], dict(sent[0]["headers"])


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "name",
    ["x" + "a" * 4100, "a/" * 300 + "x.js", "%2e%2e/settings.py", "a\x00b.js", "ü.js", "a b.js"],
    ids=["4100-chars", "deep", "traversal", "nul", "non-ascii", "space"],
)
async def test_a_static_name_that_cannot_be_an_asset_is_404_without_touching_the_disk(
    name: str, monkeypatch
) -> None:
    def no_disk(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the filesystem was asked")

    monkeypatch.setattr("config.static._find", no_disk)

    status, headers = await _get("/static/" + name)

    assert status == 404
    assert headers[b"x-content-type-options"] == b"nosniff"


@pytest.mark.asyncio
async def test_static_answers_carry_nosniff_and_frame_options() -> None:
    status, headers = await _get("/static/admin/css/base.css")

    assert status == 200
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert headers[b"x-frame-options"] == b"DENY"


@pytest.mark.django_db
def test_api_errors_are_json_pixels_included(clients) -> None:
    client: Client = clients["annotator"]
    answers = {
        "missing pixels": client.get("/api/images/999999999/pixels"),
        "missing thumbnail": client.get("/api/series/999999999/thumbnail"),
        "pixels by POST": client.post("/api/images/1/pixels"),
        "unknown route": client.get("/api/no-such-thing"),
        "anonymous pixels": clients["anonymous"].get("/api/images/1/pixels"),
    }
    for what, response in answers.items():
        assert response.status_code >= 400, what
        assert response["Content-Type"] == "application/json", what
        assert response.json()["detail"], what
    assert answers["missing pixels"].status_code == 404
    assert answers["pixels by POST"].status_code == 405
    assert answers["pixels by POST"]["Allow"] == "GET"


@pytest.mark.django_db
def test_a_server_error_in_an_api_view_is_json(cast, monkeypatch) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("annotation.apis.pixels.access_image", broken)
    client = Client(raise_request_exception=False)
    client.force_login(cast["annotator"])

    response = client.get("/api/images/1/pixels")

    assert response.status_code == 500
    assert response.json()["detail"] == "Internal Server Error."
