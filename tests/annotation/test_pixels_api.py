"""The pixel API: exact values at full bit depth, caching, and who may see them."""

from __future__ import annotations

import numpy as np
import pytest

from annotation.models import Image, Project
from annotation.pixels import pixel_read
from tests.factories import make_case

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("dtype", ["uint16", "int16", "float32", "uint8"])
def test_it_returns_the_stored_values_exactly(clients, project: Project, dtype: str) -> None:
    case = make_case(project=project, dtype=dtype, orientations=("sagittal",), slices=1)
    image = Image.objects.select_related("series").get(series__case=case)
    response = clients["annotator"].get(f"/api/images/{image.pk}/pixels")
    assert response.status_code == 200
    series = image.series
    values = np.frombuffer(response.content, dtype=np.dtype(dtype).newbyteorder("<"))
    expected = pixel_read(image.pixel_path, dtype=dtype, rows=series.rows, columns=series.columns)
    assert values.reshape(series.rows, series.columns).tolist() == expected.tolist()
    assert response["X-Dtype"] == dtype
    assert response["X-Rows"] == str(series.rows)
    assert response["X-Columns"] == str(series.columns)
    assert response["X-Pixel-Spacing"] == "0.5,0.75"


def test_it_answers_not_modified_for_a_known_etag(clients, case) -> None:
    image = Image.objects.filter(series__case=case).earliest("id")
    first = clients["annotator"].get(f"/api/images/{image.pk}/pixels")
    second = clients["annotator"].get(
        f"/api/images/{image.pk}/pixels", headers={"if-none-match": first["ETag"]}
    )
    assert second.status_code == 304
    assert second.content == b""
    assert "immutable" in first["Cache-Control"]


def test_it_refuses_an_outsider_and_an_anonymous_user(clients, case) -> None:
    image = Image.objects.filter(series__case=case).earliest("id")
    assert clients["outsider"].get(f"/api/images/{image.pk}/pixels").status_code == 404
    assert clients["anonymous"].get(f"/api/images/{image.pk}/pixels").status_code in {401, 403}


def test_a_member_of_another_project_cannot_read_this_projects_pixels(clients, cast, case) -> None:
    from annotation.services.projects import membership_set, project_create

    other = project_create(slug="other")
    membership_set(project=other, user=cast["outsider"], role="lead")
    image = Image.objects.filter(series__case=case).earliest("id")
    assert clients["outsider"].get(f"/api/images/{image.pk}/pixels").status_code == 404


def test_the_thumbnail_is_refused_to_an_outsider(clients, case) -> None:
    series = case.series.first()
    assert clients["outsider"].get(f"/api/series/{series.pk}/thumbnail").status_code == 404
