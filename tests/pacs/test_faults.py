"""PACS faults: each a message naming the cause, nothing half-imported, and a retry that
fetches only what is missing. Faults outside the product are injected by a proxy in front
of the real Orthanc (tests/pacs/proxy.py)."""

from __future__ import annotations

import socket

import pytest
from django.contrib.auth.models import User

from annotation.models import Case, Image, Project, Series
from pacs.client import PacsError
from pacs.models import ImportStatus, PacsImport
from pacs.selectors import StudyQuery, pacs_study_search
from pacs.services.imports import pacs_import_retry, pacs_import_run
from tests.pacs.conftest import Pacs
from tests.pacs.proxy import FaultProxy


def _run(project: Project, user: User, studies: list[str]) -> PacsImport:
    job = PacsImport.objects.create(project=project, requested_by=user, studies=studies)
    return pacs_import_run(import_id=job.pk)


def _images(project: Project) -> int:
    return Image.objects.filter(series__case__project=project).count()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.django_db
def test_an_unreachable_pacs_is_named_and_nothing_is_imported(project, cast, connect) -> None:
    connect(f"http://127.0.0.1:{_closed_port()}/dicom-web")
    job = _run(project, cast["lead"], ["1.2.3.4"])
    assert job.status == ImportStatus.FAILED
    assert len(job.errors) == 1
    assert "cannot be reached" in job.errors[0]
    assert Case.objects.filter(project=project).count() == 0


@pytest.mark.django_db
def test_a_wrong_password_is_named_as_the_pacs_refusing_the_credentials(
    project, cast, connect, pacs_server: Pacs
) -> None:
    connect(pacs_server.url, password="not-the-password")
    job = _run(project, cast["lead"], [pacs_server.loaded.real_uid])
    assert job.status == ImportStatus.FAILED
    assert "refused the connection's user name or password (HTTP 401)" in job.errors[0]
    with pytest.raises(PacsError, match="HTTP 401"):
        pacs_study_search(project=project, query=StudyQuery(modality="MR"))
    assert _images(project) == 0


@pytest.mark.django_db
def test_a_pacs_that_does_not_answer_times_out_with_a_message(
    project, cast, connect, pacs_server: Pacs
) -> None:
    with FaultProxy(pacs_server.server.url) as proxy:
        proxy.faults.hang = True
        connect(f"{proxy.url}/dicom-web", timeout_s=0.5)
        job = _run(project, cast["lead"], [pacs_server.loaded.real_uid])
    assert job.status == ImportStatus.FAILED
    assert "did not answer within 0.5 s (timeout)" in job.errors[0]
    assert _images(project) == 0


@pytest.mark.django_db
def test_a_server_error_on_retrieve_is_named_and_nothing_is_imported(
    project, cast, connect, pacs_server: Pacs
) -> None:
    with FaultProxy(pacs_server.server.url) as proxy:
        proxy.faults.fail_with = 500
        connect(f"{proxy.url}/dicom-web")
        job = _run(project, cast["lead"], [pacs_server.loaded.real_uid])
    assert job.status == ImportStatus.FAILED
    assert job.errors == [
        "study 1 of 1: the PACS failed with a server error (HTTP 500); try again later"
    ]
    assert Case.objects.filter(project=project).count() == 0


@pytest.mark.django_db
def test_a_retrieve_cut_midway_keeps_no_part_of_the_series(
    project, cast, connect, pacs_server: Pacs
) -> None:
    with FaultProxy(pacs_server.server.url) as proxy:
        proxy.faults.cut_after_bytes = 40_000  # a few of the real series' 52 instances
        connect(f"{proxy.url}/dicom-web")
        job = _run(project, cast["lead"], [pacs_server.loaded.real_uid])
    assert job.status == ImportStatus.FAILED
    assert "connection broke during the transfer" in job.errors[0]
    assert job.errors[0].startswith("study 1 of 1: ")
    assert job.instances_done < job.instances_total
    assert Case.objects.filter(project=project).count() == 0
    assert _images(project) == 0


@pytest.mark.django_db
def test_a_retry_after_a_cut_fetches_only_the_missing_series_and_duplicates_nothing(
    project, cast, connect, pacs_server: Pacs
) -> None:
    study = pacs_server.loaded.phantom_uids[0]
    with FaultProxy(pacs_server.server.url) as proxy:
        proxy.faults.cut_after_bytes = 100_000  # inside the second series (axial)
        proxy.faults.cut_retrieves = {2}
        connect(f"{proxy.url}/dicom-web")
        job = _run(project, cast["lead"], [study])
        assert job.status == ImportStatus.PARTIAL
        assert "connection broke during the transfer" in job.errors[0]
        case = Case.objects.get(project=project)
        kept = list(Series.objects.filter(case=case).values_list("orientation", "id"))
        assert [o for o, _ in kept] == ["sagittal"]
        assert _images(project) == Series.objects.get(case=case).images.count()
        sagittal_images = set(Image.objects.filter(series__case=case).values_list("id", flat=True))

        proxy.faults.cut_after_bytes = None
        proxy.faults.retrieves.clear()
        job = pacs_import_retry(job=job)
        job = pacs_import_run(import_id=job.pk)
        assert len(proxy.faults.retrieves) == 1  # the axial series only
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert job.attempts == 2
    assert Case.objects.filter(project=project).count() == 1
    series = dict(Series.objects.filter(case=case).values_list("orientation", "id"))
    assert set(series) == {"sagittal", "axial"}
    assert series["sagittal"] == kept[0][1]
    assert sagittal_images < set(
        Image.objects.filter(series__case=case).values_list("id", flat=True)
    )
    assert _images(project) == pacs_server.loaded.instances[study]


@pytest.mark.django_db
def test_a_study_without_pixel_data_is_refused_with_the_reason(
    project, cast, connect, pacs_server: Pacs
) -> None:
    connect(pacs_server.url)
    job = _run(
        project, cast["lead"], [pacs_server.loaded.no_pixels_uid, pacs_server.loaded.real_uid]
    )
    assert job.status == ImportStatus.PARTIAL
    assert job.errors == [
        "study 1 of 2: nothing imported: no pixel data (not an image, or a truncated file) "
        "(2 of 2 instances refused)"
    ]
    cases = Case.objects.filter(project=project)
    assert [c.pseudonym for c in cases] == [job.summary["cases"][0]["pseudonym"]]
    assert Series.objects.get(case__project=project).description == "T2 SAG real"


@pytest.mark.django_db
def test_an_import_whose_worker_stopped_may_be_retried_once_its_heartbeat_is_stale(
    project, cast, connect, pacs_server: Pacs, settings
) -> None:
    import datetime as dt

    from django.utils import timezone

    connect(pacs_server.url)
    study = pacs_server.loaded.phantom_uids[1]
    job = PacsImport.objects.create(
        project=project,
        requested_by=cast["lead"],
        studies=[study],
        status=ImportStatus.RUNNING,
        heartbeat_at=timezone.now(),
    )
    with pytest.raises(PacsError, match="this one is running"):
        pacs_import_retry(job=job)
    settings.TASK_STALE_AFTER_S = 60
    PacsImport.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - dt.timedelta(seconds=61)
    )
    job = pacs_import_run(import_id=pacs_import_retry(job=job).pk)
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert _images(project) == pacs_server.loaded.instances[study]
