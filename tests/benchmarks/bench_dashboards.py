"""Dashboard benchmarks (issue 12): the progress and agreement endpoints on a project of
10,000 cases, 50 readers, 3 model versions and 40,000 revisions (targets p95 <= 150 ms each,
query count constant), through Django's test client, cold (computed: the first request after
a change) and warm (cached under the unchanged change counter); and save-to-dashboard
latency through a real uvicorn server: a save POSTed to the API while the lead's project
socket listens, timed to the `dashboard.changed` it announces (median <= 300 ms, p95 <= 1 s)
and to the refetched progress figures."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.benchmarks.common import django_setup, emit, start_server, summary

CASES = 10_000
ANNOTATORS, READERS, VERSIONS, REVISIONS = 40, 10, 3, 40_000
ROUNDS = 30
SAVES = 40


def _endpoints(lead: Any, project_id: int, slug: str) -> None:
    """Each endpoint cold (the first request after a change: its dashboard's counter bumped
    before each request, outside the timing, so the answer is computed) and warm (the
    answer cached under the unchanged counter)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from dashboards.services.counter import dashboard_counter_bump

    client = Client()
    client.force_login(lead)
    base = f"/api/projects/{slug}/dashboard"
    for name, part, url in (
        ("dashboard_progress", "progress", f"{base}/progress"),
        ("dashboard_progress_split", "progress", f"{base}/progress?split=train"),
        ("dashboard_agreement", "agreement", f"{base}/agreement"),
        ("dashboard_agreement_split_dates", "agreement",
         f"{base}/agreement?split=test&from=2000-01-01"),
    ):  # fmt: skip
        client.get(url)  # warm-up (sessions, content types, the first JSON decoding)
        for mode in ("cold", "warm"):
            samples, queries, size = [], set(), 0
            for _ in range(ROUNDS):
                if mode == "cold":
                    dashboard_counter_bump(project_id=project_id, parts=(part,))
                with CaptureQueriesContext(connection) as captured:
                    start = time.perf_counter()
                    answer = client.get(url)
                    samples.append((time.perf_counter() - start) * 1000)
                assert answer.status_code == 200, answer.content[:300]
                queries.add(len(captured.captured_queries))
                size = len(answer.content)
            stats = summary(samples)
            emit(f"{name}_{mode}_p95", stats["p95"], "ms", "<= 150", p50=stats["p50"],
                 queries=sorted(queries), bytes=size, cases=CASES)  # fmt: skip


async def _listen_and_save(
    url: str, slug: str, cookie: str, tokens: tuple[str, str], read_id: int, shapes: dict[str, Any]
) -> tuple[list[float], list[float]]:
    """SAVES saves through the API; per save the ms to its dashboard.changed on the socket,
    and to the refetched progress dashboard."""
    import websockets

    host = url.removeprefix("http://")
    conn = http.client.HTTPConnection(host, timeout=30)
    token, lead_token = tokens
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    to_event, to_refetch = [], []
    parent = None
    async with websockets.connect(
        f"ws://{host}/ws/projects/{slug}/",
        additional_headers={"Cookie": cookie, "Origin": url},
    ) as socket:
        for k in range(SAVES):
            body = json.dumps({"parent": parent, "shapes": shapes})
            start = time.perf_counter()
            # The POST blocks this loop; the socket buffers the event meanwhile.
            conn.request("POST", f"/api/reads/{read_id}/revisions", body=body, headers=headers)
            response = conn.getresponse()
            saved = json.loads(response.read())
            assert response.status == 201, saved
            parent = saved["id"]
            while True:
                message = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
                if message["type"] == "dashboard.changed":
                    break
            to_event.append((time.perf_counter() - start) * 1000)
            conn.request("GET", f"/api/projects/{slug}/dashboard/progress",
                         headers={"Authorization": f"Bearer {lead_token}"})  # fmt: skip
            refetched = conn.getresponse()
            refetched.read()
            assert refetched.status == 200
            to_refetch.append((time.perf_counter() - start) * 1000)
            shapes = {key: [dict(s, points=[[x + (1 if k % 2 else -1), y] for x, y in s["points"]])
                            for s in items] for key, items in shapes.items()}  # fmt: skip
    conn.close()
    return to_event, to_refetch


def _save_latency(built: Any, data_dir: Path) -> None:
    from django.test import Client

    from annotation.models import Image, Read, ReadKind
    from annotation.services.tokens import token_create
    from tests.dashboards.world import study_shapes
    from tests.factories import make_case

    case = make_case(project=built.project, slices=2)
    annotator = built.annotators[0]
    read = Read.objects.create(case=case, kind=ReadKind.HUMAN, author=annotator)
    import numpy as np

    shapes = study_shapes(case, np.random.default_rng(1))
    assert Image.objects.filter(series__case=case).count() == 4
    _, secret = token_create(user=annotator, name="bench", projects=[built.project.slug])
    lead = Client()
    lead.force_login(built.lead)
    cookie = f"sessionid={lead.cookies['sessionid'].value}"
    _, lead_secret = token_create(user=built.lead, name="bench", projects=[built.project.slug])
    server, url = start_server({**os.environ, "DATA_DIR": str(data_dir)})
    try:
        to_event, to_refetch = asyncio.run(
            _listen_and_save(
                url, built.project.slug, cookie, (secret, lead_secret), read.pk, shapes
            )
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    for name, values, target in (
        ("save_to_dashboard_event", to_event, "median <= 300, p95 <= 1000"),
        ("save_to_refetched_progress", to_refetch, ""),
    ):
        stats = summary(values[3:])  # the first saves warm the server's caches
        emit(f"{name}_median", stats["p50"], "ms", target, p95=stats["p95"], saves=len(values) - 3)


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-dashboards-"))
    django_setup(database="spinelabel_bench_dashboards", data_dir=data_dir)
    from django.core.management import call_command

    from tests.dashboards.bulk import bulk_project

    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    built = bulk_project(
        cases=CASES, annotators=ANNOTATORS, readers=READERS, versions=VERSIONS,
        revisions_per_case=REVISIONS / CASES,
    )  # fmt: skip
    from django.db import connection

    from dashboards.models import AgreementRow

    with connection.cursor() as cursor:  # a live database has statistics; a bulk load not yet
        cursor.execute("ANALYZE")

    emit("dashboard_bench_build", time.perf_counter() - start, "s", "", cases=CASES,
         revisions=built.revisions, agreement_rows=AgreementRow.objects.count())  # fmt: skip
    _endpoints(built.lead, built.project.pk, built.project.slug)
    _save_latency(built, data_dir)


if __name__ == "__main__":
    main()
