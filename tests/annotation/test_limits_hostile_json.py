"""Hostile JSON (huge integers, deep nesting, huge strings) gets a 4xx JSON naming the
problem on every route that takes shapes: save, labelme import, measure preview."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from annotation.models import Image, Revision

pytestmark = pytest.mark.django_db

HUGE_INTEGER = 10**400  # 401 digits: float() of it raised OverflowError (a 500)


def _post_raw(client: Client, url: str, body: str):
    return client.post(url, data=body, content_type="application/json")


def _read_id(client: Client, case_id: int) -> int:
    response = client.post(f"/api/cases/{case_id}/reads")
    assert response.status_code in {200, 201}, response.content
    return int(response.json()["id"])


def _image(case) -> Image:
    return Image.objects.filter(series__case=case).earliest("id")


def _polygon(points: list[list[Any]], **extra: Any) -> dict[str, Any]:
    return {"label": "cord", "points": points, "shape_type": "polygon", "flags": {}, **extra}


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _routes(client: Client, case) -> dict[str, tuple[str, Any]]:
    """Each route that takes shapes, with a function wrapping shapes of one image."""
    read_id = _read_id(client, case.pk)
    image = _image(case)
    key = str(image.pk)
    return {
        "save": (
            f"/api/reads/{read_id}/revisions",
            lambda shapes: {"parent": None, "shapes": {key: shapes}},
        ),
        "labelme": (
            f"/api/reads/{read_id}/labelme",
            lambda shapes: {"image": image.pk, "parent": None, "data": {"shapes": shapes}},
        ),
        "measure": (
            f"/api/cases/{case.pk}/measure",
            lambda shapes: {"shapes": {key: shapes}},
        ),
    }


@pytest.mark.parametrize("route", ["save", "labelme", "measure"])
def test_a_401_digit_coordinate_is_refused_with_a_shape_error(clients, case, route) -> None:
    url, wrap = _routes(clients["annotator"], case)[route]
    body = json.dumps(wrap([_polygon([[HUGE_INTEGER, 1], [20, 10], [20, 30]])]))

    response = _post_raw(clients["annotator"], url, body)

    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert errors[0]["code"] == "non_finite"
    assert errors[0]["index"] == 0


@pytest.mark.parametrize("route", ["save", "labelme", "measure"])
def test_json_nested_5000_deep_is_refused_as_a_parse_error(clients, case, route) -> None:
    url, wrap = _routes(clients["annotator"], case)[route]
    body = json.dumps(wrap([_polygon([[10, 10], [20, 10], [20, 30]], extra="NEST")]))
    body = body.replace('"NEST"', _nested(5000))

    response = _post_raw(clients["annotator"], url, body)

    assert response.status_code == 400, response.content
    assert "nested deeper than" in response.json()["detail"]


def test_json_within_the_depth_limit_still_parses(clients, case, settings) -> None:
    url, wrap = _routes(clients["annotator"], case)["save"]
    settings.API_JSON_MAX_DEPTH = 40
    shape = _polygon([[10, 10], [20, 10], [20, 30]], extra="NEST")
    body = json.dumps(wrap([shape])).replace('"NEST"', _nested(30))

    response = _post_raw(clients["annotator"], url, body)

    assert response.status_code == 201, response.content


def test_brackets_inside_strings_do_not_count_as_nesting(clients, case) -> None:
    url, wrap = _routes(clients["annotator"], case)["save"]
    shape = _polygon([[10, 10], [20, 10], [20, 30]], description='[[[[{{"\\"' * 500)

    response = _post_raw(clients["annotator"], url, json.dumps(wrap([shape])))

    assert response.status_code == 201, response.content


@pytest.mark.parametrize("route", ["save", "labelme"])
def test_a_10_mb_string_inside_a_shape_is_refused_and_nothing_is_saved(
    clients, case, route, settings
) -> None:
    settings.SAVE_MAX_BODY_BYTES = 20 * 1024**2  # the string limit answers, not the body's
    url, wrap = _routes(clients["annotator"], case)[route]
    shape = _polygon([[10, 10], [20, 10], [20, 30]], description="x" * (10 * 1024**2))

    response = _post_raw(clients["annotator"], url, json.dumps(wrap([shape])))

    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["errors"][0]["code"] == "string_too_long"
    assert "description" in body["errors"][0]["message"]
    assert len(response.content) < 10_000  # the string is not echoed back
    assert not Revision.objects.filter(read__case=case).exists()


def test_a_long_string_in_the_labelme_file_outside_the_shapes_is_refused(clients, case) -> None:
    url, wrap = _routes(clients["annotator"], case)["labelme"]
    body = wrap([])
    body["data"]["comment"] = "y" * 20_000

    response = _post_raw(clients["annotator"], url, json.dumps(body))

    assert response.status_code == 400, response.content[:300]
    assert "comment" in response.json()["data"][0]


def test_a_long_text_case_field_is_refused(clients, case) -> None:
    project = case.project
    project.template["case_fields"].append({"name": "note", "type": "text", "label": "Note"})
    project.save(update_fields=["template"])
    url, wrap = _routes(clients["annotator"], case)["save"]
    body = wrap([])
    body["case_fields"] = {"note": "z" * 20_000}

    response = _post_raw(clients["annotator"], url, json.dumps(body))

    assert response.status_code == 400
    assert "longer than" in response.json()["case_fields"][0]
