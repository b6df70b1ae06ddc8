"""Measurements stored per revision: computed in the save, reused for unchanged images."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from annotation.models import Image
from fixtures.phantom import labelme_truth, make_phantom
from fixtures.phantom_types import PhantomSpec
from measurements.models import MeasurementResult
from tests.factories import make_case

pytestmark = pytest.mark.django_db


def _save(client: Client, read_id: int, parent: int | None, shapes: dict[str, Any]) -> int:
    response = client.post(
        f"/api/reads/{read_id}/revisions",
        data=json.dumps({"parent": parent, "shapes": shapes}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


@pytest.fixture
def phantom_shapes(project) -> tuple[Any, dict[str, Any], Any]:
    phantom = make_phantom(PhantomSpec(seed=3, compression_level="C5"))
    rows, columns = phantom.sagittal.pixels.shape[1:]
    case = make_case(
        project=project,
        orientations=("sagittal", "axial"),
        rows=rows,
        columns=columns,
        slices=2,
        spacing=phantom.sagittal.pixel_spacing,
    )
    sagittal = Image.objects.filter(series__case=case, series__orientation="sagittal").earliest(
        "id"
    )
    truth = labelme_truth(phantom, view="sagittal", image_path="x.png")
    return case, {str(sagittal.pk): truth["shapes"]}, phantom


def test_a_save_stores_the_mscc_of_the_sagittal_image(clients, phantom_shapes) -> None:
    case, shapes, phantom = phantom_shapes
    client = clients["annotator"]
    read = client.post(f"/api/cases/{case.pk}/reads").json()
    revision = _save(client, read["id"], None, shapes)
    result = MeasurementResult.objects.get(revision_id=revision)
    assert result.view == "sagittal"
    assert result.values["mscc"] == pytest.approx(phantom.expected["mscc"], abs=0.005)
    assert "adjacent_mscc" in result.values
    assert result.algorithm_version
    api = client.get(f"/api/revisions/{revision}/measurements").json()
    assert api["results"][0]["values"]["mcc"] == pytest.approx(phantom.expected["mcc"], abs=0.005)
    assert {chord["name"] for chord in api["results"][0]["chords"]} >= {"d_i", "D_i"}


def test_an_unchanged_image_keeps_its_result_and_a_changed_one_is_remeasured(
    clients, phantom_shapes
) -> None:
    case, shapes, _ = phantom_shapes
    client = clients["annotator"]
    read = client.post(f"/api/cases/{case.pk}/reads").json()
    first = _save(client, read["id"], None, shapes)
    second = _save(client, read["id"], first, shapes)
    old, new = (MeasurementResult.objects.get(revision_id=r) for r in (first, second))
    assert new.pk != old.pk
    assert new.values == old.values
    key = next(iter(shapes))
    moved = [dict(s) for s in shapes[key] if s["label"] != "C5_PS"]
    third = _save(client, read["id"], second, {key: moved})
    after = MeasurementResult.objects.get(revision_id=third)
    assert "mscc" not in after.values
    assert any("C5_PS" in item for item in after.missing)


def test_the_live_preview_measures_unsaved_shapes_and_refuses_outsiders(
    clients, phantom_shapes
) -> None:
    case, shapes, phantom = phantom_shapes
    url = f"/api/cases/{case.pk}/measure"
    body = json.dumps({"shapes": shapes, "reference": "C3C7"})
    response = clients["annotator"].post(url, data=body, content_type="application/json")
    assert response.status_code == 200
    values = response.json()["results"][0]["values"]
    assert values["d_i"] == pytest.approx(phantom.expected["d_i"], abs=0.05)
    outsider = clients["outsider"].post(url, data=body, content_type="application/json")
    assert outsider.status_code == 404
    assert MeasurementResult.objects.count() == 0
