"""Query-count cases of the review routes (listed in tests/*/test_query_counts.py ENDPOINTS):
the review payload, page, comments and measurements answer 200 rows in as many queries as 10."""

from __future__ import annotations

from django.test import Client

from annotation.models import Case, Comment, Image, Read
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


def _reviewer_case(*, series: int = 1, slices: int = 3) -> tuple[Case, Client]:
    user = make_users(count=1)[0]
    project = make_projects(count=1, members=[user], role="reviewer")[0]
    case = make_cases_bulk(project=project, count=1, series=series, slices=slices)[0]
    client = Client()
    client.force_login(user)
    return case, client


def review_payload(n: int) -> tuple[Client, str]:
    """Four annotators' reads with a cord on each of n images (agreement on every image)."""
    case, client = _reviewer_case(slices=n)
    authors = make_users(count=4)
    make_memberships(projects=[case.project], users=authors, role="annotator")
    reads = Read.objects.bulk_create(Read(case=case, kind="human", author=a) for a in authors)
    make_revisions(reads=reads, count=1, images=list(Image.objects.filter(series__case=case)))
    return client, f"/api/cases/{case.pk}/review"


def review_page(n: int) -> tuple[Client, str]:
    case, client = _reviewer_case(series=n, slices=2)
    return client, f"/cases/{case.pk}/review"


def comments(n: int) -> tuple[Client, str]:
    """n pinned comments by several authors, half of them replies, some resolved."""
    case, client = _reviewer_case()
    authors = make_users(count=3)
    make_memberships(projects=[case.project], users=authors, role="annotator")
    read = make_reads(case=case, authors=authors[:1])[0]
    image = Image.objects.filter(series__case=case).earliest("id")
    roots = Comment.objects.bulk_create(
        Comment(
            case=case, read=read, image=image, x=1.0, y=2.0, body=f"c{i}", author=authors[i % 3]
        )
        for i in range(max(1, n // 2))
    )
    Comment.objects.bulk_create(
        Comment(case=case, read=read, parent=roots[i % len(roots)], body="r", author=authors[0])
        for i in range(n - max(1, n // 2))
    )
    Comment.objects.filter(pk__in=[c.pk for c in roots[::2]]).update(resolved_by=authors[1])
    return client, f"/api/cases/{case.pk}/comments"


def review_measurements(n: int) -> tuple[Client, str]:
    """n reads, each head with a stored result on the case's first image."""
    case, client = _reviewer_case()
    authors = make_users(count=n)
    make_memberships(projects=[case.project], users=authors, role="annotator")
    reads = make_reads(case=case, authors=authors)
    image = Image.objects.filter(series__case=case).earliest("id")
    MeasurementResult.objects.bulk_create(
        MeasurementResult(
            revision_id=read.head_id or 0,
            image=image,
            view="sagittal",
            values={"mscc_percent": 10.0},
            algorithm_version="1",
        )
        for read in reads
    )
    return client, f"/api/cases/{case.pk}/review/measurements"


REVIEW_ENDPOINTS = [
    Endpoint("api-case-review", review_payload, "images drawn by 4 reads"),
    Endpoint("case-review", review_page, "series"),
    Endpoint("api-case-comments", comments, "comments and replies"),
]
MEASUREMENT_ENDPOINTS = [
    Endpoint("api-case-review-measurements", review_measurements, "reads with results"),
]
