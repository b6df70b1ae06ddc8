"""Searching the real Orthanc and importing from it through the product (issue 15 §3)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from annotation.models import Case, Image, Project, Series
from pacs.models import ImportStatus, PacsImport
from pacs.selectors import StudyQuery, pacs_study_search
from pacs.services.imports import pacs_import_create, pacs_import_run
from tests.pacs.conftest import Pacs
from tests.pacs.studies import REAL_IDENTIFIERS, REAL_SLICES


def _run(project: Project, user: User, studies: list[str]) -> PacsImport:
    job = PacsImport.objects.create(project=project, requested_by=user, studies=studies)
    return pacs_import_run(import_id=job.pk)


@pytest.mark.django_db
def test_it_finds_studies_by_accession_number_with_what_the_pacs_returns(
    project, connect, pacs_server: Pacs
) -> None:
    connect(pacs_server.url)
    query = StudyQuery(accession_number=REAL_IDENTIFIERS["AccessionNumber"])
    found = pacs_study_search(project=project, query=query)
    assert [s["uid"] for s in found] == [pacs_server.loaded.real_uid]
    study = found[0]
    assert study["patient_name"] == REAL_IDENTIFIERS["PatientName"]
    assert study["series"][0]["instances"] == REAL_SLICES
    assert study["series"][0]["description"] == "T2 SAG real"
    assert study["imported_as"] is None


@pytest.mark.django_db
def test_it_filters_by_date_range_modality_and_series_description(
    project, connect, pacs_server: Pacs
) -> None:
    connect(pacs_server.url)
    import datetime as dt

    day = dt.date(2023, 5, 17)
    by_date = pacs_study_search(project=project, query=StudyQuery(date_from=day, date_to=day))
    assert {s["uid"] for s in by_date} == {
        pacs_server.loaded.real_uid,
        pacs_server.loaded.no_pixels_uid,
    }
    by_description = pacs_study_search(
        project=project, query=StudyQuery(date_from=day, series_description="sag real")
    )
    assert [s["uid"] for s in by_description] == [pacs_server.loaded.real_uid]
    nothing = pacs_study_search(project=project, query=StudyQuery(modality="CT"))
    assert nothing == []


@pytest.mark.django_db
def test_it_imports_phantoms_and_the_real_series_deidentified(
    project, cast, connect, pacs_server: Pacs
) -> None:
    connect(pacs_server.url)
    loaded = pacs_server.loaded
    job = _run(project, cast["lead"], [*loaded.phantom_uids, loaded.real_uid])
    assert job.errors == []
    assert job.status == ImportStatus.SUCCEEDED
    total = sum(loaded.instances[uid] for uid in job.studies)
    assert job.instances_done == job.instances_total == total
    assert Case.objects.filter(project=project).count() == 3
    assert Series.objects.filter(case__project=project).count() == 5
    assert Image.objects.filter(series__case__project=project).count() == total
    real = Series.objects.get(case__project=project, description="T2 SAG real")
    assert real.orientation == "sagittal"
    assert (real.rows, real.columns) == (55, 60)
    header = str(real.header)
    for value in REAL_IDENTIFIERS.values():
        assert value not in header
    found = pacs_study_search(
        project=project, query=StudyQuery(accession_number=REAL_IDENTIFIERS["AccessionNumber"])
    )
    assert found[0]["imported_as"] == Case.objects.get(pk=real.case_id).pseudonym


@pytest.mark.django_db
def test_a_second_import_of_the_same_study_adds_nothing(
    project, cast, connect, pacs_server: Pacs
) -> None:
    connect(pacs_server.url)
    first = _run(project, cast["lead"], [pacs_server.loaded.phantom_uids[0]])
    assert first.status == ImportStatus.SUCCEEDED
    again = _run(project, cast["lead"], [pacs_server.loaded.phantom_uids[0]])
    assert again.status == ImportStatus.SUCCEEDED
    expected = pacs_server.loaded.instances[pacs_server.loaded.phantom_uids[0]]
    assert Image.objects.filter(series__case__project=project).count() == expected
    assert Case.objects.filter(project=project).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_task_worker_runs_an_import_queued_by_the_service(
    project, cast, connect, pacs_server: Pacs
) -> None:
    connect(pacs_server.url)
    job = pacs_import_create(
        project=project, user=cast["lead"], studies=[pacs_server.loaded.phantom_uids[1]]
    )
    call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0)
    job.refresh_from_db()
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert job.task_id
    expected = pacs_server.loaded.instances[pacs_server.loaded.phantom_uids[1]]
    assert Image.objects.filter(series__case__project=project).count() == expected
