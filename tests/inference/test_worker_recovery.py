"""A worker killed in the middle of a job: the job is re-queued and finishes, once.

The real worker (`manage.py worker`) runs as a subprocess on the test database; it is
killed with SIGKILL while the job runs (the job sleeps per series so there is time).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from annotation.models import Read, ReadKind
from inference.models import JobStatus, ModelStatus, PrelabelJob
from inference.services.jobs import MAX_ATTEMPTS, jobs_sweep_stale, prelabel_enqueue
from inference.services.registry import model_register
from tests.inference.tiny import TINY_CONTRACT, tiny_model
from tests.server import database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def _worker_env(delay_s: float) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "DATA_DIR": str(settings.DATA_DIR),
        "PRELABEL_DEBUG_DELAY_S": str(delay_s),
        "LIVE_OUTBOX_ENABLED": "false",
    }


def _wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def test_a_killed_worker_leaves_the_job_requeued_then_done_once(phantom_case, tmp_path) -> None:
    model_register(
        file=tiny_model(tmp_path / "t.onnx"),
        task="sagittal",
        contract=TINY_CONTRACT,
        status=ModelStatus.ACTIVE,
    )
    job = prelabel_enqueue(case=phantom_case)
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--interval", "0.1"],
        cwd=ROOT,
        env=_worker_env(delay_s=60),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(lambda: PrelabelJob.objects.get(pk=job.pk).status == JobStatus.RUNNING)
        time.sleep(0.5)  # well inside the job's 60 s sleep
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING  # what a dead worker leaves behind
    assert not Read.objects.filter(case=phantom_case, kind=ReadKind.MODEL).exists()

    # The next worker to start (the only one) sweeps it up and runs it again.
    result = subprocess.run(
        [sys.executable, "manage.py", "worker", "--single", "--batch", "--interval", "0"],
        check=False,
        cwd=ROOT,
        env=_worker_env(delay_s=0),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "re-queued or failed 1 job" in result.stdout
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts == 2
    assert Read.objects.filter(case=phantom_case, kind=ReadKind.MODEL).count() == 1

    from django_tasks_db.models import DBTaskResult

    statuses = sorted(DBTaskResult.objects.values_list("status", flat=True))
    assert statuses == ["FAILED", "SUCCESSFUL"]


def test_a_job_that_keeps_losing_its_worker_fails_with_a_reason(phantom_case) -> None:
    job = PrelabelJob.objects.create(
        case=phantom_case, status=JobStatus.RUNNING, attempts=MAX_ATTEMPTS
    )
    PrelabelJob.objects.filter(pk=job.pk).update(heartbeat_at="2000-01-01T00:00:00Z")
    assert jobs_sweep_stale(older_than_s=60) == [job.pk]
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "stopped during the job" in job.error


def test_a_running_job_with_a_fresh_heartbeat_is_left_alone(phantom_case) -> None:
    from django.utils import timezone

    job = PrelabelJob.objects.create(
        case=phantom_case, status=JobStatus.RUNNING, attempts=1, heartbeat_at=timezone.now()
    )
    assert jobs_sweep_stale(older_than_s=60) == []
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
