"""Query-count cases of the dashboard pages (the shells; the figures come from the API):
as many queries for a project of 200 cases as of 10."""

from __future__ import annotations

from django.test import Client

from tests.factories import make_cases_bulk, make_projects, make_users
from tests.query_counts import Endpoint


def _page(page: str) -> Endpoint:
    def build(n: int) -> tuple[Client, str]:
        user = make_users(count=1)[0]
        project = make_projects(count=1, members=[user], role="lead")[0]
        make_cases_bulk(project=project, count=n, series=1, slices=1)
        client = Client()
        client.force_login(user)
        return client, f"/projects/{project.slug}/dashboards/{page}"

    build.__name__ = f"dashboard_{page}_page"
    return Endpoint(f"dashboard-{page}", build, "cases")


DASHBOARD_PAGE_ENDPOINTS = [_page("progress"), _page("agreement")]
