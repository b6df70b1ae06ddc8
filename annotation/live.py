"""Live events to open browsers, always sent after the transaction commits.

Three ways an event reaches the channel layer:
- in the server process (API requests): straight to the layer;
- in another process with a cross-process layer (Redis, at scale): straight to the layer;
- in another process with the embedded in-memory layer (the `make demo` task worker):
  written to the LiveEvent outbox, which the server's relay forwards (see relay_run).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import transaction

from annotation.models import LiveEvent

logger = logging.getLogger(__name__)

# Set by config.asgi when this process serves HTTP/WebSocket.
_server_loop: asyncio.AbstractEventLoop | None = None


def server_process_mark(loop: asyncio.AbstractEventLoop) -> None:
    global _server_loop  # noqa: PLW0603 - one per process, set once at start-up
    _server_loop = loop


def case_group(case_id: int) -> str:
    return f"case.{case_id}"


def project_group(project_id: int) -> str:
    return f"project.{project_id}"


def access_group(project_id: int) -> str:
    """Every open socket of the project's members: told when membership or blinding
    changes, so each re-checks its rights (never forwarded to browsers)."""
    return f"project.{project_id}.access"


def _needs_outbox() -> bool:
    layer = get_channel_layer()
    return isinstance(layer, InMemoryChannelLayer) and _server_loop is None


def _send_now(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # a dead layer must not break a save that already committed
        logger.exception("live event to %s failed", group)


def event_publish(*, group: str, type: str, payload: dict[str, Any]) -> None:
    """Queue an event for the group; it goes out only if and when the transaction commits."""
    message = {"type": "live.event", "event": {"type": type, **payload}}

    def send() -> None:
        if _needs_outbox() and settings.LIVE_OUTBOX_ENABLED:
            LiveEvent.objects.create(group=group, type=type, payload=message["event"])
        else:
            _send_now(group, message)

    transaction.on_commit(send)


async def relay_run(*, stop: asyncio.Event) -> None:
    """Forward outbox rows to the in-memory layer (embedded default only)."""
    from asgiref.sync import sync_to_async

    layer = get_channel_layer()
    if not isinstance(layer, InMemoryChannelLayer):
        return
    last_id = await sync_to_async(_latest_outbox_id)()
    while not stop.is_set():
        try:
            rows = await sync_to_async(_outbox_after)(last_id)
        except Exception:
            logger.exception("live relay could not read the outbox")
            rows = []
        for row_id, group, payload in rows:
            last_id = row_id
            await layer.group_send(group, {"type": "live.event", "event": payload})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.LIVE_RELAY_INTERVAL_S)


def _latest_outbox_id() -> int:
    latest = LiveEvent.objects.order_by("-id").values_list("id", flat=True).first()
    return latest or 0


def _outbox_after(last_id: int) -> list[tuple[int, str, dict[str, Any]]]:
    rows = list(
        LiveEvent.objects.filter(id__gt=last_id)
        .order_by("id")
        .values_list("id", "group", "payload")
    )
    if rows:
        # Keep the outbox small: rows older than the ones just read are delivered.
        LiveEvent.objects.filter(id__lte=rows[-1][0] - 1000).delete()
    return rows
