"""Query-count cases of the per-case measurement page and its API (listed in
tests/measurements/test_query_counts.py ENDPOINTS): n reads with results cost as many queries
as 10, for a lead (every read) and for an annotator (blinded)."""

from __future__ import annotations

from django.test import Client

from annotation.models import GoldSignature, Image, Read, ReadKind
from measurements.models import MeasurementResult
from tests.factories import (
    make_cases_bulk,
    make_memberships,
    make_projects,
    make_reads,
    make_revisions,
    make_users,
)
from tests.query_counts import Endpoint


def _measured_case(n: int, *, role: str) -> tuple[Client, int]:
    """n annotators' reads and a signed gold read, every head with results on two images."""
    user = make_users(count=1)[0]
    project = make_projects(count=1, members=[user], role=role)[0]
    case = make_cases_bulk(project=project, count=1, series=1, slices=2)[0]
    authors = [user] if role == "annotator" else []
    authors += make_users(count=n)
    make_memberships(projects=[case.project], users=authors[-n:], role="annotator")
    make_reads(case=case, authors=authors)
    gold = Read.objects.create(case=case, kind=ReadKind.GOLD)
    images = list(Image.objects.filter(series__case=case).order_by("id"))
    make_revisions(reads=[gold], count=1, images=images[:1])
    gold.refresh_from_db()
    assert gold.head_id is not None
    GoldSignature.objects.create(read=gold, revision_id=gold.head_id, signed_by=user)
    heads = [r.head_id or 0 for r in Read.objects.filter(case=case)]
    MeasurementResult.objects.bulk_create(
        MeasurementResult(
            revision_id=head,
            image=image,
            view="sagittal" if image.index == 0 else "axial",
            values={"mscc_percent": 10.0} if image.index == 0 else {"ta": 70.0, "cr": 0.5},
            chords=[{"name": "d_i", "points": [[1, 1], [2, 2]]}],
            algorithm_version="1",
        )
        for head in heads
        for image in images
    )
    client = Client()
    client.force_login(user)
    return client, case.pk


def case_measurements_as(role: str) -> Endpoint:
    def build(n: int) -> tuple[Client, str]:
        client, case_id = _measured_case(n, role=role)
        return client, f"/api/cases/{case_id}/measurements"

    build.__name__ = f"case_measurements_as_{role}"
    return Endpoint("api-case-measurements", build, f"reads with results, as {role}")


def case_measurements_page(n: int) -> tuple[Client, str]:
    user = make_users(count=1)[0]
    project = make_projects(count=1, members=[user], role="annotator")[0]
    case = make_cases_bulk(project=project, count=1, series=n, slices=2)[0]
    client = Client()
    client.force_login(user)
    return client, f"/cases/{case.pk}/measurements"


CASE_MEASUREMENT_ENDPOINTS = [
    case_measurements_as("lead"),
    case_measurements_as("annotator"),
    Endpoint("case-measurements", case_measurements_page, "series"),
]
