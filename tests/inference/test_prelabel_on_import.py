"""Pre-labelling follows an import through the CasesImported event (config/subscribers.py)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from annotation.models import Case, Project
from fixtures.phantom import make_phantom, write_dicom
from fixtures.phantom_types import PhantomSpec
from inference.models import JobStatus, PrelabelJob
from tests.inference.tiny import register_tiny_model

# After-commit subscribers run when the import's transactions commit: a real transaction.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def study(tmp_path: Path) -> Path:
    folder = tmp_path / "study"
    write_dicom(make_phantom(PhantomSpec(seed=5, compression_level="C4")), folder)
    return folder


def _uploads(folder: Path) -> list[SimpleUploadedFile]:
    paths = sorted(p for p in folder.rglob("*") if p.is_file())
    return [SimpleUploadedFile(f"{i:04d}.dcm", p.read_bytes()) for i, p in enumerate(paths)]


@pytest.fixture
def prelabel_on(settings: Any, tmp_path: Path) -> None:
    settings.PRELABEL_ON_IMPORT = True
    register_tiny_model(tmp_path)


def test_an_upload_queues_pre_labelling_of_its_new_case(
    prelabel_on: None, clients: dict[str, Client], project: Project, study: Path
) -> None:
    url = f"/api/projects/{project.slug}/imports"
    response = clients["lead"].post(url, {"files": _uploads(study)})
    assert response.status_code == 201, response.content
    case = Case.objects.get(project=project)
    job = PrelabelJob.objects.get(case=case)
    assert job.status == JobStatus.QUEUED
    assert job.requested_by == User.objects.get(username="lead")
    # Importing the same study again updates the case: nothing new to pre-label.
    assert clients["lead"].post(url, {"files": _uploads(study)}).status_code == 201
    assert PrelabelJob.objects.count() == 1


def test_the_import_command_queues_pre_labelling_unless_the_project_turned_it_off(
    prelabel_on: None, project: Project, study: Path
) -> None:
    call_command("import_cases", str(study), "--project", "fresh", stdout=StringIO())
    assert PrelabelJob.objects.filter(case__project__slug="fresh").count() == 1

    project.prelabel_on_import = False
    project.save(update_fields=["prelabel_on_import"])
    call_command("import_cases", str(study), "--project", project.slug, stdout=StringIO())
    assert not PrelabelJob.objects.filter(case__project=project).exists()


def test_nothing_is_queued_when_the_setting_is_off(
    settings: Any, prelabel_on: None, project: Project, study: Path
) -> None:
    settings.PRELABEL_ON_IMPORT = False
    call_command("import_cases", str(study), "--project", project.slug, stdout=StringIO())
    assert Case.objects.filter(project=project).count() == 1
    assert not PrelabelJob.objects.exists()
