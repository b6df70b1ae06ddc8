"""ASGI entry point: HTTP through Django, WebSocket through Channels, plus start-up work.

On start-up (the lifespan event, or the first connection for servers without lifespan)
this process is marked as the server process and, in the embedded default, starts the
relay that forwards the task worker's live events from the outbox to browsers.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from django.conf import settings  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

settings.DATA_DIR.mkdir(parents=True, exist_ok=True)

from channels.auth import AuthMiddlewareStack  # noqa: E402 - needs Django set up first
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from annotation import live  # noqa: E402
from config.middleware import BodyLimitApp  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402
from config.static import StaticFilesApp  # noqa: E402

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

router = ProtocolTypeRouter(
    {
        "http": StaticFilesApp(
            BodyLimitApp(django_asgi_app),
            prefix="/" + settings.STATIC_URL.lstrip("/"),
            cache=not settings.DEBUG,
        ),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

_stop = asyncio.Event()
_started = False
_relay: asyncio.Task[None] | None = None


def startup_checks() -> None:
    """Refuse to serve on the fallback secret key unless DEBUG is on (sessions and CSRF
    tokens signed with a public constant can be forged)."""
    if settings.SECRET_KEY_IS_FALLBACK and not settings.DEBUG:
        raise ImproperlyConfigured(
            "No secret key: set SECRET_KEY (or SECRET_KEY_FILE), or run "
            "`manage.py ensure_secret_key` to keep a generated one in DATA_DIR (make demo does)."
        )


def _start() -> None:
    global _started, _relay  # noqa: PLW0603 - process-wide start-up state
    if _started:
        return
    startup_checks()
    _started = True
    live.server_process_mark(asyncio.get_running_loop())
    _relay = asyncio.get_running_loop().create_task(live.relay_run(stop=_stop))


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            _start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            _stop.set()
            if _relay is not None:
                await asyncio.wait([_relay], timeout=2)
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    _start()
    await router(scope, receive, send)
