"""Every list endpoint takes limit/offset (X-Total-Count, Link) and its filters, and a bad
limit, offset or filter is a 400 naming the field (annotation/apis/pagination.py)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from annotation.models import Claim, Comment, Read, ReadKind
from annotation.services.revisions import revision_create
from inference.models import JobStatus, PrelabelJob

pytestmark = pytest.mark.django_db


def test_comments_filter_by_resolution_read_author_and_time(clients, cast, case) -> None:
    read = Read.objects.create(case=case, kind=ReadKind.HUMAN, author=cast["reviewer"])
    old = Comment.objects.create(case=case, author=cast["lead"], body="old")
    Comment.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=3))
    Comment.objects.create(
        case=case, author=cast["reviewer"], body="pinned", read=read, resolved_at=timezone.now()
    )
    lead = clients["lead"]
    url = f"/api/cases/{case.pk}/comments"

    def bodies(query: str) -> list[str]:
        response = lead.get(f"{url}?{query}")
        assert response.status_code == 200, response.content
        return [c["body"] for c in response.json()]

    assert bodies("") == ["old", "pinned"]
    assert bodies("resolved=true") == ["pinned"]
    assert bodies("resolved=false") == ["old"]
    assert bodies(f"read={read.pk}") == ["pinned"]
    assert bodies(f"author={cast['lead'].pk}") == ["old"]
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    assert bodies(f"created_after={since.replace('+', '%2B')}") == ["pinned"]
    assert bodies(f"created_before={since.replace('+', '%2B')}") == ["old"]
    page = lead.get(f"{url}?limit=1&offset=1")
    assert [c["body"] for c in page.json()] == ["pinned"]
    assert page["X-Total-Count"] == "2"
    bad = lead.get(f"{url}?created_after=yesterday&resolved=maybe&limit=5000")
    assert bad.status_code == 400
    assert set(bad.json()) == {"created_after", "resolved", "limit"}
    backwards = lead.get(f"{url}?created_after=2026-01-02T00:00Z&created_before=2026-01-01T00:00Z")
    assert backwards.status_code == 400
    assert "created_before" in backwards.json()


def test_reads_and_revisions_filter_by_kind_author_and_page(clients, cast, case) -> None:
    mine = Read.objects.create(case=case, kind=ReadKind.HUMAN, author=cast["lead"])
    Read.objects.create(case=case, kind=ReadKind.MODEL, name="model")
    for _ in range(3):
        head = Read.objects.get(pk=mine.pk).head_id
        revision_create(read=mine, parent_id=head, shapes={}, author=cast["lead"])
    lead = clients["lead"]
    kinds = lead.get(f"/api/cases/{case.pk}/reads?kind=model").json()
    assert [r["kind"] for r in kinds] == ["model"]
    assert lead.get(f"/api/cases/{case.pk}/reads?kind=robot").json().keys() == {"kind"}
    page = lead.get(f"/api/reads/{mine.pk}/revisions?limit=2")
    assert [r["number"] for r in page.json()] == [3, 2]
    assert page["X-Total-Count"] == "3"
    assert "offset=2" in page["Link"]
    nobody = lead.get(f"/api/reads/{mine.pk}/revisions?author={cast['reader'].pk}")
    assert nobody.json() == []
    assert nobody["X-Total-Count"] == "0"
    assert "Link" not in nobody


def test_claims_filter_by_purpose_and_assignee(clients, cast, case) -> None:
    later = timezone.now() + datetime.timedelta(minutes=30)
    Claim.objects.create(case=case, user=cast["annotator"], purpose="annotate", expires_at=later)
    Claim.objects.create(case=case, user=cast["reader"], purpose="read", expires_at=later)
    lead = clients["lead"]
    url = "/api/projects/cervical/claims"
    assert len(lead.get(url).json()) == 2
    only = lead.get(f"{url}?user={cast['reader'].pk}").json()
    assert [c["purpose"] for c in only] == ["read"]
    assert [c["user"]["username"] for c in lead.get(f"{url}?purpose=annotate").json()] == [
        "annotator"
    ]
    assert set(lead.get(f"{url}?purpose=paint&user=x").json()) == {"purpose", "user"}


def test_case_list_checks_state_and_split_and_filters_by_split(clients, case) -> None:
    lead = clients["lead"]
    split = lead.get("/api/projects/cervical/cases").json()["results"][0]["split"]
    other = "test" if split != "test" else "train"
    assert lead.get(f"/api/projects/cervical/cases?split={split}").json()["count"] == 1
    assert lead.get(f"/api/projects/cervical/cases?split={other}").json()["count"] == 0
    bad = lead.get("/api/projects/cervical/cases?state=done&split=holdout")
    assert bad.status_code == 400
    assert set(bad.json()) == {"state", "split"}


def test_job_lists_keep_their_default_sizes_and_filter_by_status(clients, case) -> None:
    PrelabelJob.objects.bulk_create(PrelabelJob(case=case) for _ in range(25))
    PrelabelJob.objects.filter(pk=PrelabelJob.objects.earliest("id").pk).update(
        status=JobStatus.FAILED
    )
    lead = clients["lead"]
    url = f"/api/cases/{case.pk}/jobs"
    default = lead.get(url)
    assert len(default.json()) == 20
    assert default["X-Total-Count"] == "25"
    assert len(lead.get(f"{url}?limit=25").json()) == 25
    failed = lead.get(f"{url}?status=failed").json()
    assert [j["status"] for j in failed] == ["failed"]
    assert set(lead.get(f"{url}?status=lost").json()) == {"status"}
    models = lead.get("/api/projects/cervical/models?task=spine")
    assert models.status_code == 400
    assert "task" in models.json()
