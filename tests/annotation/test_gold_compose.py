"""POST /api/cases/{id}/gold/compose: the gold read is made per structure from other reads
(taken whole or fused), exactly as measurements.core.fusion computes it, with each shape's
provenance; refused requests change nothing; the write rule holds on the gold."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from annotation.models import Case, Project, Read, ReadKind, Revision
from annotation.services.revisions import revision_create
from measurements.core import (
    keypoint_mean,
    majority_vote,
    mask_to_polygon,
    shape_to_mask,
    staple,
)
from tests.annotation.review_helpers import CORNERS, Review, make_review, point
from tests.factories import make_case

pytestmark = pytest.mark.django_db
GRID = (64, 48)


@pytest.fixture
def review(case: Case, cast: dict[str, User]) -> Review:
    return make_review(case=case, cast=cast)


def _compose(client: Client, case: Case, structures: dict[str, Any], parent: int | None = None):
    return client.post(
        f"/api/cases/{case.pk}/gold/compose",
        data=json.dumps({"parent": parent, "structures": structures}),
        content_type="application/json",
    )


def _shapes_of(revision: Revision, image: object, label: str) -> list[dict[str, Any]]:
    return [s for s in revision.shapes.get(str(image), []) if s["label"] == label]


def _gold() -> Read:
    return Read.objects.select_related("head").get(kind=ReadKind.GOLD)


def test_taking_structures_copies_them_and_records_read_and_revision(clients, review) -> None:
    heads = review.heads()
    answer = _compose(
        clients["reviewer"],
        review.case,
        {
            "cord": {"from": review.annotator.pk},
            "canal": {"from": review.reader.pk},
            "corners": {"from": review.model.pk},
        },
    )
    assert answer.status_code == 201, answer.content
    gold = _gold()
    assert gold.head is not None
    assert gold.head.pk == answer.json()["id"]
    sag = review.sagittal.pk
    taken = {"cord": "annotator", "canal": "reader", "corners": "model"}
    for structure, source in taken.items():
        labels = CORNERS if structure == "corners" else (structure,)
        for label in labels:
            assert _shapes_of(gold.head, sag, label) == _shapes_of(heads[source], sag, label)
    # The axial cord comes with the annotator's read; the marker (no structure) is not taken.
    assert _shapes_of(gold.head, review.axial.pk, "cord") == _shapes_of(
        heads["annotator"], review.axial.pk, "cord"
    )
    assert _shapes_of(gold.head, sag, "marker") == []
    for image, shapes in gold.head.shapes.items():
        marks = gold.head.provenance[image]
        assert len(marks) == len(shapes)
        for shape, mark in zip(shapes, marks, strict=True):
            source = heads[taken["corners" if shape["shape_type"] == "point" else shape["label"]]]
            assert mark == {
                "label": shape["label"],
                "method": "copy",
                "sources": [{"read": source.read_id, "revision": source.pk}],
                "parameters": {},
            }
    assert answer.json()["provenance"] == gold.head.provenance


def _masks(review: Review, label: str) -> list[Any]:
    heads = review.heads()
    return [
        shape_to_mask(_shapes_of(heads[name], review.sagittal.pk, label)[0], image_shape=GRID)
        for name in ("annotator", "reader", "model")
    ]


@pytest.mark.parametrize("method", ["majority", "staple"])
def test_fusing_masks_equals_measurements_core_on_the_same_reads(clients, review, method) -> None:
    reads = [review.annotator.pk, review.reader.pk, review.model.pk]
    answer = _compose(clients["lead"], review.case, {"canal": {"fuse": method, "reads": reads}})
    assert answer.status_code == 201, answer.content
    masks = _masks(review, "canal")
    fused = majority_vote(masks) if method == "majority" else staple(masks).mask
    gold = _gold().head
    assert gold is not None
    (shape,) = _shapes_of(gold, review.sagittal.pk, "canal")
    assert shape["shape_type"] == "polygon"
    assert shape["points"] == mask_to_polygon(fused)
    heads = review.heads()
    (mark,) = gold.provenance[str(review.sagittal.pk)]
    assert mark["method"] == ("majority_vote" if method == "majority" else "staple")
    assert mark["sources"] == [
        {"read": heads[n].read_id, "revision": heads[n].pk}
        for n in ("annotator", "reader", "model")
    ]


def test_fusing_corners_takes_the_mean_of_the_chosen_reads(clients, review) -> None:
    reads = [review.annotator.pk, review.model.pk]
    answer = _compose(
        clients["reviewer"], review.case, {"corners": {"fuse": "mean", "reads": reads}}
    )
    assert answer.status_code == 201, answer.content
    heads = review.heads()
    sets = [
        {
            s["label"]: tuple(s["points"][0])
            for s in heads[n].shapes[str(review.sagittal.pk)]
            if s["label"] in CORNERS
        }
        for n in ("annotator", "model")
    ]
    expected = keypoint_mean(sets)
    gold = _gold().head
    assert gold is not None
    placed = {s["label"]: tuple(s["points"][0]) for s in gold.shapes[str(review.sagittal.pk)]}
    assert placed == expected
    assert {m["method"] for m in gold.provenance[str(review.sagittal.pk)]} == {"mean"}


def test_composing_again_keeps_the_other_structures_and_their_provenance(clients, review) -> None:
    first = _compose(clients["reviewer"], review.case, {"cord": {"from": review.annotator.pk}})
    second = _compose(
        clients["reviewer"],
        review.case,
        {"canal": {"from": review.model.pk}},
        parent=first.json()["id"],
    )
    assert second.status_code == 201, second.content
    gold = _gold().head
    assert gold is not None
    assert gold.parent_id == first.json()["id"]
    labels = [s["label"] for s in gold.shapes[str(review.sagittal.pk)]]
    assert sorted(labels) == ["canal", "cord"]
    by_label = dict(zip(labels, gold.provenance[str(review.sagittal.pk)], strict=True))
    assert by_label["cord"]["sources"][0]["read"] == review.annotator.pk
    assert by_label["canal"]["sources"][0]["read"] == review.model.pk


def test_a_compose_on_a_stale_gold_head_is_a_conflict(clients, review) -> None:
    first = _compose(clients["reviewer"], review.case, {"cord": {"from": review.annotator.pk}})
    stale = _compose(clients["lead"], review.case, {"cord": {"from": review.model.pk}}, parent=None)
    assert stale.status_code == 409
    assert stale.json()["head"]["id"] == first.json()["id"]
    assert Revision.objects.filter(read__kind=ReadKind.GOLD).count() == 1


def test_a_read_of_another_case_is_refused_by_name_and_nothing_changes(
    clients, review, project
) -> None:
    elsewhere = make_case(project=project)
    foreign = Read.objects.create(case=elsewhere, kind=ReadKind.MODEL, name="model")
    revision_create(read=foreign, parent_id=None, shapes={})
    answer = _compose(
        clients["reviewer"],
        review.case,
        {"cord": {"from": review.annotator.pk}, "canal": {"fuse": "staple", "reads": [foreign.pk]}},
    )
    assert answer.status_code == 404
    assert answer.json()["structures.canal"] == [
        f"read {foreign.pk} is not a read of this case that you may see"
    ]
    assert not Read.objects.filter(case=review.case, kind=ReadKind.GOLD).exists()


@pytest.mark.parametrize(
    ("structures", "field"),
    [
        ({"corners": {"fuse": "staple", "reads": [1]}}, "structures.corners.fuse"),
        ({"cord": {"fuse": "mean", "reads": [1]}}, "structures.cord.fuse"),
        ({"cord": {"fuse": "majority", "reads": []}}, "structures.cord.reads"),
        ({}, "structures"),
    ],
)
def test_a_malformed_compose_names_the_field(clients, review, structures, field) -> None:
    answer = _compose(clients["reviewer"], review.case, structures)
    assert answer.status_code == 400
    assert field in answer.json(), answer.json()
    assert not Read.objects.filter(case=review.case, kind=ReadKind.GOLD).exists()


@pytest.mark.parametrize("role", ["annotator", "reader"])
def test_only_reviewers_and_leads_compose_the_gold(clients, review, role) -> None:
    answer = _compose(clients[role], review.case, {"cord": {"from": review.model.pk}})
    assert answer.status_code == 403
    assert not Read.objects.filter(case=review.case, kind=ReadKind.GOLD).exists()


def _save(client: Client, read_id: int, parent: int | None, shapes: dict[str, Any]):
    return client.post(
        f"/api/reads/{read_id}/revisions",
        data=json.dumps({"parent": parent, "shapes": shapes}),
        content_type="application/json",
    )


def test_the_gold_is_edited_by_reviewers_only_and_edits_are_recorded(clients, review) -> None:
    composed = _compose(clients["reviewer"], review.case, {"cord": {"from": review.annotator.pk}})
    gold = _gold()
    head = gold.head
    assert head is not None
    sag = str(review.sagittal.pk)
    shapes = {**head.shapes, sag: [*head.shapes[sag], point("marker", 5, 6)]}
    # A blinded annotator does not see the gold; with blinding off they see it, read-only.
    assert _save(clients["annotator"], gold.pk, head.pk, shapes).status_code == 404
    Project.objects.filter(pk=review.case.project_id).update(blinded=False)
    assert _save(clients["annotator"], gold.pk, head.pk, shapes).status_code == 403
    saved = _save(clients["lead"], gold.pk, head.pk, shapes)
    assert saved.status_code == 201, saved.content
    new = Revision.objects.get(pk=saved.json()["id"])
    marks = new.provenance[sag]
    # The cord, unchanged, keeps where it came from; the new point was made in this revision.
    assert marks[0] == head.provenance[sag][0]
    assert marks[-1] == {
        "label": "marker",
        "method": "edit",
        "sources": [{"read": gold.pk, "revision": new.pk}],
        "parameters": {},
    }
    assert composed.json()["id"] == new.parent_id


def test_reviewers_never_write_another_persons_read(clients, review) -> None:
    head = review.heads()["annotator"]
    answer = _save(clients["reviewer"], review.annotator.pk, head.pk, head.shapes)
    assert answer.status_code == 403
    assert Read.objects.get(pk=review.annotator.pk).head_id == head.pk
