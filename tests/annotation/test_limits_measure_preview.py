"""The measure preview is limited in size and rate per user, and runs in a child process
that is stopped at its time budget; every refusal is JSON."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from annotation.models import Image
from measurements import preview
from measurements.apis import MeasurePreviewThrottle

pytestmark = pytest.mark.django_db


def _measure(client: Client, case_id: int, shapes: dict[str, Any]):
    return client.post(
        f"/api/cases/{case_id}/measure",
        data=json.dumps({"shapes": shapes}),
        content_type="application/json",
    )


def _cord(points: int) -> dict[str, Any]:
    # A closed ring of `points` points inside a 64×48 image.
    ring = [
        [24 + 10 * math.cos(2 * math.pi * k / points), 32 + 10 * math.sin(2 * math.pi * k / points)]
        for k in range(points)
    ]
    return {"label": "cord", "points": ring, "shape_type": "polygon", "flags": {}}


@pytest.fixture
def image_key(case) -> str:
    return str(Image.objects.filter(series__case=case).earliest("id").pk)


@pytest.fixture(autouse=True)
def _fresh_rate_history(cast) -> None:
    """The throttle's history lives in the cache; forget this test's users' past calls."""
    throttle = MeasurePreviewThrottle()
    for user in cast.values():
        cache.delete(throttle.cache_format % {"scope": throttle.scope, "ident": user.pk})


def test_a_preview_above_the_point_limit_is_refused_with_json(
    clients, case, image_key, settings
) -> None:
    settings.MEASURE_PREVIEW_MAX_POINTS = 1000
    shapes = {image_key: [_cord(600), _cord(600)]}

    response = _measure(clients["reader"], case.pk, shapes)

    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["code"] == "point_count"
    assert "1200 points" in body["errors"][0]["message"]


def test_a_preview_within_the_limits_is_measured(clients, case, image_key, settings) -> None:
    settings.MEASURE_PREVIEW_MAX_POINTS = 1000

    response = _measure(clients["reader"], case.pk, {image_key: [_cord(500)]})

    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["image"] == int(image_key)


def test_previews_above_the_rate_get_429_json_per_user(clients, case, image_key, settings) -> None:
    settings.MEASURE_PREVIEW_RATE = "2/minute"
    shapes = {image_key: [_cord(20)]}

    answers = [_measure(clients["reader"], case.pk, shapes).status_code for _ in range(3)]
    refused = _measure(clients["reader"], case.pk, shapes)
    other_user = _measure(clients["annotator"], case.pk, shapes)

    assert answers == [200, 200, 429]
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    assert "throttled" in refused.json()["detail"]
    assert int(refused["Retry-After"]) > 0
    assert other_user.status_code == 200


def test_a_preview_past_its_time_budget_is_stopped_with_503_json(
    clients, case, image_key, settings
) -> None:
    settings.MEASURE_PREVIEW_TIME_BUDGET_S = 0.0

    response = _measure(clients["reader"], case.pk, {image_key: [_cord(50)]})

    assert response.status_code == 503
    assert response.json()["code"] == "preview_timeout"


def test_the_preview_is_not_parsed_or_computed_in_the_server_process(monkeypatch) -> None:
    def in_this_process(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("done in the server process")

    for name in ("preview_compute", "measure_jobs", "shapes_structure_validate"):
        monkeypatch.setattr(preview, name, in_this_process)
    monkeypatch.setattr(json, "loads", in_this_process)
    body = json.dumps({"shapes": {"7": [_cord(40)]}}).encode()
    info = preview.ImageInfo(rows=64, columns=48, spacing=(0.5, 0.5), view="sagittal")
    request = preview.PreviewRequest(body=body, images={"7": info}, max_depth=32, max_points=1000)

    results = preview.preview_run(request=request, budget_s=60.0, slots=1)

    assert [result["image"] for result in results] == [7]


def test_the_preview_is_not_refused_when_the_cache_is_down(
    clients, case, image_key, settings
) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }

    response = _measure(clients["reader"], case.pk, {image_key: [_cord(20)]})

    assert response.status_code == 200, response.content
