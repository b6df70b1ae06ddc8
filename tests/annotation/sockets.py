"""WebSocket helpers for the live-event tests: a signed-in socket on the project's router,
and this event loop standing in for the ASGI server's."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from channels.testing import WebsocketCommunicator
from django.test import Client

from annotation import live
from config.asgi import router


def socket_for(client: Client, path: str) -> WebsocketCommunicator:
    """A socket carrying the client's session cookie, from an allowed origin."""
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    headers = [
        (b"cookie", cookie.encode()),
        (b"host", b"127.0.0.1"),
        (b"origin", b"http://127.0.0.1"),
    ]
    return WebsocketCommunicator(router, path, headers=headers)


async def socket_open(client: Client, path: str) -> WebsocketCommunicator:
    socket = socket_for(client, path)
    connected, _ = await socket.connect()
    assert connected
    return socket


@contextlib.contextmanager
def in_the_server_process() -> Iterator[None]:
    """This event loop plays the ASGI server's (as config.asgi marks it at start-up)."""
    live.server_process_mark(asyncio.get_running_loop())
    try:
        yield
    finally:
        live._server_loop = None
