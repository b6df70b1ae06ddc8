"""The dashboard pages: leads and reviewers get the shell that mounts the dashboard entry
(with the project and the page named), others are refused; the query count does not grow
with the project's cases."""

from __future__ import annotations

import pytest
from django.test import Client

from annotation.models import Project
from tests.dashboards.dashboard_page_query_cases import DASHBOARD_PAGE_ENDPOINTS
from tests.query_counts import Endpoint, assert_queries_do_not_grow

pytestmark = pytest.mark.django_db

ENDPOINTS = DASHBOARD_PAGE_ENDPOINTS


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_get_makes_as_many_queries_for_200_rows_as_for_10(endpoint: Endpoint) -> None:
    assert_queries_do_not_grow(endpoint)


@pytest.mark.parametrize("page", ["progress", "agreement"])
def test_the_page_mounts_the_dashboard_entry_for_leads_and_reviewers_only(
    clients: dict[str, Client], project: Project, page: str
) -> None:
    url = f"/projects/{project.slug}/dashboards/{page}"
    for role in ("lead", "reviewer"):
        response = clients[role].get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert f'data-page="{page}"' in html
        assert f'data-project="{project.slug}"' in html
    assert clients["annotator"].get(url).status_code == 403
    assert clients["reader"].get(url).status_code == 403
    assert clients["outsider"].get(url).status_code == 404
