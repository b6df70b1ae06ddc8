"""A model read made by two model versions (the sagittal model drew the sagittal series, the
axial model the axial one) counts each structure and measurement for the version that
produced it: the sagittal shapes, keypoints, MSCC and MCC for the sagittal version; the
axial cord and canal, TA and CR for the axial version."""

from __future__ import annotations

import math
from typing import Any

import pytest
from django.test import Client

from dashboards.models import AgreementRow, PairKind
from dashboards.services.rebuild import dashboards_rebuild
from inference.models import ModelVersion
from tests.dashboards.world import Study, study_create

pytestmark = pytest.mark.django_db


def _two_model_study() -> tuple[Study, ModelVersion, ModelVersion]:
    study = study_create(seed=3, versions=1)
    sagittal = study.versions[0]
    axial = ModelVersion.objects.create(
        task="axial", name="axial unet", file="axial.onnx", sha256="a" * 64
    )
    for _ in range(3):
        case = study.new_case(split="train")
        study.model_read(case, sagittal, axial)
        study.annotated(case)
        study.review(case)
        study.sign(case)
    return study, sagittal, axial


def _rows(study: Study) -> list[tuple[Any, ...]]:
    return sorted(
        AgreementRow.objects.filter(project=study.project, kind=PairKind.MODEL).values_list(
            "case_id", "model_version_id", "areas", "keypoint_errors", "measurements"
        ),
        key=repr,
    )


def test_each_version_gets_only_what_it_produced(cast: Any) -> None:
    study, sagittal, axial = _two_model_study()
    rows = AgreementRow.objects.filter(project=study.project, kind=PairKind.MODEL)
    assert rows.count() == 2 * 3
    for row in rows.filter(model_version=sagittal):
        assert set(row.areas) == {"sagittal cord", "sagittal canal"}
        assert len(row.keypoint_errors) == 20
        assert set(row.measurements) <= {"mscc", "mcc"}
        assert "mscc" in row.measurements
        assert row.ta is None
        assert row.cr is None
    for row in rows.filter(model_version=axial):
        assert set(row.areas) == {"axial cord", "axial canal"}
        assert row.keypoint_errors == []
        assert row.keypoints == 0
        assert set(row.measurements) <= {"ta", "cr"}
        assert "ta" in row.measurements
        assert row.mscc is None
        assert row.mcc is None
    # The incremental rows equal a from-scratch rebuild.
    before = _rows(study)
    dashboards_rebuild(project_id=study.project.pk)
    assert _rows(study) == before


def test_the_dashboard_lists_each_structure_under_its_own_version(cast: Any) -> None:
    study, sagittal, axial = _two_model_study()
    lead = Client()
    lead.force_login(study.user("lead"))
    body = lead.get(f"/api/projects/{study.project.slug}/dashboard/agreement").json()
    groups = {g["key"]: g for g in body["groups"]}
    by_sagittal = groups[f"model:{sagittal.pk}"]
    by_axial = groups[f"model:{axial.pk}"]
    for name, stat in by_sagittal["structures"].items():
        assert (stat["dice"]["status"] == "ok") == name.startswith("sagittal"), name
    for name, stat in by_axial["structures"].items():
        assert (stat["dice"]["status"] == "ok") == name.startswith("axial"), name
    assert by_sagittal["keypoints"]["n_points"] == 3 * 20
    assert by_axial["keypoints"]["n_points"] == 0
    assert by_sagittal["measurements"]["ta"]["n"] == 0
    assert by_axial["measurements"]["mscc"]["n"] == 0
    assert by_axial["measurements"]["ta"]["n"] == 3


def test_the_report_takes_each_view_from_the_version_that_drew_it(cast: Any) -> None:
    from reports.selectors import report_data
    from reports.tables import measure_columns, model_pairs, overlap_table

    study, sagittal, axial = _two_model_study()
    data = report_data(project=study.project)
    _, pairs = model_pairs(data)
    assert {p.model_version_id for p in pairs} == {sagittal.pk, axial.pk}
    table = overlap_table(data)
    for view in ("sagittal", "axial"):
        assert table.dice[(view, "cord")]["train"].n == 3
    columns = measure_columns(data, split="all")
    for measure in ("mscc", "ta"):
        model_values = columns.values[measure]["model"]
        assert not any(math.isnan(v) for v in model_values), measure  # each case has it
