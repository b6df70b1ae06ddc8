"""The one write rule, walked over every route that appends a revision, every read kind and
every role: model and imported reads are never written by people, a person's read only by
its author, gold only by reviewers and leads; ``editable`` in replies says the same."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from annotation.models import Case, Image, Read, ReadKind, Revision
from annotation.services.reads import read_create_imported
from annotation.services.revisions import revision_create

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "outsider", "annotator", "reader", "reviewer", "lead")
KINDS = ("own", "other", "model", "imported", "gold")
ROUTES = ("save", "restore", "labelme")

# Expected answer per read kind and role ("own" is the annotator's read, "other" the
# reader's: with blinding the annotator cannot even see it). 201 means a revision landed.
EXPECTED: dict[str, dict[str, int]] = {
    "own": {"annotator": 201, "reader": 404, "reviewer": 403, "lead": 403},
    "other": {"annotator": 404, "reader": 201, "reviewer": 403, "lead": 403},
    "model": {"annotator": 403, "reader": 403, "reviewer": 403, "lead": 403},
    "imported": {"annotator": 403, "reader": 403, "reviewer": 403, "lead": 403},
    "gold": {"annotator": 404, "reader": 404, "reviewer": 201, "lead": 201},
}
for row in EXPECTED.values():
    row.update({"anonymous": 403, "outsider": 404})


def _polygon() -> dict[str, Any]:
    return {"label": "cord", "shape_type": "polygon", "points": [[1, 1], [9, 1], [9, 9]]}


def _first_image(case: Case) -> Image:
    return Image.objects.select_related("series").filter(series__case=case).earliest("id")


def _reads(case: Case, cast: dict[str, Any]) -> dict[str, Read]:
    image = str(_first_image(case).pk)
    shapes = {image: [_polygon()]}
    reads = {
        "own": Read.objects.create(case=case, kind=ReadKind.HUMAN, author=cast["annotator"]),
        "other": Read.objects.create(case=case, kind=ReadKind.HUMAN, author=cast["reader"]),
        "model": Read.objects.create(case=case, kind=ReadKind.MODEL, name="model · sagittal"),
        "gold": Read.objects.create(case=case, kind=ReadKind.GOLD),
    }
    for read in reads.values():
        revision_create(read=read, parent_id=None, shapes=shapes)
    reads["imported"] = read_create_imported(case=case, name="masks.nii.gz", shapes=shapes)
    return reads


def _body(route: str, read: Read, image: Image) -> tuple[str, dict[str, Any]]:
    head = Read.objects.values_list("head_id", flat=True).get(pk=read.pk)
    if route == "save":
        return f"/api/reads/{read.pk}/revisions", {"parent": head, "shapes": {}}
    if route == "restore":
        first = Revision.objects.filter(read=read).earliest("number")
        return f"/api/reads/{read.pk}/restore", {"revision": first.pk, "parent": head}
    labelme: dict[str, Any] = {
        "version": "5.4.1",
        "flags": {},
        "shapes": [],
        "imagePath": "x.png",
        "imageData": None,
        "imageHeight": image.series.rows,
        "imageWidth": image.series.columns,
    }
    return f"/api/reads/{read.pk}/labelme", {"image": image.pk, "parent": head, "data": labelme}


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("route", ROUTES)
def test_the_write_rule_holds_on_every_route(clients, cast, case, route, kind, role) -> None:
    read = _reads(case, cast)[kind]
    url, body = _body(route, read, _first_image(case))
    before = Revision.objects.filter(read=read).count()
    response = _post(clients[role], url, body)
    expected = EXPECTED[kind][role]
    assert response.status_code == expected, response.content
    after = Revision.objects.filter(read=read).count()
    assert after == before + (1 if expected == 201 else 0), "a refused write changed the read"
    if expected == 403 and role != "anonymous":
        # A JSON message naming the rule, not Django's HTML page.
        assert response["Content-Type"] == "application/json"
        assert "read" in response.json()["detail"]


@pytest.mark.parametrize("role", ["annotator", "reader", "reviewer", "lead"])
def test_editable_in_replies_is_the_write_rule(clients, cast, case, role) -> None:
    reads = _reads(case, cast)
    client = clients[role]
    listed = {row["id"]: row for row in client.get(f"/api/cases/{case.pk}/reads").json()}
    for kind, read in reads.items():
        may_write = EXPECTED[kind][role] == 201
        if EXPECTED[kind][role] == 404:
            assert read.pk not in listed, f"{role} sees {kind} read"
            continue
        assert listed[read.pk]["editable"] is may_write, (kind, role)
        detail = client.get(f"/api/reads/{read.pk}").json()
        assert detail["editable"] is may_write, (kind, role)


def _api_patterns() -> list[str]:
    found: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                found.append(prefix + str(entry.pattern))

    walk(get_resolver().url_patterns, "")
    return found


# Routes under reads/<id>/ that append no revision (the workflow's submit and check, and the
# read-only list of the pre-labels a model read withheld as suggestions).
APPEND_NO_REVISION = {
    "api/reads/<int:read_id>/submit",
    "api/reads/<int:read_id>/check",
    "api/reads/<int:read_id>/suggestions",
}


def test_every_route_that_writes_a_read_is_walked_here() -> None:
    """A new route under reads/<id>/ must join ROUTES above, or APPEND_NO_REVISION if it
    changes no shapes."""
    routes = {
        pattern for pattern in _api_patterns() if pattern.startswith("api/reads/<int:read_id>/")
    }
    assert routes - APPEND_NO_REVISION == {
        "api/reads/<int:read_id>/revisions",
        "api/reads/<int:read_id>/restore",
        "api/reads/<int:read_id>/labelme",
    }
