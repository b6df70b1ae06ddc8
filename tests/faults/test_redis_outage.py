"""Redis stopped while annotators save, then started again (empty, as a lost node comes back).

Saves go on (201, stored whole) without the channel layer; a viewer's socket, reconnecting
as the browser's LiveSocket does, receives live events again once Redis is back, and what
it refetches on reconnecting is the head that was saved during the outage. A pre-label
request that the task queue cannot take fails at once with its reason.
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from tests.faults.client import ApiClient, history_problems, polygon, shapes_hash, stored_revisions
from tests.faults.stack import Stack, wait_until

pytestmark = pytest.mark.slow


class Viewer:
    """A case page's live socket: reopened whenever it is lost, as LiveSocket does."""

    def __init__(self, base: str, session: str, case_id: int) -> None:
        self.url = base.replace("http://", "ws://") + f"/ws/cases/{case_id}/"
        self.session = session
        self.socket: ClientConnection | None = None
        self.reconnects = 0
        self._exits = contextlib.ExitStack()

    def ensure_open(self) -> bool:
        if self.socket is not None:
            return True
        try:
            opened = connect(
                self.url,
                additional_headers={"Cookie": f"sessionid={self.session}"},
                origin=Origin("http://127.0.0.1"),
                open_timeout=5,
            )
            self.socket = self._exits.enter_context(opened)
        except (OSError, InvalidStatus, TimeoutError):
            return False
        self.reconnects += 1
        return True

    def saw_revision(self, revision_id: int, *, timeout: float) -> bool:
        """Whether `revision.saved` for this revision arrives; a lost socket is dropped."""
        deadline = time.monotonic() + timeout
        while self.socket is not None and time.monotonic() < deadline:
            try:
                event: dict[str, Any] = json.loads(
                    self.socket.recv(timeout=max(deadline - time.monotonic(), 0.01))
                )
            except TimeoutError:
                return False
            except ConnectionClosed:
                self.socket = None
                return False
            if event["type"] == "revision.saved" and event["revision"]["id"] == revision_id:
                return True
        return False

    def close(self) -> None:
        self._exits.close()


def test_saves_survive_a_redis_outage_and_live_updates_resume(stack: Stack) -> None:
    case = stack.seed["cases"][0]
    image = str(case["images"][1])
    sessions = stack.seed["sessions"]
    writers = [ApiClient(url, sessions["a00"]) for url in reversed(stack.urls)]
    read_id = writers[0].my_read(case["id"])
    viewer = Viewer(stack.urls[0], sessions["r00"], case["id"])
    told: dict[int, str] = {}
    current = writers[0].request("GET", f"/api/reads/{read_id}").json()["revision"]
    head: list[int | None] = [current["id"] if current else None]
    before = len(stored_revisions(stack.env["DATABASE_URL"]))

    def save(writer: ApiClient) -> int:
        shapes = {image: [polygon(len(told) + 1)]}
        reply = writer.request(
            "POST", f"/api/reads/{read_id}/revisions", {"parent": head[0], "shapes": shapes}
        )
        assert reply.status == 201, (reply, stack.logs())
        saved = int(reply.json()["id"])
        told[saved] = shapes_hash(shapes)
        head[0] = saved
        return saved

    try:
        assert viewer.ensure_open()
        assert viewer.saw_revision(save(writers[0]), timeout=30)  # across processes

        stack.redis.stop()
        try:
            during = [save(writers[i % 2]) for i in range(4)]
            listed = writers[1].request("GET", f"/api/reads/{read_id}/revisions")
            assert listed.status == 200
            assert {r["id"] for r in listed.json()} >= set(during)
        finally:
            stack.redis.start()

        def live_again() -> bool:
            return viewer.ensure_open() and viewer.saw_revision(save(writers[0]), timeout=2)

        wait_until(live_again, timeout=120, what="live events after Redis returned")
        # What the page refetches on reconnecting: the head saved while events were lost.
        shown = ApiClient(stack.urls[0], sessions["r00"]).request("GET", f"/api/reads/{read_id}")
        assert shown.json()["revision"]["id"] == head[0]
    finally:
        viewer.close()

    stored = stored_revisions(stack.env["DATABASE_URL"])
    assert {rid: stored[rid]["hash"] for rid in told if rid in stored} == told
    assert len(stored) == before + len(told)
    assert history_problems(stack.env["DATABASE_URL"]) == []
    assert stack.worker is not None
    assert stack.worker.poll() is None, stack.logs()  # the RQ worker rode out the outage


def test_a_prelabel_request_during_a_redis_outage_fails_with_its_reason_not_stuck(
    stack: Stack,
) -> None:
    from inference.services.jobs import QUEUE_UNREACHABLE

    case = stack.seed["cases"][0]
    lead = ApiClient(stack.urls[0], stack.seed["sessions"]["l00"])
    stack.redis.stop()
    try:
        reply = lead.request("POST", f"/api/cases/{case['id']}/prelabel")
    finally:
        stack.redis.start()
    assert reply.status == 202, reply
    job = reply.json()["job"]
    assert job["status"] == "failed"  # not left "queued" with no task behind it
    assert job["error"] == QUEUE_UNREACHABLE
    stored = lead.request("GET", f"/api/jobs/{job['id']}").json()
    assert (stored["status"], stored["error"]) == ("failed", QUEUE_UNREACHABLE)

    # Asked again once Redis is back, the job reaches the RQ worker (which fails it for want
    # of an active model: this stack registers none).
    again = lead.request("POST", f"/api/cases/{case['id']}/prelabel").json()["job"]

    def finished() -> bool:
        state = lead.request("GET", f"/api/jobs/{again['id']}").json()
        return bool(state["status"] in {"succeeded", "failed"} and state["attempts"] >= 1)

    wait_until(finished, timeout=180, what="the re-requested job run by the worker")
