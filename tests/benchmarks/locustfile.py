"""Locust scenario of bench_load.py: annotators opening cases, scrolling slices and saving
every few seconds, and a lead pre-labelling cases in the background.

Driven by bench_load.py, which passes the seeded users, cases and shapes in LOAD_PLAN (a
JSON file) and collects every save the server acknowledged (LOAD_TOLD, JSON lines) and
the status codes per request type (LOAD_STATUSES).
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import random
import secrets
import time
from collections import Counter
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

from tests.faults.client import shapes_hash

PLAN: dict[str, Any] = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
SAVE_EVERY_S = (2.0, 4.0)
SAVES_PER_CASE = 8
_told = Path(os.environ["LOAD_TOLD"]).open("a", encoding="utf-8")  # noqa: SIM115 - whole run
_statuses: Counter[str] = Counter()
_times: dict[str, list[float]] = {}
_annotators = itertools.count()
_leads = itertools.count()


_stopping: list[bool] = []


@events.test_stopping.add_listener
def _stop(**_: Any) -> None:
    _stopping.append(True)


@events.request.add_listener
def _count_status(name: str, response_time: float, response: Any, exception: Any, **_: Any) -> None:
    status = getattr(response, "status_code", 0) if response is not None else 0
    if status == 0 and _stopping:
        return  # cut off by the end of the run, not by the server
    # No answer at all: name the client's exception (a reset, a closed keep-alive, ...).
    why = f" {type(exception).__name__}: {str(exception)[:80]}" if status == 0 else ""
    _statuses[f"{name} {status}{why}"] += 1
    _times.setdefault(name, []).append(response_time)


@events.quitting.add_listener
def _write_statuses(**_: Any) -> None:
    _told.close()
    result = {"statuses": dict(_statuses), "times": _times}
    Path(os.environ["LOAD_STATUSES"]).write_text(json.dumps(result))


def _sign_in(user: HttpUser, username: str, index: int) -> None:
    hosts = PLAN["hosts"]
    user.client.base_url = hosts[index % len(hosts)]  # two ASGI processes behind a balancer
    token = secrets.token_hex(16)
    user.client.cookies.set("sessionid", PLAN["sessions"][username])
    user.client.cookies.set("csrftoken", token)
    user.client.headers["X-CSRFToken"] = token


def _moved(shapes: list[dict[str, Any]], step: int) -> list[dict[str, Any]]:
    """One more edit: a vertebral corner moved by a fraction of a pixel."""
    edited = copy.deepcopy(shapes)
    x, y = edited[2]["points"][0]
    edited[2]["points"] = [[round(x + 0.01 * (step % 97), 2), y]]
    return edited


class Annotator(HttpUser):
    """Opens a case, scrolls through its slices, saves every few seconds, moves on."""

    wait_time = between(0.05, 0.2)
    weight = 50

    def on_start(self) -> None:
        index = next(_annotators)
        _sign_in(self, f"a{index:02d}", index)
        self.case_index = index % len(PLAN["cases"])
        self.step = 0
        self.open_case()

    def open_case(self) -> None:
        case = PLAN["cases"][self.case_index]
        self.case = case
        self.client.get(f"/cases/{case['id']}/", name="case page")
        reply = self.client.post(f"/api/cases/{case['id']}/reads", name="my read")
        self.read_id = reply.json()["id"]
        read = self.client.get(f"/api/reads/{self.read_id}", name="read").json()
        self.head = read["revision"]["id"] if read.get("revision") else None
        self.unseen = list(case["images"])
        self.saves_here = 0
        self.next_save = time.monotonic() + random.uniform(*SAVE_EVERY_S)

    @task
    def work(self) -> None:
        if self.unseen:  # scrolling: each slice is fetched once per opening, as the page does
            image = self.unseen.pop(0)
            self.client.get(f"/api/images/{image}/pixels", name="pixels")
        elif time.monotonic() >= self.next_save:
            self.save()

    def save(self) -> None:
        self.step += 1
        shapes = {str(self.case["images"][1]): _moved(PLAN["shapes"], self.step)}
        with self.client.post(
            f"/api/reads/{self.read_id}/revisions",
            json={"parent": self.head, "shapes": shapes},
            name="save",
            catch_response=True,
        ) as reply:
            if reply.status_code == 201:
                self.head = reply.json()["id"]
                _told.write(json.dumps({"id": self.head, "hash": shapes_hash(shapes)}) + "\n")
                _told.flush()
            else:
                cause = f": {reply.error!r}"[:160] if reply.error else ""
                reply.failure(f"save answered {reply.status_code}{cause}")
        self.saves_here += 1
        self.next_save = time.monotonic() + random.uniform(*SAVE_EVERY_S)
        if self.saves_here >= SAVES_PER_CASE:
            self.case_index = (self.case_index + 1) % len(PLAN["cases"])
            self.open_case()


class Lead(HttpUser):
    """Pre-labels one case after another in the background and follows the job."""

    fixed_count = 1
    wait_time = between(1.5, 2.5)

    def on_start(self) -> None:
        index = next(_leads)
        _sign_in(self, f"l{index:02d}", index)
        self.cases = itertools.cycle(PLAN["cases"])
        self.job: int | None = None

    @task
    def prelabel(self) -> None:
        if self.job is None:
            case = next(self.cases)
            reply = self.client.post(f"/api/cases/{case['id']}/prelabel", name="prelabel")
            if reply.status_code == 202:
                self.job = reply.json()["job"]["id"]
            return
        job = self.client.get(f"/api/jobs/{self.job}", name="job").json()
        if job.get("status") in {"succeeded", "failed"}:
            self.job = None
