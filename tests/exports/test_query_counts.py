"""The exports' GET routes answer in as many queries for 200 rows as for 10, and the export
task loads a chunk of 200 cases in as many queries as a chunk of 10 (tests/query_counts.py)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from annotation.models import Project, Read, ReadKind
from exports.models import ExportJob
from exports.run import export_run
from exports.selectors import case_bundles, selected_case_ids, selected_reads
from exports.services import ExportRequest, export_request
from tests.factories import (
    make_cases_bulk,
    make_memberships,
    make_projects,
    make_revisions,
    make_users,
)
from tests.query_counts import Endpoint, assert_queries_do_not_grow

pytestmark = pytest.mark.django_db


def _lead_with_exports(n: int) -> tuple[Client, Project, int]:
    """A lead's project with one annotated case, n queued exports and one finished one."""
    lead, annotator = make_users(count=2)
    project = make_projects(count=1, members=[lead], role="lead")[0]
    make_memberships(projects=[project], users=[annotator], role="annotator")
    (case,) = make_cases_bulk(project=project, count=1)
    read = Read.objects.create(case=case, kind=ReadKind.HUMAN, author=annotator)
    make_revisions(reads=[read], count=1, images=list(case.series.first().images.all()))  # type: ignore[union-attr]
    ExportJob.objects.bulk_create(
        ExportJob(project=project, created_by=lead, selection_kind="gold", formats=["csv"])
        for _ in range(n)
    )
    asked = ExportRequest(
        split="", selection_kind="group", selection_value="annotator", formats=("csv",)
    )
    job = export_request(project=project, user=lead, role="lead", request=asked)
    export_run(job_id=job.pk)
    client = Client()
    client.force_login(lead)
    return client, project, job.pk


def export_list(n: int) -> tuple[Client, str]:
    client, project, _ = _lead_with_exports(n)
    return client, f"/api/projects/{project.slug}/exports"


def export_detail(n: int) -> tuple[Client, str]:
    client, _, pk = _lead_with_exports(n)
    return client, f"/api/exports/{pk}"


def export_download(n: int) -> tuple[Client, str]:
    client, _, pk = _lead_with_exports(n)
    return client, f"/api/exports/{pk}/download"


def export_formats(n: int) -> tuple[Client, str]:
    client, project, _ = _lead_with_exports(n)
    return client, f"/api/projects/{project.slug}/exports/formats"


def exports_page(n: int) -> tuple[Client, str]:
    """The page lists the project's annotators and readers to choose from: n of them."""
    client, project, _ = _lead_with_exports(1)
    make_memberships(projects=[project], users=make_users(count=n), role="annotator")
    return client, f"/projects/{project.slug}/exports"


ENDPOINTS = [
    Endpoint("api-project-exports", export_list, "exports of the requester"),
    Endpoint("api-export", export_detail, "exports of the requester"),
    Endpoint("api-export-download", export_download, "exports of the requester"),
    Endpoint("api-project-export-formats", export_formats, "exports of the requester"),
    Endpoint("project-exports", exports_page, "annotators to choose from"),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_get_makes_as_many_queries_for_200_rows_as_for_10(endpoint: Endpoint) -> None:
    assert_queries_do_not_grow(endpoint)


def _queries_to_load(cases: int) -> int:
    lead, annotator = make_users(count=2)
    project = make_projects(count=1, members=[lead], role="lead")[0]
    make_memberships(projects=[project], users=[annotator], role="annotator")
    made = make_cases_bulk(project=project, count=cases)
    reads = Read.objects.bulk_create(
        Read(case=case, kind=ReadKind.HUMAN, author=annotator) for case in made
    )
    make_revisions(reads=reads, count=2, images=[])
    chosen = selected_reads(
        project=project, kind="group", value="annotator", split="", user=lead, role="lead"
    )
    ids = selected_case_ids(chosen)
    with CaptureQueriesContext(connection) as captured:
        bundles = list(case_bundles(reads=chosen, case_ids=ids, project_id=project.pk, chunk=cases))
    assert len(bundles) == cases
    assert all(len(b.series) == 2 and len(b.reads) == 1 for b in bundles)
    return len(captured.captured_queries)


def test_a_chunk_of_cases_loads_in_as_many_queries_for_200_cases_as_for_10() -> None:
    assert _queries_to_load(10) == _queries_to_load(200)
