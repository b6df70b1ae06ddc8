"""Measure preview isolation (issue 11, row 4): pixel latency while the heaviest allowed
previews run three at a time, and how long such a preview takes.

Before the fix one 40 MB preview took 5.8 s in the server process and a pixel request
waited 8.7 s behind three of them; now a preview is at most 5 MB / 200,000 points and runs
in a child process, so pixel requests should keep their idle latency.
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

import numpy as np

from tests.benchmarks.common import django_setup, emit, start_server, summary

ROWS = COLUMNS = 512


def _heavy_shapes(image_id: int) -> dict[str, Any]:
    """Five cord/canal rings of 10,000 points each: the 50,000 points a preview may have."""
    shapes = []
    for ring in range(5):
        radius = 20 + 10 * ring
        points = [
            [
                round(256 + radius * math.cos(2 * math.pi * k / 10_000), 2),
                round(256 + radius * math.sin(2 * math.pi * k / 10_000), 2),
            ]
            for k in range(10_000)
        ]
        label = "cord" if ring % 2 == 0 else "canal"
        shapes.append({"label": label, "points": points, "shape_type": "polygon", "flags": {}})
    return {str(image_id): shapes}


def _request(
    conn: http.client.HTTPConnection, method: str, path: str, headers: dict[str, str], body: Any
) -> tuple[float, int]:
    start = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return (time.perf_counter() - start) * 1000, response.status


def _setup(data_dir: Path) -> tuple[int, list[int], str, str]:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from annotation.services.projects import membership_set, project_create
    from tests.factories import make_case

    call_command("migrate", verbosity=0)
    project = project_create(slug="bench")
    user = get_user_model().objects.create_user("reader", password="bench-password")
    membership_set(project=project, user=user, role="reader")
    case = make_case(
        project=project, orientations=("sagittal",), rows=ROWS, columns=COLUMNS, slices=10
    )
    from annotation.models import Image

    images = list(Image.objects.filter(series__case=case).values_list("pk", flat=True))
    client = Client()
    client.force_login(user)
    client.get("/")
    return case.pk, images, client.cookies["sessionid"].value, client.cookies["csrftoken"].value


def _pixels_during_previews(
    host: str,
    *,
    path: str,
    pixel_paths: list[str],
    get_headers: dict[str, str],
    post_headers: dict[str, str],
    body: bytes,
) -> tuple[list[float], list[float], list[int]]:
    """Pixel latencies while three clients post heavy previews, and the previews' times and
    statuses."""
    stop = threading.Event()
    loaded: list[float] = []
    statuses: list[int] = []

    def previews() -> None:
        own = http.client.HTTPConnection(host, timeout=60)
        while not stop.is_set():
            ms, status = _request(own, "POST", path, post_headers, body)
            loaded.append(ms)
            statuses.append(status)

    workers = [threading.Thread(target=previews) for _ in range(3)]
    for worker in workers:
        worker.start()
    time.sleep(1.0)  # let all three get going
    # uvicorn closes keep-alive connections idle for 5 s: open a fresh one.
    conn = http.client.HTTPConnection(host, timeout=60)
    under_load = []
    deadline = time.monotonic() + 15
    i = 0
    while time.monotonic() < deadline:
        ms, status = _request(conn, "GET", pixel_paths[i % len(pixel_paths)], get_headers, None)
        assert status == 200
        under_load.append(ms)
        i += 1
        time.sleep(0.02)
    stop.set()
    for worker in workers:
        worker.join()
    return under_load, loaded, statuses


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-preview-"))
    django_setup(data_dir=data_dir)
    case_id, images, session, csrf = _setup(data_dir)
    env = {**os.environ, "DATA_DIR": str(data_dir), "MEASURE_PREVIEW_RATE": "100000/minute"}
    server, url = start_server(env)
    host = url.removeprefix("http://")
    cookie = f"sessionid={session}; csrftoken={csrf}"
    get_headers = {"Cookie": cookie}
    post_headers = {"Cookie": cookie, "X-CSRFToken": csrf, "Content-Type": "application/json"}
    body = json.dumps({"shapes": _heavy_shapes(images[0])}).encode()
    try:
        conn = http.client.HTTPConnection(host, timeout=60)
        for image_id in images * 3:
            _request(conn, "GET", f"/api/images/{image_id}/pixels", get_headers, None)
        idle = [
            _request(conn, "GET", f"/api/images/{images[i % 10]}/pixels", get_headers, None)[0]
            for i in range(200)
        ]
        single = []
        preview_conn = http.client.HTTPConnection(host, timeout=60)
        for _ in range(5):
            ms, status = _request(
                preview_conn, "POST", f"/api/cases/{case_id}/measure", post_headers, body
            )
            assert status == 200, status
            single.append(ms)

        under_load, loaded, statuses = _pixels_during_previews(
            host,
            path=f"/api/cases/{case_id}/measure",
            pixel_paths=[f"/api/images/{image}/pixels" for image in images[:10]],
            get_headers=get_headers,
            post_headers=post_headers,
            body=body,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    idle_stats, load_stats = summary(idle), summary(under_load)
    emit("pixel_512_idle_p95", idle_stats["p95"], "ms", "", p50=idle_stats["p50"])
    emit(
        "pixel_512_during_3_heavy_previews_p95",
        load_stats["p95"],
        "ms",
        "<= 30",
        p50=load_stats["p50"],
        max=max(under_load),
        n=len(under_load),
    )
    emit("measure_preview_50k_points_p50", float(np.median(single)), "ms", "", n=len(single))
    emit(
        "measure_preview_3_at_once_p50",
        float(np.median(loaded)),
        "ms",
        "",
        n=len(loaded),
        statuses=sorted(set(statuses)),
        cpus=os.cpu_count(),
    )


if __name__ == "__main__":
    main()
