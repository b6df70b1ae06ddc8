"""Query-count cases of the case history (listed in tests/annotation/test_query_counts.py):
200 records of every kind answer in as many queries as 10."""

from __future__ import annotations

import datetime

from django.test import Client
from django.utils import timezone

from annotation.models import (
    Case,
    CaseTransition,
    Claim,
    Comment,
    GoldSignature,
    Read,
    ReadSubmission,
    Revision,
)
from tests.factories import make_cases_bulk, make_memberships, make_projects, make_reads, make_users
from tests.query_counts import Endpoint


def _reviewer_case() -> tuple[Case, Client]:
    user = make_users(count=1)[0]
    project = make_projects(count=1, members=[user], role="reviewer")[0]
    case = make_cases_bulk(project=project, count=1, series=1, slices=2)[0]
    client = Client()
    client.force_login(user)
    return case, client


def history(n: int) -> tuple[Client, str]:
    """n authors with a read (two revisions each), a claim, a submission, a comment and a
    transition each; a gold read whose n revisions are all signed."""
    case, client = _reviewer_case()
    authors = make_users(count=n)
    make_memberships(projects=[case.project], users=authors, role="annotator")
    reads = make_reads(case=case, authors=authors, revisions=2)
    now = timezone.now()
    Claim.objects.bulk_create(
        Claim(
            case=case,
            user=a,
            purpose="annotate",
            slot=i + 1,
            expires_at=now + datetime.timedelta(minutes=30),
            released_at=now,
            release_reason="submitted",
            released_by=a,
        )
        for i, a in enumerate(authors)
    )
    ReadSubmission.objects.bulk_create(
        ReadSubmission(read=r, revision_id=r.head_id, submitted_by=a)
        for r, a in zip(reads, authors, strict=True)
    )
    Comment.objects.bulk_create(
        Comment(case=case, read=r, body="c", author=a) for r, a in zip(reads, authors, strict=True)
    )
    CaseTransition.objects.bulk_create(
        CaseTransition(case=case, from_state="new", to_state="new", actor=a) for a in authors
    )
    gold = Read.objects.create(case=case, kind="gold")
    revisions = Revision.objects.bulk_create(
        Revision(read=gold, number=i + 1, author=authors[i], source="save") for i in range(n)
    )
    GoldSignature.objects.bulk_create(
        GoldSignature(read=gold, revision=r, signed_by=r.author) for r in revisions
    )
    return client, f"/api/cases/{case.pk}/history"


def history_page(n: int) -> tuple[Client, str]:
    """The page embeds the case (its series), not the records: n reads change nothing."""
    case, client = _reviewer_case()
    make_reads(case=case, authors=make_users(count=n))
    return client, f"/cases/{case.pk}/history"


def queue_counts(n: int) -> tuple[Client, str]:
    """n cases and n live claims (one per annotator) of the reviewer's project."""
    case, client = _reviewer_case()
    cases = make_cases_bulk(project=case.project, count=n, series=1, slices=1)
    authors = make_users(count=n)
    make_memberships(projects=[case.project], users=authors, role="annotator")
    expires = timezone.now() + datetime.timedelta(minutes=30)
    Claim.objects.bulk_create(
        Claim(case=c, user=a, purpose="annotate", expires_at=expires)
        for c, a in zip(cases, authors, strict=True)
    )
    return client, f"/api/projects/{case.project.slug}/queue/counts"


HISTORY_ENDPOINTS = [
    Endpoint("api-case-history", history, "records of every kind"),
    Endpoint("case-history", history_page, "reads"),
    Endpoint("api-queue-counts", queue_counts, "cases and live claims"),
]
