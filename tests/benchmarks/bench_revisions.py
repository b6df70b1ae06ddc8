"""Annotator benchmarks (issue 3): saving a 40-shape read one at a time and under 50
concurrent clients, and the revision history of a read with 200 revisions.

Real uvicorn server, throwaway PostgreSQL database, keep-alive HTTP clients with session
and CSRF cookies as the browser sends them. Every save is measured and stored (the
measurement hook runs inside the save).
"""

from __future__ import annotations

import http.client
import json
import math
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.benchmarks.common import django_setup, emit, start_server, summary

CLIENTS = 50
SAVES_PER_CLIENT = 12


def read_shapes(rows: int, columns: int) -> list[dict[str, Any]]:
    """Two 60-point polygons, the 20 vertebral corners, six calipers and twelve markers."""
    from annotation.label_templates import VERTEBRAL_CORNERS

    def band(x0: float, width: float) -> list[list[float]]:
        left = [[x0 + 2 * math.sin(i / 5), 40 + i * 14.0] for i in range(30)]
        right = [[x + width, y] for x, y in reversed(left)]
        return [[round(x, 2), round(y, 2)] for x, y in left + right]

    shapes: list[dict[str, Any]] = [
        {"label": "canal", "points": band(200, 28), "shape_type": "polygon", "flags": {}},
        {"label": "cord", "points": band(207, 16), "shape_type": "polygon", "flags": {}},
    ]
    for index, name in enumerate(VERTEBRAL_CORNERS):
        vertebra, corner = divmod(index, 4)
        x = 120.0 if corner < 2 else 196.0
        y = 60.0 + vertebra * 80 + (0 if corner % 2 == 0 else 60)
        shapes.append({"label": name, "points": [[x, y]], "shape_type": "point", "flags": {}})
    for i, name in enumerate(("d_i", "d_a", "d_b", "D_i", "D_a", "D_b")):
        y = 100.0 + i * 50
        shapes.append(
            {"label": name, "points": [[205.0, y], [225.0, y]], "shape_type": "line", "flags": {}}
        )
    for i in range(12):
        shapes.append(
            {
                "label": "marker",
                "points": [[30.0 + i * 10, 20.0]],
                "shape_type": "point",
                "flags": {},
            }
        )
    assert len(shapes) == 40
    return shapes


def edited(shapes: dict[str, list[dict[str, Any]]], step: int) -> dict[str, list[dict[str, Any]]]:
    """The read after one more edit: a corner moved by a fraction of a pixel, so that every
    save is a real change and its measurements are recomputed (not reused)."""
    key, items = next(iter(shapes.items()))
    moved = [dict(shape) for shape in items]
    corner = moved[2]
    x, y = corner["points"][0]
    corner["points"] = [[x + 0.01 * (step % 50), y]]
    return {key: moved}


class Session:
    def __init__(self, url: str, cookie: str, token: str) -> None:
        self.conn = http.client.HTTPConnection(url.removeprefix("http://"), timeout=60)
        self.headers = {
            "Cookie": f"{cookie}; csrftoken={token}",
            "X-CSRFToken": token,
            "Content-Type": "application/json",
        }

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any, float]:
        data = None if body is None else json.dumps(body)
        start = time.perf_counter()
        self.conn.request(method, path, body=data, headers=self.headers)
        response = self.conn.getresponse()
        raw = response.read()
        elapsed = (time.perf_counter() - start) * 1000
        return response.status, json.loads(raw) if raw else None, elapsed


def _sequential(env: dict[str, str], cookie: str, case_id: int, shapes: Any) -> None:
    """One client saving 230 edits in a row, then reading the read's history."""
    from django.middleware.csrf import _get_new_csrf_string

    from annotation.models import Revision

    server, url = start_server(env)
    try:
        token = _get_new_csrf_string()
        first = Session(url, cookie, token)
        status, read, _ = first.request("POST", f"/api/cases/{case_id}/reads")
        assert status in {200, 201}, read
        parent = None
        samples = []
        for i in range(230):
            status, body, ms = first.request(
                "POST",
                f"/api/reads/{read['id']}/revisions",
                {"parent": parent, "shapes": edited(shapes, i)},
            )
            assert status == 201, body
            parent = body["id"]
            if i >= 30:  # warm-up excluded
                samples.append(ms)
        stats = summary(samples)
        emit("save_40_shapes_p50", stats["p50"], "ms", "<= 15")
        emit("save_40_shapes_p95", stats["p95"], "ms", "<= 30", n=len(samples))

        history = [first.request("GET", f"/api/reads/{read['id']}/revisions")[2] for _ in range(60)]
        revisions = Revision.objects.filter(read_id=read["id"]).count()
        emit(
            "revision_history_p95", summary(history[10:])["p95"], "ms", "<= 50", revisions=revisions
        )

        first.conn.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-rev-"))
    django_setup(data_dir=data_dir)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from annotation.models import Image
    from annotation.services.projects import membership_set, project_create
    from tests.factories import make_case

    call_command("migrate", verbosity=0)
    project = project_create(slug="bench")
    case = make_case(project=project, rows=512, columns=512, slices=3, orientations=("sagittal",))
    image = Image.objects.filter(series__case=case).order_by("index")[1]
    users = []
    for i in range(CLIENTS):
        user = get_user_model().objects.create_user(f"a{i:02d}", password="bench-password")
        membership_set(project=project, user=user, role="annotator")
        users.append(user)
    cookies = []
    for user in users:
        client = Client()
        client.force_login(user)
        cookies.append(f"sessionid={client.cookies['sessionid'].value}")
    shapes = {str(image.pk): read_shapes(512, 512)}

    env = {**os.environ, "DATA_DIR": str(data_dir), "DATABASE_POOL_MAX": "60"}
    _sequential(env, cookies[0], case.pk, shapes)

    # Concurrency: the embedded default (one ASGI process) and the at-scale layout on this
    # machine (one process per core, Channels over Redis).
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
    layouts: tuple[tuple[str, int, dict[str, str]], ...] = (
        ("1_process", 1, {}),
        ("2_processes_redis", 2, {"REDIS_URL": redis_url}),
    )
    for label, workers, extra in layouts:
        server, url = start_server({**env, **extra}, workers=workers)
        try:
            _concurrent(label, url, project, cookies, shapes[str(image.pk)])
        finally:
            server.terminate()
            server.wait(timeout=10)


def _concurrent(
    label: str, url: str, project: Any, cookies: list[str], image_shapes: list[dict[str, Any]]
) -> None:
    """CLIENTS clients, each saving SAVES_PER_CLIENT edits of its own read as fast as it can."""
    from django.middleware.csrf import _get_new_csrf_string

    from annotation.models import Image, Revision
    from tests.factories import make_case

    token = _get_new_csrf_string()
    other = make_case(project=project, rows=512, columns=512, slices=3, orientations=("sagittal",))
    other_image = Image.objects.filter(series__case=other).order_by("index")[1]
    shapes = {str(other_image.pk): image_shapes}
    sessions = [Session(url, cookie, token) for cookie in cookies]
    reads = [s.request("POST", f"/api/cases/{other.pk}/reads")[1]["id"] for s in sessions]
    errors: list[str] = []
    latencies: list[float] = []
    created: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS + 1)

    def worker(session: Session, read_id: int) -> None:
        head = None
        barrier.wait()
        for step in range(SAVES_PER_CLIENT):
            status, body, ms = session.request(
                "POST",
                f"/api/reads/{read_id}/revisions",
                {"parent": head, "shapes": edited(shapes, step)},
            )
            with lock:
                if status != 201:
                    errors.append(f"{status}: {str(body)[:200]}")
                    return
                latencies.append(ms)
                created.append(body["id"])
            head = body["id"]

    threads = [
        threading.Thread(target=worker, args=(session, read_id))
        for session, read_id in zip(sessions, reads, strict=True)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    stored = Revision.objects.filter(read_id__in=reads).count()
    emit(
        f"concurrent_saves_per_second_{label}",
        len(created) / elapsed,
        "saves/s",
        ">= 80",
        clients=CLIENTS,
        errors=len(errors),
        lost=len(created) - stored,
        p95_ms=round(summary(latencies)["p95"], 1) if latencies else None,
    )
    if errors:
        print("errors:", errors[:5])


if __name__ == "__main__":
    main()
