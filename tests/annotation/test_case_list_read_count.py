"""The case list's read_count counts only the reads the user may see (blinding), in the API
and on the case-list page alike."""

from __future__ import annotations

import re

import pytest

from annotation.models import Case, Project, Read, ReadKind
from annotation.services.projects import project_update
from annotation.services.reads import read_create_imported

pytestmark = pytest.mark.django_db


@pytest.fixture
def reads(cast, case: Case) -> None:
    """Three people's reads, a model read and an imported read on one case."""
    for name in ("annotator", "reader", "reviewer"):
        Read.objects.create(case=case, kind=ReadKind.HUMAN, author=cast[name])
    Read.objects.create(case=case, kind=ReadKind.MODEL, name="model")
    read_create_imported(case=case, name="masks.nii.gz", shapes={})


def _api_count(client, project: Project) -> int:
    rows = client.get(f"/api/projects/{project.slug}/cases").json()["results"]
    assert len(rows) == 1
    count: int = rows[0]["read_count"]
    return count


def _page_count(client, project: Project, case: Case) -> int:
    page = client.get(f"/projects/{project.slug}/").content.decode()
    row = re.search(rf'data-case-id="{case.pk}".*?<td class="num">(\d+)</td>', page, re.S)
    assert row is not None
    return int(row.group(1))


@pytest.mark.parametrize(
    ("who", "expected"),
    # Own read + model + imported for the blinded; all five for reviewers and leads.
    [("annotator", 3), ("reader", 3), ("reviewer", 5), ("lead", 5)],
)
def test_a_blinded_member_counts_only_the_reads_they_may_see(
    clients, project, case, reads, who, expected
) -> None:
    assert _api_count(clients[who], project) == expected
    assert _page_count(clients[who], project, case) == expected
    listed = clients[who].get(f"/api/cases/{case.pk}/reads").json()
    assert len(listed) == expected, "the count and the read list disagree"


def test_without_blinding_everyone_counts_every_read(clients, project, case, reads) -> None:
    project_update(project=project, blinded=False)
    for who in ("annotator", "reader", "reviewer", "lead"):
        assert _api_count(clients[who], project) == 5, who
