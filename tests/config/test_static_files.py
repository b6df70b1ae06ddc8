"""The ASGI static handler: built assets, admin assets, caching, compression, traversal."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest

from config.static import StaticFilesApp


async def _downstream(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 299, "headers": []})
    await send({"type": "http.response.body", "body": b"django"})


async def _get(app: StaticFilesApp, path: str, headers: list[tuple[bytes, bytes]] | None = None):
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "headers": headers or []}
    await app(scope, receive, send)
    head = sent[0]
    return head["status"], dict(head["headers"]), sent[1]["body"]


@pytest.fixture
def built(settings, tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "assets" / "case-abc123.js").write_text("console.log('x');" * 200)
    settings.STATICFILES_DIRS = [dist]
    settings.STATIC_ROOT = tmp_path / "collected"
    return dist


@pytest.mark.asyncio
async def test_it_serves_a_hashed_asset_compressed_and_cached_for_a_year(built: Path) -> None:
    app = StaticFilesApp(_downstream, prefix="/static/")
    status, headers, body = await _get(
        app, "/static/assets/case-abc123.js", [(b"accept-encoding", b"gzip, br")]
    )
    assert status == 200
    assert headers[b"content-encoding"] == b"gzip"
    assert gzip.decompress(body) == (built / "assets" / "case-abc123.js").read_bytes()
    assert b"immutable" in headers[b"cache-control"]
    again = await _get(app, "/static/assets/case-abc123.js", [(b"if-none-match", headers[b"etag"])])
    assert again[0] == 304


@pytest.mark.asyncio
async def test_it_serves_the_admin_assets_through_the_finders(built: Path) -> None:
    status, headers, body = await _get(
        StaticFilesApp(_downstream, prefix="/static/"), "/static/admin/css/base.css"
    )
    assert status == 200
    assert headers[b"content-type"].startswith(b"text/css")
    assert b"{" in body


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/static/../config/settings.py", "/static/%2e%2e/manage.py"])
async def test_it_refuses_paths_outside_the_static_roots(built: Path, path: str) -> None:
    status, _, _ = await _get(StaticFilesApp(_downstream, prefix="/static/"), path)
    assert status == 404


@pytest.mark.asyncio
async def test_other_paths_go_to_django(built: Path) -> None:
    status, _, body = await _get(StaticFilesApp(_downstream, prefix="/static/"), "/api/me")
    assert (status, body) == (299, b"django")
