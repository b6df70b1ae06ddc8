"""Case-list rows (issue 10): a thumbnail link only where the series has a thumbnail (a link to
a missing one logged a 404 in the browser's console on every case-list page)."""

from __future__ import annotations

from typing import Any

import pytest

from annotation.models import Series
from tests.factories import make_case

pytestmark = pytest.mark.django_db


def _rows(client: Any, slug: str) -> dict[int, dict[str, Any]]:
    reply = client.get(f"/api/projects/{slug}/cases")
    assert reply.status_code == 200, reply.content
    return {row["id"]: row for row in reply.json()["results"]}


def test_a_case_lists_its_thumbnail_only_when_its_series_has_one(clients, project) -> None:
    bare = make_case(project=project)
    shown = make_case(project=project)
    first = Series.objects.filter(case=shown).order_by("number", "id").first()
    assert first is not None
    Series.objects.filter(pk=first.pk).update(thumbnail=b"\x89PNG fake")
    rows = _rows(clients["annotator"], project.slug)
    assert rows[bare.pk]["thumbnail"] is None
    assert rows[shown.pk]["thumbnail"] == f"/api/series/{first.pk}/thumbnail"
    assert clients["annotator"].get(rows[shown.pk]["thumbnail"]).status_code == 200
