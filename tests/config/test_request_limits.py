"""Body limits per route (issue 11, row 8): a body above its route's limit gets a JSON 413
before Django reads it, declared or streamed; saves take up to SAVE_MAX_BODY_BYTES."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from django.core.asgi import get_asgi_application

from config.middleware import BodyLimitApp, body_limit

MB = 1024 * 1024


async def _post(
    path: str, chunks: list[bytes], *, declared: int | None = None
) -> tuple[int, dict[bytes, bytes], bytes, int]:
    """POST through the limit and Django; (status, headers, body, bytes the app read)."""
    app = BodyLimitApp(get_asgi_application())
    pending: list[dict[str, Any]] = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    consumed = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal consumed
        if not pending:  # the client waits for the answer
            await asyncio.Event().wait()
        message = pending.pop(0)
        consumed += len(message["body"])
        return message

    async def send(message: Any) -> None:
        sent.append(message)

    headers = [(b"content-type", b"application/json"), (b"host", b"testserver")]
    if declared is not None:
        headers.append((b"content-length", str(declared).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    headers_lower = {key.lower(): value for key, value in start["headers"]}
    return start["status"], headers_lower, body, consumed


@pytest.mark.asyncio
async def test_a_60_mb_save_is_refused_with_json_413_before_it_is_read() -> None:
    chunks = [b"x" * MB] * 60

    status, headers, body, consumed = await _post(
        "/api/reads/1/revisions", chunks, declared=60 * MB
    )

    assert status == 413
    assert headers[b"content-type"] == b"application/json"
    answer = json.loads(body)
    assert answer["code"] == "body_too_large"
    assert "SAVE_MAX_BODY_BYTES" in answer["detail"]
    assert consumed == 0


@pytest.mark.asyncio
async def test_a_streamed_body_is_cut_off_as_soon_as_it_crosses_the_limit() -> None:
    chunks = [b"x" * MB] * 40  # no Content-Length: chunked

    status, _, body, consumed = await _post("/api/reads/1/revisions", chunks)

    assert status == 413
    assert json.loads(body)["limit"] == 5 * MB
    assert consumed <= 6 * MB


@pytest.mark.asyncio
async def test_the_save_limit_is_configurable(settings) -> None:
    settings.SAVE_MAX_BODY_BYTES = 1000

    refused = await _post("/api/reads/1/revisions", [b"{}" + b" " * 2000], declared=2002)

    assert refused[0] == 413
    assert json.loads(refused[2])["limit"] == 1000


@pytest.mark.asyncio
async def test_a_body_within_the_limit_reaches_django() -> None:
    status, headers, body, _ = await _post("/api/reads/1/revisions", [b"{}"], declared=2)

    # Anonymous: Django's answer (JSON, as every API error), not the limit's.
    assert status == 403
    assert headers[b"content-type"] == b"application/json"
    assert "code" not in json.loads(body) or json.loads(body)["code"] != "body_too_large"


def test_each_route_has_its_limit(settings) -> None:
    assert body_limit("/api/reads/7/revisions")[1] == "SAVE_MAX_BODY_BYTES"
    assert body_limit("/api/reads/7/restore")[1] == "SAVE_MAX_BODY_BYTES"
    assert body_limit("/api/reads/7/labelme")[1] == "SAVE_MAX_BODY_BYTES"
    assert body_limit("/api/cases/7/measure")[1] == "MEASURE_PREVIEW_MAX_BODY_BYTES"
    assert body_limit("/api/projects/p/imports")[1] == "INGEST_MAX_UPLOAD_BYTES"
    assert body_limit("/accounts/login/") == (
        settings.REQUEST_MAX_BODY_BYTES,
        "REQUEST_MAX_BODY_BYTES",
    )
