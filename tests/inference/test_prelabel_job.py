"""Pre-label jobs through the real database task backend on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections

from annotation.live import case_group
from annotation.models import Read, ReadKind
from annotation.models.imaging import CaseState
from inference.models import JobStatus, ModelStatus, PrelabelJob
from inference.services.jobs import QUEUE_UNREACHABLE, prelabel_enqueue
from inference.services.prelabel import prelabel_run
from inference.services.registry import model_path, model_register, shipped_models_register
from tests.inference.tiny import TINY_CONTRACT, register_tiny_model, tiny_model
from tests.server import database_url

pytestmark = pytest.mark.django_db(transaction=True)


def _run_worker() -> None:
    call_command("worker", batch=True, interval=0)


def test_a_requested_prelabel_becomes_a_model_read_with_cord_canal_and_corners(
    clients, phantom_case
) -> None:
    versions = shipped_models_register()
    assert {v.task for v in versions} == {"sagittal", "axial"}
    response = clients["annotator"].post(f"/api/cases/{phantom_case.pk}/prelabel")
    assert response.status_code == 202
    job_id = response.json()["job"]["id"]
    assert PrelabelJob.objects.get(pk=job_id).status == JobStatus.QUEUED

    _run_worker()

    job = PrelabelJob.objects.get(pk=job_id)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.read_id is not None
    read = Read.objects.select_related("head").get(pk=job.read_id)
    assert read.head is not None
    assert read.kind == ReadKind.MODEL
    shapes = read.head.shapes
    labels_by_orientation: dict[str, set[str]] = {"sagittal": set(), "axial": set()}
    from annotation.models import Image

    for image in Image.objects.filter(pk__in=[int(k) for k in shapes]).select_related("series"):
        labels_by_orientation[image.series.orientation] |= {
            s["label"] for s in shapes[str(image.pk)]
        }
    assert {"cord", "canal"} <= labels_by_orientation["sagittal"]
    corners = {f"{v}_{c}" for v in ("C3", "C4", "C5", "C6", "C7") for c in ("AS", "AI", "PS", "PI")}
    # Corners under the calibrated threshold are withheld as suggestions, not drawn.
    withheld = {s["label"] for items in job.withheld.values() for s in items}
    assert corners <= labels_by_orientation["sagittal"] | withheld
    assert "cord" in labels_by_orientation["axial"]
    assert all(0.0 <= s["confidence"] <= 1.0 for items in shapes.values() for s in items)
    assert set(job.uncertainty) >= set(shapes)
    # Which versions made the read is the job's record; the read's name shows them.
    assert set(job.model_versions.all()) == set(versions)
    assert all(f"{v.task} #{v.pk}" in read.name for v in versions)
    phantom_case.refresh_from_db()
    assert phantom_case.state == CaseState.PRELABELLED
    # The annotator's own read starts from the model's shapes.
    mine = clients["annotator"].post(f"/api/cases/{phantom_case.pk}/reads").json()
    assert mine["head"] is not None
    assert clients["annotator"].get(f"/api/jobs/{job_id}").json()["status"] == "succeeded"


def test_a_job_without_an_active_model_fails_with_its_reason_and_no_read(
    clients, phantom_case
) -> None:
    job_id = clients["annotator"].post(f"/api/cases/{phantom_case.pk}/prelabel").json()["job"]["id"]
    _run_worker()
    job = PrelabelJob.objects.get(pk=job_id)
    assert job.status == JobStatus.FAILED
    assert "no active model" in job.error
    assert not Read.objects.filter(case=phantom_case, kind=ReadKind.MODEL).exists()
    phantom_case.refresh_from_db()
    assert phantom_case.state == CaseState.NEW


def test_a_model_file_changed_after_registration_fails_the_job_cleanly(
    clients, phantom_case, tmp_path: Path
) -> None:
    version = model_register(
        file=tiny_model(tmp_path / "t.onnx"),
        task="sagittal",
        contract=TINY_CONTRACT,
        status=ModelStatus.ACTIVE,
    )
    model_path(version).write_bytes(b"replaced behind the registry's back")
    job_id = clients["annotator"].post(f"/api/cases/{phantom_case.pk}/prelabel").json()["job"]["id"]
    _run_worker()
    job = PrelabelJob.objects.get(pk=job_id)
    assert job.status == JobStatus.FAILED
    assert "sha256" in job.error
    assert not Read.objects.filter(case=phantom_case, kind=ReadKind.MODEL).exists()


def test_who_may_ask_for_prelabels(clients, phantom_case) -> None:
    case_url = f"/api/cases/{phantom_case.pk}/prelabel"
    assert clients["outsider"].post(case_url).status_code == 404
    assert clients["reader"].post(case_url).status_code == 403
    assert clients["annotator"].post(case_url).status_code == 202
    project_url = f"/api/projects/{phantom_case.project.slug}/prelabel"
    assert (
        clients["annotator"].post(project_url, {}, content_type="application/json").status_code
        == 403
    )
    assert (
        clients["outsider"].post(project_url, {}, content_type="application/json").status_code
        == 404
    )
    response = clients["lead"].post(project_url, {}, content_type="application/json")
    assert response.status_code == 202
    assert len(response.json()["jobs"]) == 1


def test_a_project_prelabel_names_cases_that_are_not_in_the_project(clients, phantom_case) -> None:
    response = clients["lead"].post(
        f"/api/projects/{phantom_case.project.slug}/prelabel",
        {"cases": [phantom_case.pk, 999999]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "999999" in str(response.json()["cases"])


def test_the_project_job_list_gives_the_latest_job_of_each_case(clients, phantom_case) -> None:
    first = clients["lead"].post(f"/api/cases/{phantom_case.pk}/prelabel").json()["job"]["id"]
    second = clients["lead"].post(f"/api/cases/{phantom_case.pk}/prelabel").json()["job"]["id"]
    url = f"/api/projects/{phantom_case.project.slug}/jobs?cases={phantom_case.pk},424242"
    body = clients["annotator"].get(url).json()
    assert list(body) == [str(phantom_case.pk)]
    assert body[str(phantom_case.pk)]["id"] == max(first, second)
    assert clients["outsider"].get(url).status_code == 404
    bad = clients["annotator"].get(f"/api/projects/{phantom_case.project.slug}/jobs?cases=a,b")
    assert bad.status_code == 400


MARKER = {"type": "live.event", "event": {"type": "test.marker"}}


@pytest.mark.asyncio
async def test_a_job_announces_its_progress_then_the_read_state_and_end_in_order(
    channel_layer: str, phantom_case, tmp_path: Path
) -> None:
    """What a case's viewers hear of one job, in order, each after its write commits."""
    layer = get_channel_layer()
    assert layer is not None
    viewer = await layer.new_channel()
    await layer.group_add(case_group(phantom_case.pk), viewer)
    await sync_to_async(register_tiny_model)(tmp_path)
    job = await sync_to_async(prelabel_enqueue)(case=phantom_case)
    await sync_to_async(prelabel_run)(job_id=job.pk)
    await layer.group_send(case_group(phantom_case.pk), MARKER)
    heard: list[dict[str, Any]] = []
    while (message := await layer.receive(viewer)) != MARKER:
        heard.append(message["event"])

    def summary(event: dict[str, Any]) -> tuple[str, str]:
        detail = event["job"]["status"] if event["type"] == "job.progress" else ""
        return event["type"], event.get("state", detail)

    assert [summary(e) for e in heard] == [
        ("job.progress", "queued"),
        ("job.progress", "running"),  # loading the models
        ("job.progress", "running"),  # the sagittal series predicted
        ("revision.saved", ""),
        ("measurement.updated", ""),
        ("case.state_changed", "prelabelled"),
        ("job.progress", "succeeded"),
    ]
    read = await sync_to_async(Read.objects.get)(case=phantom_case, kind=ReadKind.MODEL)
    assert heard[3]["read"] == heard[4]["read"] == heard[-1]["job"]["read"] == read.pk
    # The helper thread's connection would keep the test database from being dropped.
    await sync_to_async(connections.close_all)()


def _closed_port() -> int:
    """A local TCP port that nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_job_the_queue_cannot_take_fails_with_its_reason_at_once(
    phantom_case, tmp_path: Path
) -> None:
    """RQ's Redis is down when the job is handed over: the job must not stay queued for
    ever (no worker will see it); it fails, saying so. Real RQ client, nothing listening."""
    register_tiny_model(tmp_path)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "DATA_DIR": str(settings.DATA_DIR),
        "TASKS_BACKEND": "rq",
        "REDIS_URL": f"redis://127.0.0.1:{_closed_port()}/0",
        "LIVE_OUTBOX_ENABLED": "false",
    }
    code = (
        "import django; django.setup()\n"
        "from annotation.models import Case\n"
        "from inference.services.jobs import prelabel_enqueue\n"
        f"job = prelabel_enqueue(case=Case.objects.get(pk={phantom_case.pk}))\n"
        "print(job.pk, job.status)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    job_id, status = result.stdout.split()[-2:]
    assert status == JobStatus.FAILED  # what the request answers
    job = PrelabelJob.objects.get(pk=int(job_id))
    assert job.status == JobStatus.FAILED
    assert job.error == QUEUE_UNREACHABLE
    assert job.finished_at is not None
