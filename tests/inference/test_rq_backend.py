"""At scale: the same pre-label task through the RQ backend on Redis, run by `rqworker`.

Both sides run as subprocesses with TASKS_BACKEND=rq (the backend is chosen when settings
load); they share this test's PostgreSQL database and data folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from annotation.models import Read, ReadKind
from inference.models import JobStatus, PrelabelJob
from tests.inference.tiny import register_tiny_model
from tests.server import database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL_FOR_TESTS", "redis://127.0.0.1:6379/9")


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _clear_rq(client: object) -> None:
    """Remove only RQ's own keys from the test database of Redis (db 9 by default)."""
    keys = list(client.scan_iter("rq:*"))  # type: ignore[attr-defined]
    if keys:
        client.delete(*keys)  # type: ignore[attr-defined]


def test_a_prelabel_job_runs_through_rq_and_an_rq_worker(phantom_case, tmp_path: Path) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    _clear_rq(client)
    register_tiny_model(tmp_path)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "DATA_DIR": str(settings.DATA_DIR),
        "TASKS_BACKEND": "rq",
        "REDIS_URL": REDIS_URL,
    }
    enqueue = _run(
        [
            "shell",
            "-c",
            "from annotation.models import Case\n"
            "from inference.services.jobs import prelabel_enqueue\n"
            f"case = Case.objects.get(pk={phantom_case.pk})\n"
            "print(prelabel_enqueue(case=case).pk)",
        ],
        env,
    )
    assert enqueue.returncode == 0, enqueue.stderr[-2000:]
    job_id = int(enqueue.stdout.strip().splitlines()[-1])
    assert client.llen("rq:queue:default") == 1
    assert PrelabelJob.objects.get(pk=job_id).status == JobStatus.QUEUED

    worker = _run(["rqworker", "default", "--burst", "--job-class", "django_tasks_rq.Job"], env)
    assert worker.returncode == 0, worker.stderr[-2000:]
    job = PrelabelJob.objects.get(pk=job_id)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert Read.objects.filter(case=phantom_case, kind=ReadKind.MODEL).count() == 1
    _clear_rq(client)
