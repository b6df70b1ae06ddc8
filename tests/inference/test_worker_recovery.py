"""A worker killed in the middle of a job: the job is re-queued and finishes, once.

The real worker (`manage.py worker`) runs as a subprocess on the test database. The active
model is a real ONNX graph that never ends (a Loop of 2**62 steps), so the job is surely
still predicting when the test kills the worker with SIGKILL; a lead then activates a
working model and the next worker finishes the job.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.db import connection

from annotation.models import Read, ReadKind
from inference.models import JobStatus, ModelStatus, PrelabelJob
from inference.services.jobs import MAX_ATTEMPTS, jobs_sweep_stale, prelabel_enqueue
from inference.services.registry import model_register
from tests.inference.tiny import NET, TINY_CONTRACT, tiny_model
from tests.server import database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def endless_model(path: Path) -> Path:
    """TINY_CONTRACT's inputs and outputs around a Loop that runs until its process dies."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    body = helper.make_graph(
        [
            helper.make_node("Identity", ["go_in"], ["go_out"]),
            helper.make_node("Conv", ["x_in", "w_step"], ["x_out"], pads=[1, 1, 1, 1]),
        ],
        "forever",
        [
            helper.make_tensor_value_info("step", TensorProto.INT64, []),
            helper.make_tensor_value_info("go_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("x_in", TensorProto.FLOAT, None),
        ],
        [
            helper.make_tensor_value_info("go_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("x_out", TensorProto.FLOAT, None),
        ],
    )
    initializers = [
        numpy_helper.from_array(np.ones((2, 1, 1, 1), np.float32), "w_in"),
        numpy_helper.from_array(np.zeros((2, 2, 3, 3), np.float32), "w_step"),
        numpy_helper.from_array(np.array(2**62, np.int64), "steps"),
        numpy_helper.from_array(np.array(True), "go"),
    ]
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["image", "w_in"], ["x0"]),
            helper.make_node("Loop", ["steps", "go", "x0"], ["seg"], body=body),
        ],
        "endless",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, NET, NET])],
        [helper.make_tensor_value_info("seg", TensorProto.FLOAT, ["N", 2, NET, NET])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _worker_env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "DATA_DIR": str(settings.DATA_DIR),
        "LIVE_OUTBOX_ENABLED": "false",
    }


def _wait_until(condition: Callable[[], bool], *, what: str, timeout_s: float = 120.0) -> None:
    """Check the condition until it holds; fail naming it when the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached in {timeout_s:.0f} s")
        time.sleep(0.02)


def _running(job_id: int) -> bool:
    return PrelabelJob.objects.get(pk=job_id).status == JobStatus.RUNNING


def test_a_killed_worker_leaves_the_job_requeued_then_done_once(phantom_case, tmp_path) -> None:
    model_register(
        file=endless_model(tmp_path / "endless.onnx"),
        task="sagittal",
        contract=TINY_CONTRACT,
        status=ModelStatus.ACTIVE,
    )
    job = prelabel_enqueue(case=phantom_case)
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--interval", "0.1"],
        cwd=ROOT,
        env=_worker_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Running means the worker took the job; its model never returns, so it is
        # still inside the job whenever the kill lands.
        _wait_until(lambda: _running(job.pk), what="the worker runs the job")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING  # what a dead worker leaves behind
    assert job.attempts == 1
    assert not Read.objects.filter(case=phantom_case, kind=ReadKind.MODEL).exists()

    # A working model replaces the endless one; the next worker to start (the only one)
    # sweeps the job up and runs it again.
    model_register(
        file=tiny_model(tmp_path / "tiny.onnx"),
        task="sagittal",
        contract=TINY_CONTRACT,
        status=ModelStatus.ACTIVE,
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "worker", "--single", "--batch", "--interval", "0"],
        check=False,
        cwd=ROOT,
        env=_worker_env(),
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


def test_a_worker_killed_while_retraining_leaves_the_job_failed_and_no_model(
    cast, project, tmp_path
) -> None:
    """The run trains for (practically) ever; killed mid-epoch, then the next worker to
    start fails it with its reason, and neither a model record nor a file is left."""
    from annotation.models import Split
    from inference.models import ModelVersion, RetrainJob, RetrainPolicy, RetrainTrigger
    from inference.services.retrain import WORKER_LOST, retrain_request, retrain_work_dir
    from tests.inference.retrain_fixtures import phantom_gold_case, trained_tiny_model

    base = trained_tiny_model()
    RetrainPolicy.objects.create(project=project, epochs=1, steps_per_epoch=10**6, batch_size=2)
    for seed, split in ((61, Split.TRAIN), (62, Split.TUNE)):
        phantom_gold_case(
            project=project, folder=tmp_path, seed=seed, split=split, signer=cast["reviewer"]
        )
    job = RetrainJob.objects.filter(project=project).first() or retrain_request(
        project=project, task="sagittal", requested_by=cast["lead"], trigger=RetrainTrigger.LEAD
    )
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--interval", "0.1"],
        cwd=ROOT,
        env=_worker_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # A step in the progress means the worker is inside the training loop.
        _wait_until(
            lambda: "step" in RetrainJob.objects.get(pk=job.pk).progress,
            what="the worker trains",
            timeout_s=240,
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING  # what a dead worker leaves behind
    assert retrain_work_dir(job).is_dir()

    result = subprocess.run(
        [sys.executable, "manage.py", "worker", "--single", "--batch", "--interval", "0"],
        check=False,
        cwd=ROOT,
        env=_worker_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "failed 1 retraining job" in result.stdout
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == WORKER_LOST
    assert job.candidate_id is None
    assert list(ModelVersion.objects.values_list("pk", "status")) == [(base.pk, ModelStatus.ACTIVE)]
    assert sorted(p.name for p in Path(settings.MODEL_DIR).iterdir()) == [f"{base.sha256}.onnx"]
