"""Requesting, running and serving the study report: who may, bad input, empty data, the
real task worker, live progress, and files written whole or not at all."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from annotation.models import Project, StudyDesign
from reports.models import ReportJob, ReportStatus
from reports.services import report_dir, report_request, report_run
from tests.reports.builders import study_create

MARKER = {"type": "live.event", "event": {"type": "test.marker"}}


def _visible_text(html: str) -> str:
    return re.sub(r'data:[^"]*', "", html)  # base64 downloads hold any letters


@pytest.mark.django_db
def test_it_refuses_the_report_to_members_who_may_not_see_every_read(clients, project) -> None:
    url = f"/api/projects/{project.slug}/reports"
    for who in ("annotator", "reader"):
        answer = clients[who].post(url, {}, content_type="application/json")
        assert answer.status_code == 403
        assert "see every read" in answer.json()["detail"]
        assert clients[who].get(url).status_code == 403
    assert clients["outsider"].post(url, {}, content_type="application/json").status_code == 404
    assert ReportJob.objects.count() == 0


@pytest.mark.django_db
def test_without_blinding_an_annotator_may_but_an_unaided_role_may_not(clients, project) -> None:
    Project.objects.filter(pk=project.pk).update(blinded=False)
    url = f"/api/projects/{project.slug}/reports"
    assert clients["annotator"].post(url, {}, content_type="application/json").status_code == 202
    # The design keeps readers from the model's reads: the report would show them.
    StudyDesign.objects.create(project=project, aided={"reader": False})
    assert clients["reader"].post(url, {}, content_type="application/json").status_code == 403


@pytest.mark.django_db
def test_it_rejects_an_unknown_split_naming_the_field(clients, project) -> None:
    answer = clients["lead"].post(
        f"/api/projects/{project.slug}/reports",
        {"split": "validation"},
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert "split" in answer.json()
    assert ReportJob.objects.count() == 0


@pytest.mark.django_db
def test_a_project_without_gold_gets_a_report_that_says_what_is_missing(project, cast) -> None:
    job = report_request(project=project, requested_by=cast["lead"], split="test")
    done = report_run(job_id=job.pk)
    assert done is not None
    assert done.status == ReportStatus.SUCCEEDED
    html = (Path(settings.DATA_DIR) / done.html_path).read_text()
    text = _visible_text(html)
    assert "not enough data (n = 0): needs at least 2 gold cases with a model read" in text
    assert "No gold yet: not enough data (n = 0): needs at least one case signed as gold" in text
    assert "<svg" not in html  # no blank chart: a placeholder saying why instead
    assert html.count('data-empty-chart="') == 12 + 7
    assert not re.search(r"\bnan\b", text, re.IGNORECASE)
    csv = (Path(settings.DATA_DIR) / done.csv_path).read_text()
    assert "not_enough_data" in csv
    assert "nan" not in csv.lower()


@pytest.mark.django_db
def test_one_gold_case_says_the_icc_is_undefined(project, cast) -> None:
    study_create(
        project=project,
        annotator=cast["annotator"],
        reader=cast["reader"],
        reviewer=cast["reviewer"],
        cases=1,
        splits=("test",),
        missing_every=1000,
    )
    job = report_request(project=project, requested_by=cast["lead"], split="test")
    done = report_run(job_id=job.pk)
    assert done is not None
    html = (Path(settings.DATA_DIR) / done.html_path).read_text()
    text = _visible_text(html)
    assert (
        "not enough data (n = 1): needs at least 2 cases measured by readers, model, gold" in text
    )
    assert "not enough data (n = 1): needs at least 2 values for a mean ± SD" in text
    assert not re.search(r"\bnan\b", text, re.IGNORECASE)
    assert done.summary["gold_cases"] == 1


@pytest.mark.django_db
def test_a_failed_generation_writes_no_file_and_says_why(project, cast) -> None:
    job = report_request(project=project, requested_by=cast["lead"], split="all")
    blocker = report_dir(job.pk)
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder")  # the report's folder cannot be made
    done = report_run(job_id=job.pk)
    assert done is not None
    assert done.status == ReportStatus.FAILED
    assert done.reason.startswith("the report could not be generated")
    assert (done.html_path, done.csv_path) == ("", "")
    assert sorted(p.name for p in blocker.parent.iterdir()) == [str(job.pk)]


@pytest.mark.django_db
def test_the_served_files_are_whole_and_the_html_has_its_own_csp(clients, project, cast) -> None:
    job = report_request(project=project, requested_by=cast["lead"], split="test")
    assert clients["lead"].get(f"/api/reports/{job.pk}/report.html").status_code == 404
    report_run(job_id=job.pk)
    assert sorted(p.name for p in report_dir(job.pk).iterdir()) == ["report.csv", "report.html"]
    html = clients["lead"].get(f"/api/reports/{job.pk}/report.html")
    assert html.status_code == 200
    assert html["Content-Security-Policy"].startswith("default-src 'none'")
    body = b"".join(html.streaming_content).decode()
    assert body.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", body)  # nothing external
    csv = clients["lead"].get(f"/api/reports/{job.pk}/report.csv")
    assert csv["Content-Disposition"].startswith("attachment")
    detail = clients["reviewer"].get(f"/api/reports/{job.pk}").json()
    assert detail["status"] == "succeeded"
    assert detail["html_url"] == f"/api/reports/{job.pk}/report.html"


@pytest.mark.django_db(transaction=True)
def test_the_task_worker_runs_a_requested_report(clients, project, cast) -> None:
    study_create(
        project=project,
        annotator=cast["annotator"],
        reader=cast["reader"],
        reviewer=cast["reviewer"],
        cases=8,
    )
    answer = clients["lead"].post(
        f"/api/projects/{project.slug}/reports", {"split": "all"}, content_type="application/json"
    )
    assert answer.status_code == 202
    assert answer.json()["status"] == "queued"
    call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0)
    job = ReportJob.objects.get(pk=answer.json()["id"])
    assert job.status == ReportStatus.SUCCEEDED, job.reason
    assert job.task_id
    assert job.summary["compared_cases"] == 8
    html = (Path(settings.DATA_DIR) / job.html_path).read_text()
    assert html.count("<svg") == 12 + 7  # every Bland-Altman and per-level chart drawn


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_run_announces_its_progress_to_the_project(channel_layer, cast, project) -> None:
    from asgiref.sync import sync_to_async
    from channels.layers import get_channel_layer
    from django.db import connections

    from annotation.live import project_group

    layer = get_channel_layer()
    assert layer is not None
    viewer = await layer.new_channel()
    await layer.group_add(project_group(project.pk), viewer)
    job = await sync_to_async(report_request)(
        project=project, requested_by=cast["lead"], split="all"
    )
    await sync_to_async(report_run)(job_id=job.pk)
    await layer.group_send(project_group(project.pk), MARKER)
    heard = []
    while (message := await layer.receive(viewer)) != MARKER:
        if message["event"]["type"] == "report.progress":
            heard.append(message["event"])
    assert {h["report"] for h in heard} == {job.pk}
    assert heard[0]["status"] == "queued"
    assert {h["status"] for h in heard[1:-1]} == {"running"}
    progress = [h["progress"] for h in heard[1:-1]]
    assert progress == sorted(progress)
    assert len(progress) >= 4
    assert heard[-1]["status"] == "succeeded"
    assert heard[-1]["progress"] == 1.0
    await sync_to_async(connections.close_all)()


@pytest.mark.django_db
def test_a_job_whose_worker_died_is_failed_when_the_next_is_requested(project, cast) -> None:
    from datetime import timedelta

    from django.utils import timezone

    lost = ReportJob.objects.create(
        project=project,
        status=ReportStatus.RUNNING,
        started_at=timezone.now() - timedelta(hours=2),
    )
    recent = ReportJob.objects.create(
        project=project, status=ReportStatus.RUNNING, started_at=timezone.now()
    )
    report_request(project=project, requested_by=cast["lead"], split="test")
    lost.refresh_from_db()
    recent.refresh_from_db()
    assert lost.status == ReportStatus.FAILED
    assert "worker stopped" in lost.reason
    assert recent.status == ReportStatus.RUNNING
