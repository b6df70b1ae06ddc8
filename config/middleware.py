"""Request limits and response headers that every route gets.

``BodyLimitApp`` (ASGI) refuses a body above its route's limit before Django reads it:
a declared ``Content-Length`` is answered at once; a streamed body is cut off as soon as
it crosses the limit. ``ApiErrorsMiddleware`` makes every /api/ error JSON (Django's own
404, 403, 400 and 500 pages are HTML). ``ContentSecurityPolicyMiddleware`` sends the CSP.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from http import HTTPStatus
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

from config.exceptions import DATABASE_RETRY_AFTER_S, DATABASE_UNAVAILABLE

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]

# (route, setting that holds its body limit); the first match wins.
_BODY_LIMITS = (
    (re.compile(r"^/api/reads/\d+/(?:revisions|restore|labelme)$"), "SAVE_MAX_BODY_BYTES"),
    (re.compile(r"^/api/cases/\d+/measure$"), "MEASURE_PREVIEW_MAX_BODY_BYTES"),
    (re.compile(r"^/api/projects/[^/]+/imports$"), "INGEST_MAX_UPLOAD_BYTES"),
)


def _inline_style_hashes() -> str:
    """CSP hashes of the <style> blocks of 500.html: it must render without the app (no
    static files, no context), so its styles are inline and allowed by their hash."""
    page = Path(__file__).resolve().parent.parent / "annotation" / "templates" / "500.html"
    blocks = re.findall(r"<style>(.*?)</style>", page.read_text(encoding="utf-8"), re.DOTALL)
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'"
        for b in blocks
    )


CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        # No style attributes: the frontend writes styles through the CSSOM.
        f"style-src 'self' {_inline_style_hashes()}".strip(),
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def body_limit(path: str) -> tuple[int, str]:
    """The largest body ``path`` accepts, and the setting that says so."""
    for pattern, name in _BODY_LIMITS:
        if pattern.match(path):
            return int(getattr(settings, name)), name
    return int(settings.REQUEST_MAX_BODY_BYTES), "REQUEST_MAX_BODY_BYTES"


def _too_large_body(limit: int, name: str) -> bytes:
    detail = f"The request body is larger than this route accepts ({limit} bytes, {name})."
    return json.dumps({"detail": detail, "code": "body_too_large", "limit": limit}).encode()


async def _send_too_large(send: Send, limit: int, name: str) -> None:
    body = _too_large_body(limit, name)
    await send(
        {
            "type": "http.response.start",
            "status": HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _declared_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitApp:
    """Answer 413 JSON to a body above its route's limit, before the app reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, name = body_limit(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _send_too_large(send, limit, name)
            return
        received = 0
        crossed = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, crossed
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Django stops reading at a disconnect; the 413 is sent below.
                    crossed = True
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, limited_receive, tracked_send)
        if crossed and not started:
            await _send_too_large(send, limit, name)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class ApiErrorsMiddleware:
    """Every /api/ error answers JSON ``{"detail": ...}``, whoever produced it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not _is_api(request) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        reason = response.reason_phrase or HTTPStatus(response.status_code).phrase
        replaced = JsonResponse({"detail": f"{reason}."}, status=response.status_code)
        for header in ("Allow", "Retry-After"):
            if header in response:
                replaced[header] = response[header]
        return replaced

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        """Keep the message of the expected refusals (Django's pages drop it)."""
        if not _is_api(request):
            return None
        if isinstance(exc, Http404):
            return JsonResponse({"detail": str(exc) or "Not found."}, status=404)
        if isinstance(exc, PermissionDenied):
            return JsonResponse({"detail": str(exc) or "Permission denied."}, status=403)
        if isinstance(exc, RequestDataTooBig):
            return JsonResponse({"detail": str(exc), "code": "body_too_large"}, status=413)
        if isinstance(exc, SuspiciousOperation):
            return JsonResponse({"detail": "Bad request."}, status=400)
        if isinstance(exc, OperationalError | InterfaceError):
            logger.warning("database unavailable: %s", exc)
            return JsonResponse(
                DATABASE_UNAVAILABLE,
                status=503,
                headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
            )
        return None


class ContentSecurityPolicyMiddleware:
    """Send the Content-Security-Policy (pages load only this site's scripts)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
