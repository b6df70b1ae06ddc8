"""GET /api/cases/{id}/measurements: every read of the case the user may see, each with its
head's stored results (the values the save stored, chords included), blinded like every
route; the gold read carries whether its head is signed."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from annotation.models import Case, Project, Read
from annotation.services.gold import gold_read_get_or_create, gold_sign
from annotation.services.revisions import revision_create
from tests.annotation.review_helpers import Review, make_review, read_shapes

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(case: Case, cast: dict[str, User]) -> Review:
    return make_review(case=case, cast=cast)


def _reads(client: Client, case: Case) -> dict[int, dict[str, Any]]:
    response = client.get(f"/api/cases/{case.pk}/measurements")
    assert response.status_code == 200, response.content
    return {row["id"]: row for row in response.json()["reads"]}


def _signed_gold(review: Review, lead: User) -> Read:
    gold, _ = gold_read_get_or_create(case=review.case, user=lead, role="lead")
    shapes = {str(review.sagittal.pk): read_shapes(shift=1.0)}
    revision = revision_create(read=gold, parent_id=None, shapes=shapes, author=lead)
    gold_sign(case=review.case, user=lead, role="lead", revision_id=revision.pk)
    return gold


def test_a_lead_sees_every_read_with_its_heads_stored_values_and_chords(
    clients, review, cast
) -> None:
    gold = _signed_gold(review, cast["lead"])
    rows = _reads(clients["lead"], review.case)
    assert set(rows) == {review.annotator.pk, review.reader.pk, review.model.pk, gold.pk}
    heads = {**review.heads()}
    for name, row in rows.items():
        read = Read.objects.get(pk=name)
        assert row["revision"] == read.head_id
        stored = list(
            read.head.measurements.order_by("image_id").values_list(  # type: ignore[union-attr]
                "image_id", "values", "chords"
            )
        )
        assert stored, f"{read}: each head has measured images"
        assert [(r["image"], r["values"], r["chords"]) for r in row["results"]] == stored
    assert rows[gold.pk]["kind"] == "gold"
    assert rows[gold.pk]["signed"] is True
    assert rows[review.model.pk]["signed"] is False
    assert rows[review.annotator.pk]["key"] == "annotator"
    assert rows[review.reader.pk]["key"] == "reader"
    assert rows[review.annotator.pk]["revision_number"] == heads["annotator"].number
    # The axial result of the annotator's read carries TA and CR: the page has numbers to show.
    axial = [r for r in rows[review.annotator.pk]["results"] if r["view"] == "axial"]
    assert isinstance(axial[0]["values"]["ta"], float)
    assert axial[0]["chords"]


def test_a_blinded_annotator_sees_only_their_own_read_and_the_models(
    clients, review, cast, project: Project
) -> None:
    _signed_gold(review, cast["lead"])
    assert project.blinded
    assert set(_reads(clients["annotator"], review.case)) == {
        review.annotator.pk,
        review.model.pk,
    }
    project.blinded = False
    project.save(update_fields=["blinded"])
    assert len(_reads(clients["annotator"], review.case)) == 4


def test_an_outsider_gets_404_and_a_read_without_a_head_has_no_results(clients, case, cast) -> None:
    assert clients["outsider"].get(f"/api/cases/{case.pk}/measurements").status_code == 404
    empty = Read.objects.create(case=case, kind="human", author=cast["annotator"])
    rows = _reads(clients["annotator"], case)
    assert rows[empty.pk]["revision"] is None
    assert rows[empty.pk]["results"] == []
    assert rows[empty.pk]["revision_number"] is None
