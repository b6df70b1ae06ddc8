"""Drift test: the server's shape rules give the results that the frontend's shared
contract fixtures (frontend/src/contract/fixtures) expect, code for code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from annotation.label_templates import cervical_compression_template
from annotation.shapes import ImageBounds, shapes_validate

FIXTURES = Path(__file__).resolve().parents[2] / "frontend" / "src" / "contract" / "fixtures"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


TEMPLATE = _load("template.json")


def _check(case: dict[str, Any]) -> list[tuple[int | None, str]]:
    image = ImageBounds(rows=case["image"]["rows"], columns=case["image"]["columns"])
    errors = shapes_validate(shapes={"1": case["shapes"]}, template=TEMPLATE, images={"1": image})
    return [(error.index, error.code) for error in errors]


@pytest.mark.parametrize("case", _load("valid_shapes.json")["cases"], ids=lambda c: c["name"])
def test_a_valid_fixture_passes_the_server_rules(case: dict[str, Any]) -> None:
    assert _check(case) == []


@pytest.mark.parametrize("case", _load("invalid_shapes.json")["cases"], ids=lambda c: c["name"])
def test_an_invalid_fixture_fails_with_the_same_code(case: dict[str, Any]) -> None:
    expected = [(error["index"], error["code"]) for error in case["errors"]]
    assert _check(case) == expected


def test_the_fixture_template_matches_the_built_in_template_labels() -> None:
    built_in = cervical_compression_template()
    fixture_labels = {label["name"] for label in TEMPLATE["labels"]}
    built_in_labels = {label["name"] for label in built_in["labels"]}
    assert {"cord", "canal", "d_i"} <= fixture_labels & built_in_labels
    assert TEMPLATE["keypoint_sets"][0]["points"] == built_in["keypoint_sets"][0]["points"]
