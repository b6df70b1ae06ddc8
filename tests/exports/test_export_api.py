"""The export routes end to end: request, the task run by the real database worker,
progress, download, expiry (410), refusals that name the field, and nothing half-written."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from annotation.models import Image, Project
from exports.archive import export_root
from exports.models import ExportJob, ExportStatus
from exports.run import export_run
from tests.exports.conftest import Study

pytestmark = pytest.mark.django_db(transaction=True)


def _post(client: Client, slug: str, body: dict[str, Any]) -> Any:
    return client.post(
        f"/api/projects/{slug}/exports", data=json.dumps(body), content_type="application/json"
    )


def _gold(formats: list[str], split: str = "") -> dict[str, Any]:
    return {"split": split, "selection": {"kind": "gold"}, "formats": formats}


def _leftovers() -> list[str]:
    return sorted(p.name for p in export_root().iterdir() if p.name.startswith("."))


def test_a_lead_exports_gold_through_the_worker_and_downloads_the_zip(
    clients: dict[str, Client], project: Project, study: Study
) -> None:
    response = _post(clients["lead"], project.slug, _gold(["labelme", "coco", "nifti", "csv"]))
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    assert response.json()["status"] == "queued"
    assert response.json()["download"] is None

    call_command("worker", batch=True, interval=0)

    detail = clients["lead"].get(f"/api/exports/{job_id}").json()
    assert detail["status"] == "succeeded", detail["reason"]
    assert detail["progress"] == 1.0
    assert detail["cases_total"] == detail["cases_done"] == 1
    assert detail["download"] == f"/api/exports/{job_id}/download"
    download = clients["lead"].get(detail["download"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    body = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert {n.split("/")[0] for n in names} == {"labelme", "coco", "nifti", "csv"}
    assert _leftovers() == []
    listed = clients["lead"].get(f"/api/projects/{project.slug}/exports").json()
    assert [row["id"] for row in listed] == [job_id]
    # An export is its requester's: another reviewer or lead does not see it.
    assert clients["reviewer"].get(f"/api/exports/{job_id}").status_code == 404
    assert clients["reviewer"].get(detail["download"]).status_code == 404
    assert clients["reviewer"].get(f"/api/projects/{project.slug}/exports").json() == []


def test_an_expired_link_answers_410_and_the_archive_is_removed(
    clients: dict[str, Client], project: Project, cast: dict[str, User], study: Study
) -> None:
    job_id = _post(clients["lead"], project.slug, _gold(["csv"])).json()["id"]
    job = export_run(job_id=job_id)
    assert job.status == ExportStatus.SUCCEEDED
    assert job.expires_at is not None
    lifetime = job.expires_at - job.finished_at  # type: ignore[operator]
    assert lifetime == timedelta(hours=settings.EXPORT_LINK_HOURS)
    ExportJob.objects.filter(pk=job_id).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = clients["lead"].get(f"/api/exports/{job_id}/download")

    assert response.status_code == 410
    assert "expired" in response.json()["detail"]
    assert clients["lead"].get(f"/api/exports/{job_id}").json()["download"] is None
    # The next request sweeps expired archives away; the job still answers 410.
    assert _post(clients["lead"], project.slug, _gold(["csv"])).status_code == 202
    assert not (export_root() / f"export-{job_id}.zip").exists()
    assert clients["lead"].get(f"/api/exports/{job_id}/download").status_code == 410


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (_gold(["csv"], split="tune"), "selection", "no case in the tune split has a signed gold"),
        (
            {"selection": {"kind": "group", "value": "reader"}, "formats": ["csv"]},
            "selection",
            "no reader has a saved read",
        ),
        (_gold([]), "formats", "choose at least one format"),
        (_gold(["pdf"]), "formats", "unknown format 'pdf'"),
        (_gold(["csv"], split="holdout"), "split", "holdout"),
        ({"selection": {"kind": "group", "value": "boss"}, "formats": ["csv"]}, "selection", ""),
        (
            {"selection": {"kind": "annotator", "value": "99999"}, "formats": ["csv"]},
            "selection",
            "",
        ),
        ({"selection": {"kind": "model", "value": "x"}, "formats": ["csv"]}, "selection", ""),
        ({"formats": ["csv"]}, "selection", ""),
    ],
)
def test_a_bad_request_is_a_400_naming_the_field_and_queues_nothing(
    clients: dict[str, Client],
    project: Project,
    study: Study,
    body: dict[str, Any],
    field: str,
    words: str,
) -> None:
    response = _post(clients["lead"], project.slug, body)

    assert response.status_code == 400, response.content
    reply = response.json()
    key = next(k for k in reply if k.split(".")[0] == field)
    assert words in json.dumps(reply[key])
    assert not ExportJob.objects.exists()


def test_only_leads_and_reviewers_export(
    clients: dict[str, Client], project: Project, study: Study
) -> None:
    for who in ("annotator", "reader"):
        response = _post(clients[who], project.slug, _gold(["csv"]))
        assert response.status_code == 403
        assert "leads and reviewers" in response.json()["detail"]
    assert _post(clients["outsider"], project.slug, _gold(["csv"])).status_code == 404
    assert _post(clients["reviewer"], project.slug, _gold(["csv"])).status_code == 202


def test_a_failing_export_leaves_no_archive_and_says_why(
    clients: dict[str, Client], project: Project, study: Study
) -> None:
    job_id = _post(clients["lead"], project.slug, _gold(["labelme"])).json()["id"]
    # A pixel file lost from the store: the writer cannot read the slice.
    image = Image.objects.filter(series__case=study.case).first()
    assert image is not None
    (Path(settings.PIXEL_ROOT) / image.pixel_path).unlink()

    job = export_run(job_id=job_id)

    assert job.status == ExportStatus.FAILED
    assert "FileNotFoundError" in job.reason
    assert job.file == ""
    assert list(export_root().glob("*.zip")) == []
    assert _leftovers() == []
    reply = clients["lead"].get(f"/api/exports/{job_id}/download")
    assert reply.status_code == 409
    assert "failed" in reply.json()["detail"]


def test_a_requester_demoted_before_the_run_exports_nothing(
    clients: dict[str, Client], project: Project, cast: dict[str, User], study: Study
) -> None:
    from annotation.services.projects import membership_set

    job_id = _post(clients["reviewer"], project.slug, _gold(["csv"])).json()["id"]
    membership_set(project=project, user=cast["reviewer"], role="annotator")

    job = export_run(job_id=job_id)

    assert job.status == ExportStatus.FAILED
    assert "no longer a lead or reviewer" in job.reason
    assert list(export_root().glob("*.zip")) == []
