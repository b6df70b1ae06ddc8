"""GET /api/reads/{id}/suggestions: the pre-labels a model read withheld, for whoever may see
that model read (blinding and the study design's unaided roles apply)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from annotation.models import Case, Project, Read, ReadKind
from inference.models import JobStatus, PrelabelJob
from tests.annotation.test_design import _design, _put
from tests.factories import make_case

pytestmark = pytest.mark.django_db

ITEM: dict[str, Any] = {
    "label": "C5_AI",
    "shape_type": "point",
    "points": [[12.5, 40.25]],
    "confidence": 0.42,
    "raw_confidence": 0.81,
    "threshold": 0.6,
    "reason": "confidence 0.42 below 0.60",
}


def _model_read_with_suggestions(case: Case) -> tuple[Read, PrelabelJob, int]:
    image = case.series.first().images.first()  # type: ignore[union-attr]
    assert image is not None
    read = Read.objects.create(case=case, kind=ReadKind.MODEL, name="model")
    job = PrelabelJob.objects.create(
        case=case, status=JobStatus.SUCCEEDED, read=read, withheld={str(image.pk): [ITEM]}
    )
    return read, job, image.pk


def test_a_member_gets_the_model_read_s_withheld_pre_labels(
    project: Project, clients: dict[str, Client]
) -> None:
    read, job, image = _model_read_with_suggestions(make_case(project=project))
    reply = clients["annotator"].get(f"/api/reads/{read.pk}/suggestions")
    assert reply.status_code == 200
    assert reply.json() == {"read": read.pk, "job": job.pk, "items": [{"image": image, **ITEM}]}


def test_another_read_has_no_suggestions(project: Project, clients: dict[str, Client]) -> None:
    case = make_case(project=project)
    _model_read_with_suggestions(case)
    mine = clients["annotator"].post(f"/api/cases/{case.pk}/reads").json()
    reply = clients["annotator"].get(f"/api/reads/{mine['id']}/suggestions").json()
    assert reply == {"read": mine["id"], "job": None, "items": []}


def test_an_unaided_role_and_an_outsider_get_nothing(
    project: Project, clients: dict[str, Client]
) -> None:
    read, _, _ = _model_read_with_suggestions(make_case(project=project))
    assert _put(clients["lead"], project, _design()).status_code == 200  # readers unaided
    assert clients["reader"].get(f"/api/reads/{read.pk}/suggestions").status_code == 404
    assert clients["outsider"].get(f"/api/reads/{read.pk}/suggestions").status_code == 404
    assert clients["annotator"].get(f"/api/reads/{read.pk}/suggestions").status_code == 200
    assert clients["reviewer"].get(f"/api/reads/{read.pk}/suggestions").status_code == 200
