"""GET /api/cases/{id}/review: every read the reviewer may see with its head shapes and its
colour, the agreement of each pair (exact against measurements.core), in a fixed number of
queries; and GET /api/cases/{id}/review/measurements beside it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from annotation.models import Case, Membership, Read, ReadKind
from annotation.services.revisions import revision_create
from measurements.core import hd95, shape_to_mask
from tests.annotation.review_helpers import CORNERS, Review, make_review, read_shapes
from tests.factories import make_users

pytestmark = pytest.mark.django_db
SPACING = (0.5, 0.75)  # tests.factories.make_case: (row mm, column mm)
GRID = (64, 48)


@pytest.fixture
def review(case: Case, cast: dict[str, User]) -> Review:
    return make_review(case=case, cast=cast)


def _payload(client: Client, case: Case) -> dict[str, Any]:
    response = client.get(f"/api/cases/{case.pk}/review")
    assert response.status_code == 200, response.content
    data: dict[str, Any] = response.json()
    return data


def _mask(shapes: list[dict[str, Any]], label: str) -> np.ndarray[Any, Any]:
    out = np.zeros(GRID, dtype=bool)
    for shape in shapes:
        if shape["label"] == label and shape["shape_type"] == "polygon":
            out |= shape_to_mask(shape, image_shape=GRID)
    return out


def test_it_lists_every_read_with_its_head_shapes_and_a_distinct_colour(clients, review) -> None:
    data = _payload(clients["reviewer"], review.case)
    by_id = {r["id"]: r for r in data["reads"]}
    assert set(by_id) == {review.annotator.pk, review.reader.pk, review.model.pk}
    assert [by_id[r.pk]["key"] for r in (review.annotator, review.reader, review.model)] == [
        "annotator",
        "reader",
        "model",
    ]
    assert len({r["colour"] for r in data["reads"]}) == 3
    for name, head in review.heads().items():
        read = by_id[getattr(review, name).pk]
        assert read["revision"]["id"] == head.pk
        assert read["revision"]["shapes"] == head.shapes
        assert read["editable"] is False  # a reviewer never writes another person's read
    assert data["structures"] == ["cord", "canal", "corners"]
    assert data["gold"] == {"read": None, "head": None, "signed": False, "signature": None}


def test_a_second_annotator_read_gets_its_own_key(clients, review, cast) -> None:
    other = make_users(count=1)[0]
    Membership.objects.create(project=review.case.project, user=other, role="annotator")
    read = Read.objects.create(case=review.case, kind=ReadKind.HUMAN, author=other)
    shapes = {str(review.sagittal.pk): read_shapes(shift=1.0)}
    revision_create(read=read, parent_id=None, shapes=shapes, author=other)
    keys = {r["id"]: r["key"] for r in _payload(clients["lead"], review.case)["reads"]}
    assert keys[review.annotator.pk] == "annotator"
    assert keys[read.pk] == "annotator_2"


def test_agreement_is_dice_hd95_and_keypoint_mm_from_measurements_core(clients, review) -> None:
    data = _payload(clients["reviewer"], review.case)
    pair = next(
        p for p in data["agreement"] if {p["a"], p["b"]} == {review.annotator.pk, review.model.pk}
    )
    heads = review.heads()
    a, b = heads["annotator"].shapes, heads["model"].shapes
    if pair["a"] != review.annotator.pk:
        a, b = b, a
    sag, ax = str(review.sagittal.pk), str(review.axial.pk)
    for label in ("cord", "canal"):
        masks = [(_mask(a.get(i, []), label), _mask(b.get(i, []), label)) for i in (sag, ax)]
        overlap = sum(int(np.sum(x & y)) for x, y in masks)
        total = sum(int(x.sum()) + int(y.sum()) for x, y in masks)
        assert pair[label]["dice"] == pytest.approx(2 * overlap / total, abs=1e-12)
        worst = max(
            (hd95(x, y, spacing=SPACING) for x, y in masks if x.any() and y.any()),
            default=math.nan,
        )
        assert pair[label]["hd95_mm"] == pytest.approx(worst, abs=1e-9)
    # The model's corners lie (3, 4) px from the annotator's: 3 * 0.75 mm across, 4 * 0.5 down.
    expected = math.hypot(3 * SPACING[1], 4 * SPACING[0])
    assert pair["corners"]["errors_mm"] == {name: pytest.approx(expected) for name in CORNERS}
    assert pair["corners"]["missing"] == []
    assert pair["cord"]["images"] == {"both": 2, "only_a": 0, "only_b": 0}


def test_a_read_missing_a_structure_on_an_image_counts_against_dice(clients, review) -> None:
    data = _payload(clients["reviewer"], review.case)
    pair = next(
        p for p in data["agreement"] if {p["a"], p["b"]} == {review.annotator.pk, review.reader.pk}
    )
    # The reader drew no axial cord: one image only in the annotator's read.
    assert sum(pair["cord"]["images"].values()) == 2
    assert pair["cord"]["images"]["both"] == 1


def test_only_reviewers_and_leads_open_the_review(clients, review) -> None:
    answers = {
        role: clients[role].get(f"/api/cases/{review.case.pk}/review").status_code
        for role in ("anonymous", "outsider", "annotator", "reader", "reviewer", "lead")
    }
    assert answers == {
        "anonymous": 403,
        "outsider": 404,
        "annotator": 403,
        "reader": 403,
        "reviewer": 200,
        "lead": 200,
    }


def _add_reads(review: Review, count: int) -> None:
    users = make_users(count=count)
    Membership.objects.bulk_create(
        Membership(project=review.case.project, user=u, role="annotator") for u in users
    )
    for i, user in enumerate(users):
        read = Read.objects.create(case=review.case, kind=ReadKind.HUMAN, author=user)
        shapes = {str(review.sagittal.pk): read_shapes(shift=float(i % 3))}
        revision_create(read=read, parent_id=None, shapes=shapes, author=user)


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("url", ["/api/cases/{}/review", "/api/cases/{}/review/measurements"])
def test_the_review_queries_do_not_grow_with_the_reads(clients, review, url) -> None:
    url = url.format(review.case.pk)
    _queries(clients["reviewer"], url)  # fills per-process caches
    few = _queries(clients["reviewer"], url)
    _add_reads(review, 5)
    assert _queries(clients["reviewer"], url) == few


def test_measurements_of_each_visible_read_head_sit_side_by_side(clients, review) -> None:
    response = clients["reviewer"].get(f"/api/cases/{review.case.pk}/review/measurements")
    assert response.status_code == 200
    rows = {row["read"]: row for row in response.json()["reads"]}
    heads = review.heads()
    for name in ("annotator", "reader", "model"):
        row = rows[getattr(review, name).pk]
        assert row["revision"] == heads[name].pk
        stored = list(
            heads[name].measurements.order_by("image_id").values_list("image_id", "values")
        )
        assert [(r["image"], r["values"]) for r in row["results"]] == stored
        assert stored, "each head has measured images"
    assert (
        clients["annotator"].get(f"/api/cases/{review.case.pk}/review/measurements").status_code
        == 403
    )


def test_a_new_revision_gets_fresh_agreement_not_the_kept_one(clients, review, cast) -> None:
    def cord_dice() -> float:
        data = _payload(clients["reviewer"], review.case)
        pair = next(
            p
            for p in data["agreement"]
            if {p["a"], p["b"]} == {review.annotator.pk, review.model.pk}
        )
        return float(pair["cord"]["dice"])

    assert cord_dice() < 1.0
    assert cord_dice() < 1.0  # the kept figures of the same two heads
    heads = review.heads()
    revision_create(
        read=review.model, parent_id=heads["model"].pk, shapes=heads["annotator"].shapes
    )
    assert cord_dice() == 1.0
