"""Static files served by the ASGI application itself, on the event loop.

Django's view stack (and WhiteNoise, which is WSGI-only) would push every script and
stylesheet through a thread; the case page waits on its script, so this handler answers
straight from memory: files are found with Django's staticfiles finders (so admin assets
and the Vite build both work), read once, gzip-compressed once, and sent with an ETag.
Vite's hashed assets (``assets/``) are cached by browsers for a year.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import posixpath
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]

COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
MAX_CACHED_BYTES = 64 * 1024 * 1024
# Asset names are Vite's and Django's: short, ASCII letters, digits and a few marks.
MAX_NAME_CHARS = 512
MAX_PART_CHARS = 128
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+~/-]*", re.ASCII)
# Sent with every static answer: no MIME sniffing, never framed, no scripts in SVGs.
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"default-src 'none'; style-src 'self'; frame-ancestors 'none'"),
]


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    gzipped: bytes | None
    content_type: str
    etag: str
    immutable: bool


def _find(relative: str) -> Path | None:
    from django.conf import settings
    from django.contrib.staticfiles import finders

    root = Path(settings.STATIC_ROOT)
    candidate = root / relative
    if candidate.is_file():
        return candidate
    found = finders.find(relative)
    if isinstance(found, list):
        found = found[0] if found else None
    return Path(found) if found else None


def _load(relative: str) -> StaticFile | None:
    path = _find(relative)
    if path is None:
        return None
    body = path.read_bytes()
    content_type = mimetypes.guess_type(relative)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type == "application/javascript":
        content_type += "; charset=utf-8"
    gzipped = None
    if content_type.startswith(COMPRESSIBLE) and len(body) > 1024:
        gzipped = gzip.compress(body, compresslevel=6, mtime=0)
    return StaticFile(
        body=body,
        gzipped=gzipped,
        content_type=content_type,
        etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
        immutable=relative.startswith("assets/"),
    )


def static_name(raw: str) -> str | None:
    """The asset name in a URL path, or None when it cannot be one: checked before any
    filesystem call (a 4,100-character name made the OS raise, a 500)."""
    if len(raw) > MAX_NAME_CHARS * 3:  # percent-encoded at most three characters each
        return None
    relative = posixpath.normpath(unquote(raw))
    if (
        len(relative) > MAX_NAME_CHARS
        or not _SAFE_NAME.fullmatch(relative)
        or relative in {".", ".."}
        or relative.startswith(("../", "/"))
        or any(len(part) > MAX_PART_CHARS for part in relative.split("/"))
    ):
        return None
    return relative


class StaticFilesApp:
    """Serve ``prefix`` paths from the static finders; pass everything else to ``app``."""

    def __init__(self, app: ASGIApp, *, prefix: str, cache: bool = True) -> None:
        self.app = app
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"
        self.cache_enabled = cache
        self._cache: dict[str, StaticFile | None] = {}
        self._cached_bytes = 0

    def _get(self, relative: str) -> StaticFile | None:
        if relative in self._cache:
            return self._cache[relative]
        item = _load(relative)
        if self.cache_enabled and self._cached_bytes < MAX_CACHED_BYTES:
            self._cache[relative] = item
            self._cached_bytes += len(item.body) if item else 0
        return item

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        relative = static_name(scope["path"][len(self.prefix) :])
        item = self._get(relative) if relative is not None else None
        if item is None or scope["method"] not in {"GET", "HEAD"}:
            status = 404 if item is None else 405
            await _respond(send, status, b"not found", [(b"content-type", b"text/plain")])
            return
        headers = dict(scope.get("headers", []))
        cache_control = b"public, max-age=31536000, immutable" if item.immutable else b"no-cache"
        common = [
            (b"etag", item.etag.encode()),
            (b"cache-control", cache_control),
            (b"vary", b"Accept-Encoding"),
        ]
        if headers.get(b"if-none-match", b"") == item.etag.encode():
            await _respond(send, 304, b"", common)
            return
        body = item.body
        extra = [(b"content-type", item.content_type.encode())]
        if item.gzipped is not None and b"gzip" in headers.get(b"accept-encoding", b""):
            body = item.gzipped
            extra.append((b"content-encoding", b"gzip"))
        if scope["method"] == "HEAD":
            await _respond(send, 200, b"", [*common, *extra], length=len(body))
            return
        await _respond(send, 200, body, [*common, *extra])


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
    *,
    length: int | None = None,
) -> None:
    size = len(body) if length is None else length
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, *SECURITY_HEADERS, (b"content-length", str(size).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
