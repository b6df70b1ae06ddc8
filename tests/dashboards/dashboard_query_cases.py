"""Query-count cases of the dashboard endpoints (listed in tests/annotation/test_query_counts.py
ENDPOINTS): n cases in every state with their reads, revisions, submissions, signatures,
claims and aggregate rows cost as many queries as 10."""

from __future__ import annotations

from django.test import Client

from tests.dashboards.bulk import bulk_project
from tests.query_counts import Endpoint


def _lead_of(n: int) -> tuple[Client, str]:
    built = bulk_project(cases=n, annotators=5, readers=2, seed=n)
    client = Client()
    client.force_login(built.lead)
    return client, built.project.slug


def dashboard_progress(n: int) -> tuple[Client, str]:
    client, slug = _lead_of(n)
    return client, f"/api/projects/{slug}/dashboard/progress"


def dashboard_agreement(n: int) -> tuple[Client, str]:
    client, slug = _lead_of(n)
    return client, f"/api/projects/{slug}/dashboard/agreement?split=train"


DASHBOARD_ENDPOINTS = [
    Endpoint("api-dashboard-progress", dashboard_progress, "cases"),
    Endpoint("api-dashboard-agreement", dashboard_agreement, "cases"),
]
