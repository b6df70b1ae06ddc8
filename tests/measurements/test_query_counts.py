"""The stored measurements of a revision come in as many queries for 200 measured images as
for 10 (see tests/query_counts.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from annotation.models import Image, Read
from measurements.models import MeasurementResult
from tests.annotation.review_query_cases import MEASUREMENT_ENDPOINTS
from tests.factories import make_cases_bulk, make_projects, make_revisions, make_users
from tests.measurements.case_measurements_query_cases import CASE_MEASUREMENT_ENDPOINTS
from tests.query_counts import Endpoint, assert_queries_do_not_grow

pytestmark = pytest.mark.django_db


def revision_measurements(n: int) -> tuple[Client, str]:
    """A revision of the signed-in annotator with a result on each of n images."""
    user = make_users(count=1)[0]
    project = make_projects(count=1, members=[user], role="annotator")[0]
    case = make_cases_bulk(project=project, count=1, series=1, slices=n)[0]
    images = list(Image.objects.filter(series__case=case))
    read = Read.objects.create(case=case, kind="human", author=user)
    make_revisions(reads=[read], count=1, images=images)
    assert read.head is not None
    MeasurementResult.objects.bulk_create(
        MeasurementResult(
            revision=read.head,
            image=image,
            view="sagittal",
            values={"canal_area_mm2": 100.0 + image.index},
            algorithm_version="1",
        )
        for image in images
    )
    client = Client()
    client.force_login(user)
    return client, f"/api/revisions/{read.head_id}/measurements"


ENDPOINTS = [
    Endpoint("api-revision-measurements", revision_measurements, "measured images"),
    *MEASUREMENT_ENDPOINTS,
    *CASE_MEASUREMENT_ENDPOINTS,
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_get_makes_as_many_queries_for_200_rows_as_for_10(endpoint: Endpoint) -> None:
    assert_queries_do_not_grow(endpoint)
