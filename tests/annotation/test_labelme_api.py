"""labelme JSON per image: import into a read and export back unchanged."""

from __future__ import annotations

import json
from typing import Any

import pytest

from annotation.models import Image, Revision

pytestmark = pytest.mark.django_db


def _labelme(image: Image) -> dict[str, Any]:
    return {
        "version": "5.4.1",
        "flags": {"motion_artefact": True},
        "shapes": [
            {
                "label": "cord",
                "points": [[10.5, 10.25], [20.0, 10.0], [20.0, 30.0], [10.0, 30.0]],
                "group_id": None,
                "description": "from another tool",
                "shape_type": "polygon",
                "flags": {},
                "mask": None,
                "x_vendor": {"score": 0.93},
            },
            {
                "label": "C3_AS",
                "points": [[5.0, 6.0]],
                "group_id": 1,
                "shape_type": "point",
                "flags": {},
            },
        ],
        "imagePath": "../dicom/IM0001.dcm",
        "imageData": None,
        "imageHeight": image.series.rows,
        "imageWidth": image.series.columns,
        "x_site": "hospital-b",
    }


def test_an_imported_labelme_file_exports_back_unchanged(clients, case) -> None:
    client = clients["annotator"]
    read = client.post(f"/api/cases/{case.pk}/reads").json()
    image = Image.objects.select_related("series").filter(series__case=case).earliest("id")
    original = _labelme(image)
    response = client.post(
        f"/api/reads/{read['id']}/labelme",
        data=json.dumps({"image": image.pk, "parent": None, "data": original}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    revision = response.json()["id"]
    exported = client.get(f"/api/images/{image.pk}/labelme?revision={revision}")
    assert exported.status_code == 200
    assert exported.json() == original


def test_a_labelme_file_for_another_image_size_is_refused(clients, case) -> None:
    client = clients["annotator"]
    read = client.post(f"/api/cases/{case.pk}/reads").json()
    image = Image.objects.select_related("series").filter(series__case=case).earliest("id")
    data = {**_labelme(image), "imageHeight": 999}
    response = client.post(
        f"/api/reads/{read['id']}/labelme",
        data=json.dumps({"image": image.pk, "parent": None, "data": data}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "999" in response.json()["data"][0]
    assert Revision.objects.filter(read_id=read["id"]).count() == 0


def test_a_labelme_file_with_an_unknown_label_is_refused_naming_the_shape(clients, case) -> None:
    client = clients["annotator"]
    read = client.post(f"/api/cases/{case.pk}/reads").json()
    image = Image.objects.select_related("series").filter(series__case=case).earliest("id")
    data = _labelme(image)
    data["shapes"][0]["label"] = "kidney"
    response = client.post(
        f"/api/reads/{read['id']}/labelme",
        data=json.dumps({"image": image.pk, "parent": None, "data": data}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] == 0
    assert "kidney" in response.json()["errors"][0]["message"]


def test_an_outsider_cannot_export(clients, case) -> None:
    client = clients["annotator"]
    read = client.post(f"/api/cases/{case.pk}/reads").json()
    image = Image.objects.filter(series__case=case).earliest("id")
    saved = client.post(
        f"/api/reads/{read['id']}/revisions",
        data=json.dumps({"parent": None, "shapes": {}}),
        content_type="application/json",
    ).json()
    url = f"/api/images/{image.pk}/labelme?revision={saved['id']}"
    assert clients["outsider"].get(url).status_code == 404
