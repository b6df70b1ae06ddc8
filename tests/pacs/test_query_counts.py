"""PACS GET routes cost as many queries for 200 rows as for 10 (see tests/query_counts.py):
the import list (n jobs) and an import's detail (n imported cases in its summary)."""

from __future__ import annotations

import pytest
from django.test import Client

from pacs.models import ImportStatus, PacsImport
from tests.factories import make_projects, make_users
from tests.query_counts import Endpoint, assert_queries_do_not_grow

pytestmark = pytest.mark.django_db


def _lead() -> tuple[Client, str, int]:
    user = make_users(count=1)[0]
    project = make_projects(count=1, members=[user], role="lead")[0]
    client = Client()
    client.force_login(user)
    return client, project.slug, project.pk


def _summary(n: int) -> dict[str, object]:
    cases = [{"id": i, "pseudonym": f"CASE-{i:04d}", "created": True} for i in range(n)]
    return {"cases": cases, "series": n, "images": n, "skipped": [], "notes": []}


def pacs_imports(n: int) -> tuple[Client, str]:
    client, slug, project_id = _lead()
    PacsImport.objects.bulk_create(
        PacsImport(project_id=project_id, studies=["1.2.3"], status=ImportStatus.SUCCEEDED)
        for _ in range(n)
    )
    return client, f"/api/projects/{slug}/pacs/imports"


def pacs_import(n: int) -> tuple[Client, str]:
    client, slug, project_id = _lead()
    job = PacsImport.objects.create(
        project_id=project_id, studies=[f"1.2.{i}" for i in range(n)], summary=_summary(n)
    )
    return client, f"/api/projects/{slug}/pacs/imports/{job.pk}"


ENDPOINTS = [
    Endpoint("api-pacs-imports", pacs_imports, "import jobs"),
    Endpoint("api-pacs-import", pacs_import, "imported cases"),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_get_makes_as_many_queries_for_200_rows_as_for_10(endpoint: Endpoint) -> None:
    assert_queries_do_not_grow(endpoint)
