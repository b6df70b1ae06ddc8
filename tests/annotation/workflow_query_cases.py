"""Query-count cases of the study design, claims and submit-check routes (listed in
tests/annotation/test_query_counts.py ENDPOINTS): 200 rows cost as many queries as 10."""

from __future__ import annotations

import datetime

from django.test import Client
from django.utils import timezone

from annotation.models import Case, Claim, Image, Project, Read
from tests.factories import (
    make_cases_bulk,
    make_memberships,
    make_projects,
    make_revisions,
    make_users,
)
from tests.query_counts import Endpoint


def _member(role: str) -> tuple[Project, Client]:
    user = make_users(count=1)[0]
    project = make_projects(count=1, members=[user], role=role)[0]
    client = Client()
    client.force_login(user)
    return project, client


def design(n: int) -> tuple[Client, str]:
    project, client = _member("lead")
    make_cases_bulk(project=project, count=n, series=1, slices=1)
    return client, f"/api/projects/{project.slug}/design"


def claims(n: int) -> tuple[Client, str]:
    """n annotators each holding a claim on one of n cases."""
    project, client = _member("lead")
    cases = make_cases_bulk(project=project, count=n, series=1, slices=1)
    annotators = make_users(count=n)
    make_memberships(projects=[project], users=annotators, role="annotator")
    later = timezone.now() + datetime.timedelta(minutes=30)
    Claim.objects.bulk_create(
        Claim(case=c, user=u, purpose="annotate", expires_at=later)
        for c, u in zip(cases, annotators, strict=True)
    )
    return client, f"/api/projects/{project.slug}/claims"


def read_check(n: int) -> tuple[Client, str]:
    """The annotator's own read with shapes on each of n images."""
    user = make_users(count=1)[0]
    project = make_projects(count=1, members=[user], role="annotator")[0]
    case: Case = make_cases_bulk(project=project, count=1, series=1, slices=n)[0]
    read = Read.objects.create(case=case, kind="human", author=user)
    make_revisions(reads=[read], count=1, images=list(Image.objects.filter(series__case=case)))
    client = Client()
    client.force_login(user)
    return client, f"/api/reads/{read.pk}/check"


WORKFLOW_ENDPOINTS = [
    Endpoint("api-design", design, "cases"),
    Endpoint("api-claims", claims, "claims"),
    Endpoint("api-read-check", read_check, "shaped images"),
]
