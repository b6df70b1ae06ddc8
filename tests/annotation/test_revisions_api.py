"""Reads and revisions over HTTP: append-only saves, stale parents, restore, validation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from annotation.models import Image, Read, Revision

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: dict[str, Any]):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _my_read(client: Client, case_id: int) -> dict[str, Any]:
    response = client.post(f"/api/cases/{case_id}/reads")
    assert response.status_code in {200, 201}, response.content
    data: dict[str, Any] = response.json()
    return data


def _polygon(label: str = "cord") -> dict[str, Any]:
    return {
        "label": label,
        "points": [[10.0, 10.0], [20.0, 10.0], [20.0, 30.0], [10.0, 30.0]],
        "group_id": None,
        "description": "",
        "shape_type": "polygon",
        "flags": {},
    }


def _first_image(case) -> Image:
    return Image.objects.filter(series__case=case).earliest("id")


def test_each_save_appends_a_revision_and_keeps_the_old_ones(clients, case) -> None:
    client = clients["annotator"]
    read = _my_read(client, case.pk)
    image = _first_image(case)
    first = _post(
        client,
        f"/api/reads/{read['id']}/revisions",
        {"parent": None, "shapes": {str(image.pk): [_polygon()]}},
    )
    assert first.status_code == 201, first.content
    second = _post(
        client,
        f"/api/reads/{read['id']}/revisions",
        {"parent": first.json()["id"], "shapes": {str(image.pk): []}},
    )
    assert second.status_code == 201
    history = client.get(f"/api/reads/{read['id']}/revisions").json()
    assert [row["number"] for row in history] == [2, 1]
    old = client.get(f"/api/revisions/{first.json()['id']}").json()
    assert old["shapes"][str(image.pk)][0]["label"] == "cord"
    assert Revision.objects.filter(read_id=read["id"]).count() == 2


def test_a_save_on_a_stale_parent_gets_409_with_the_newer_revision(clients, case) -> None:
    client = clients["annotator"]
    read = _my_read(client, case.pk)
    image = _first_image(case)
    url = f"/api/reads/{read['id']}/revisions"
    first = _post(client, url, {"parent": None, "shapes": {str(image.pk): [_polygon()]}}).json()
    newer = _post(client, url, {"parent": first["id"], "shapes": {}}).json()
    stale = _post(client, url, {"parent": first["id"], "shapes": {str(image.pk): []}})
    assert stale.status_code == 409
    assert stale.json()["head"]["id"] == newer["id"]
    assert Read.objects.get(pk=read["id"]).head_id == newer["id"]
    assert Revision.objects.filter(read_id=read["id"]).count() == 2


def test_restore_appends_a_copy_of_the_old_revision(clients, case) -> None:
    client = clients["annotator"]
    read = _my_read(client, case.pk)
    image = _first_image(case)
    url = f"/api/reads/{read['id']}/revisions"
    first = _post(client, url, {"parent": None, "shapes": {str(image.pk): [_polygon()]}}).json()
    second = _post(client, url, {"parent": first["id"], "shapes": {}}).json()
    restored = _post(
        client,
        f"/api/reads/{read['id']}/restore",
        {"revision": first["id"], "parent": second["id"]},
    )
    assert restored.status_code == 201
    body = restored.json()
    assert body["number"] == 3
    assert body["source"] == "restore"
    assert body["restored_from"] == first["id"]
    assert body["shapes"] == client.get(f"/api/revisions/{first['id']}").json()["shapes"]
    assert Revision.objects.filter(read_id=read["id"]).count() == 3


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ({**_polygon("liver")}, "unknown label 'liver'"),
        ({**_polygon(), "shape_type": "point"}, "shape type 'point' is not allowed for 'cord'"),
        ({**_polygon(), "points": [[1, 1], [2, 2]]}, "needs at least 3 points"),
        ({**_polygon(), "points": [[1, 1], [2, 2], [3, 3]]}, "non-zero area"),
        ({**_polygon(), "points": [[1, 1], [1, 1], [1, 1]]}, "at least 3 distinct points"),
        ({**_polygon(), "points": [[1, 1], [500, 2], [3, 9]]}, "outside the image"),
        ({**_polygon(), "points": [[1, 1], ["2", 2], [3, 9]]}, "each point must be"),
        ({"label": "C3_AS", "shape_type": "point", "points": [[1, 1], [2, 2]]}, "exactly 1 point"),
        ({"label": "d_i", "shape_type": "line", "points": [[1, 1]]}, "exactly 2 points"),
    ],
)
def test_it_refuses_an_invalid_shape_and_stores_nothing(clients, case, shape, message) -> None:
    client = clients["annotator"]
    read = _my_read(client, case.pk)
    image = _first_image(case)
    body = json.dumps({"parent": None, "shapes": {str(image.pk): [_polygon(), shape]}})
    response = client.post(
        f"/api/reads/{read['id']}/revisions", data=body, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert len(errors) == 1
    assert errors[0]["index"] == 1
    assert message in errors[0]["message"]
    assert Revision.objects.filter(read_id=read["id"]).count() == 0


def test_it_refuses_a_non_finite_coordinate(clients, case) -> None:
    read = _my_read(clients["annotator"], case.pk)
    image = _first_image(case)
    body = json.dumps(
        {
            "parent": None,
            "shapes": {
                str(image.pk): [{**_polygon(), "points": [[1, 1], [float("nan"), 2], [3, 9]]}]
            },
        }
    )
    response = clients["annotator"].post(
        f"/api/reads/{read['id']}/revisions", data=body, content_type="application/json"
    )
    assert response.status_code == 400
    assert Revision.objects.filter(read_id=read["id"]).count() == 0


def test_it_refuses_a_keypoint_used_twice_on_one_image(clients, case) -> None:
    client = clients["annotator"]
    read = _my_read(client, case.pk)
    image = _first_image(case)
    point = {"label": "C4_PS", "shape_type": "point", "points": [[5, 5]]}
    response = _post(
        client,
        f"/api/reads/{read['id']}/revisions",
        {"parent": None, "shapes": {str(image.pk): [point, point]}},
    )
    assert response.status_code == 400
    assert "more than once" in response.json()["errors"][0]["message"]


def test_it_refuses_shapes_on_an_image_of_another_case(clients, project, case) -> None:
    from tests.factories import make_case

    other = make_case(project=project)
    client = clients["annotator"]
    read = _my_read(client, case.pk)
    foreign = _first_image(other)
    response = _post(
        client,
        f"/api/reads/{read['id']}/revisions",
        {"parent": None, "shapes": {str(foreign.pk): [_polygon()]}},
    )
    assert response.status_code == 400
    assert "not part of this case" in response.json()["errors"][0]["message"]


def test_unknown_keys_of_a_shape_are_kept(clients, case) -> None:
    client = clients["annotator"]
    read = _my_read(client, case.pk)
    image = _first_image(case)
    shape = {**_polygon(), "x_tool_note": {"nested": [1, 2]}}
    saved = _post(
        client,
        f"/api/reads/{read['id']}/revisions",
        {"parent": None, "shapes": {str(image.pk): [shape]}},
    ).json()
    again = client.get(f"/api/revisions/{saved['id']}").json()
    assert again["shapes"][str(image.pk)][0]["x_tool_note"] == {"nested": [1, 2]}


def test_only_the_author_may_save_a_read(clients, case) -> None:
    read = _my_read(clients["annotator"], case.pk)
    url = f"/api/reads/{read['id']}/revisions"
    body: dict[str, Any] = {"parent": None, "shapes": {}}
    assert _post(clients["outsider"], url, body).status_code == 404
    assert _post(clients["anonymous"], url, body).status_code in {401, 403}
    # A blinded reader cannot even see another reader's read.
    assert _post(clients["reader"], url, body).status_code == 404
    # A reviewer's fixes go to the gold read, never into the annotator's own history.
    refused = _post(clients["reviewer"], url, body)
    assert refused.status_code == 403
    assert "belongs to its author" in refused.json()["detail"]
    assert _post(clients["annotator"], url, body).status_code == 201


def test_a_blinded_reader_does_not_see_other_reads(clients, case) -> None:
    _my_read(clients["annotator"], case.pk)
    mine = _my_read(clients["reader"], case.pk)
    listed = clients["reader"].get(f"/api/cases/{case.pk}/reads").json()
    assert [row["id"] for row in listed] == [mine["id"]]
    assert len(clients["reviewer"].get(f"/api/cases/{case.pk}/reads").json()) == 2


def test_an_outsider_cannot_list_reads_or_read_revisions(clients, case) -> None:
    read = _my_read(clients["annotator"], case.pk)
    image = _first_image(case)
    saved = _post(
        clients["annotator"],
        f"/api/reads/{read['id']}/revisions",
        {"parent": None, "shapes": {str(image.pk): [_polygon()]}},
    ).json()
    assert clients["outsider"].get(f"/api/cases/{case.pk}/reads").status_code == 404
    assert clients["outsider"].get(f"/api/revisions/{saved['id']}").status_code == 404
    assert clients["outsider"].get(f"/api/reads/{read['id']}/revisions").status_code == 404
    assert clients["outsider"].post(f"/api/cases/{case.pk}/reads").status_code == 404


def test_it_refuses_unknown_case_fields(clients, case) -> None:
    read = _my_read(clients["annotator"], case.pk)
    response = _post(
        clients["annotator"],
        f"/api/reads/{read['id']}/revisions",
        {"parent": None, "shapes": {}, "case_fields": {"nonsense": True, "image_quality": "meh"}},
    )
    assert response.status_code == 400
    problems = response.json()["case_fields"]
    assert any("unknown case field 'nonsense'" in p for p in problems)
    assert any("'meh' is not one of" in p for p in problems)
