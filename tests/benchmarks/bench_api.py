"""Foundation benchmarks (issue 2): pixel API p95, case list p95 and query count.

Runs a real uvicorn server on a throwaway PostgreSQL database and times requests from a
keep-alive HTTP client, as a browser does.
"""

from __future__ import annotations

import http.client
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from tests.benchmarks.common import django_setup, emit, start_server, summary

CASES = 10_000


def _login(url: str, username: str, password: str) -> str:
    from django.test import Client

    client = Client()
    assert client.login(username=username, password=password)
    return f"sessionid={client.cookies['sessionid'].value}"


def _timed_get(conn: http.client.HTTPConnection, path: str, cookie: str) -> tuple[float, bytes]:
    start = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": cookie})
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status == 200, (path, response.status, body[:200])
    return elapsed, body


def _populate(project: Any) -> list[int]:
    """CASES cases; the first 200 have a series, the first 20 series ten 512² slices each."""
    from annotation.models import Case, Image, Series
    from annotation.pixels import pixel_write

    rng = np.random.default_rng(0)
    cases = Case.objects.bulk_create(
        Case(project=project, pseudonym=f"B-{i:05d}", source_key=f"k{i}") for i in range(CASES)
    )
    series = Series.objects.bulk_create(
        Series(
            case=case,
            uid=f"2.25.{case.pk}",
            orientation="sagittal",
            source="dicom",
            rows=512,
            columns=512,
            pixel_spacing_row=0.5,
            pixel_spacing_col=0.5,
            dtype="uint16",
            window_center=1000,
            window_width=2000,
        )
        for case in cases[:200]
    )
    images = []
    for s in series[:20]:
        for index in range(10):
            pixels = rng.integers(0, 4096, size=(512, 512), dtype=np.uint16)
            path, digest, _ = pixel_write(pixels)
            images.append(
                Image(
                    series=s,
                    index=index,
                    position=index * 3.0,
                    uid=f"2.25.{s.pk}.{index}",
                    pixel_path=path,
                    sha256=digest,
                    min_value=0,
                    max_value=4095,
                )
            )
    Image.objects.bulk_create(images)
    return [image.pk for image in Image.objects.order_by("id")]


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-api-"))
    django_setup(data_dir=data_dir)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from annotation.services.projects import membership_set, project_create

    call_command("migrate", verbosity=0)
    project = project_create(slug="bench")
    user = get_user_model().objects.create_user("bench", password="bench-password")
    membership_set(project=project, user=user, role="annotator")
    image_ids = _populate(project)

    from django.test import Client

    client = Client()
    client.force_login(user)
    counts = []
    for page in (1, 2, 50):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/api/projects/bench/cases?page={page}&page_size=100")
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    emit("case_list_queries_page_1", counts[0], "queries", "constant across pages", pages=counts)

    env = {**os.environ, "DATA_DIR": str(data_dir)}
    server, url = start_server(env)
    try:
        cookie = _login(url, "bench", "bench-password")
        conn = http.client.HTTPConnection(url.removeprefix("http://"), timeout=10)
        for image_id in image_ids:  # warm-up: sessions, connections, page cache
            _timed_get(conn, f"/api/images/{image_id}/pixels", cookie)
        samples = []
        for _ in range(3):
            for image_id in image_ids:
                ms, body = _timed_get(conn, f"/api/images/{image_id}/pixels", cookie)
                assert len(body) == 512 * 512 * 2
                samples.append(ms)
        stats = summary(samples)
        emit("pixel_api_512x512_uint16_p50", stats["p50"], "ms", "")
        emit("pixel_api_512x512_uint16_p95", stats["p95"], "ms", "<= 20", n=len(samples))

        for _ in range(10):
            _timed_get(conn, "/api/projects/bench/cases?page=1&page_size=100", cookie)
        list_samples = [
            _timed_get(conn, f"/api/projects/bench/cases?page={1 + i % 3}&page_size=100", cookie)[0]
            for i in range(150)
        ]
        stats = summary(list_samples)
        emit("case_list_100_of_10000_p50", stats["p50"], "ms", "")
        emit("case_list_100_of_10000_p95", stats["p95"], "ms", "<= 50", n=len(list_samples))
        html = [_timed_get(conn, "/projects/bench/?page=1", cookie)[0] for _ in range(50)]
        emit("case_list_page_html_p95", summary(html)["p95"], "ms", "")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
