"""The dashboards answer with the same number of queries for 10 and for 1,000 cases,
whatever the number of reads, revisions and agreement rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.dashboards.dashboard_query_cases import DASHBOARD_ENDPOINTS
from tests.query_counts import MAX_QUERIES, Endpoint

pytestmark = pytest.mark.django_db


def _count(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        answer = client.get(url)
    assert answer.status_code == 200, answer.content
    return [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("endpoint", DASHBOARD_ENDPOINTS, ids=str)
def test_a_dashboard_makes_as_many_queries_for_1000_cases_as_for_10(endpoint: Endpoint) -> None:
    _count(*endpoint.build(1))  # fills the per-process caches (sessions, content types)
    small = _count(*endpoint.build(10))
    large = _count(*endpoint.build(1000))
    assert len(small) == len(large), "\n".join(large)
    assert len(large) <= MAX_QUERIES, "\n".join(large)


# Read by the route-coverage test in tests/annotation/test_query_counts.py.
ENDPOINTS = DASHBOARD_ENDPOINTS
