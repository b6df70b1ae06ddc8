"""Empty data and bad input: no gold yet, a model version with no reads, a split with one
case, a measurement missing on some reads give "not enough data (n = ...)" with what is
needed, never NaN or a 500; bad filters get a 400 naming the field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from annotation.models import Project
from dashboards.models import AgreementRow
from dashboards.services.counter import dashboard_counter_bump
from inference.models import ModelStatus, ModelVersion
from tests.dashboards.world import Study, study_create

pytestmark = pytest.mark.django_db


def _get(study: Study, part: str, query: str = "") -> Any:
    lead = Client()
    lead.force_login(study.user("lead"))
    answer = lead.get(f"/api/projects/{study.project.slug}/dashboard/{part}{query}")
    assert answer.status_code == 200, answer.content
    # Strict JSON: a NaN or an infinity anywhere fails to parse.
    return json.loads(answer.content, parse_constant=lambda c: pytest.fail(f"{c} in the reply"))


def _statuses(node: Any) -> list[dict[str, Any]]:
    """Every object with a "status" key, anywhere in the reply."""
    if isinstance(node, dict):
        found = [node] if "status" in node else []
        return found + [x for v in node.values() for x in _statuses(v)]
    if isinstance(node, list):
        return [x for v in node for x in _statuses(v)]
    return []


def test_a_project_without_cases_or_gold_says_what_is_missing(cast: Any) -> None:
    study = study_create(versions=0)
    ModelVersion.objects.create(
        task="sagittal", name="active", file="a.onnx", sha256="f" * 64, status=ModelStatus.ACTIVE
    )
    agreement = _get(study, "agreement")
    assert agreement["n_gold"] == 0
    assert agreement["empty"] == {
        "status": "not_enough_data",
        "n": 0,
        "message": "not enough data (n = 0): no gold yet: needs at least one signed gold case",
    }
    # The active version has a group with no pairs: every figure says why it is missing.
    model = next(g for g in agreement["groups"] if g["kind"] == "model")
    assert model["n_pairs"] == 0
    for m in ("mscc", "mcc", "ta", "cr"):
        assert model["measurements"][m]["message"].startswith("not enough data (n = 0): needs")
    assert model["keypoints"]["radial_error_mm"]["status"] == "not_enough_data"
    assert model["keypoints"]["within_2mm"] is None
    progress = _get(study, "progress")
    assert progress["total"] == 0
    assert progress["median_active_s"] is None
    assert progress["forecast"] == {
        "status": "ok",
        "finish_date": progress["window"]["to"],
        "days": 0.0,
    }


def test_a_split_with_one_gold_case_has_no_icc_and_says_it_needs_two(cast: Any) -> None:
    study = study_create(versions=1)
    study.gold_case(split="test")
    study.gold_case(split="train")
    study.gold_case(split="train")
    one = _get(study, "agreement", "?split=test")
    assert one["n_gold"] == 1
    model = one["groups"][0]
    for m in ("mscc", "ta"):
        assert model["measurements"][m] == {
            "status": "not_enough_data",
            "n": 1,
            "message": "not enough data (n = 1): needs at least 2 cases where both reads "
            "have the value, and some spread",
        }
    assert model["structures"]["sagittal cord"]["dice"]["n"] == 1
    assert model["structures"]["sagittal cord"]["dice"]["sd"] is None
    assert model["kappa"]["image_quality"]["status"] == "not_enough_data"
    two = _get(study, "agreement", "?split=train")
    assert two["groups"][0]["measurements"]["mscc"]["status"] == "ok"
    assert all(s["status"] in {"ok", "not_enough_data"} for s in _statuses(one))
    # A progress forecast with no signature in the window says what it needs.
    past = _get(study, "progress", "?from=2020-01-01&to=2020-01-31")
    assert past["forecast"]["status"] == "ok"  # every case is gold: nothing left
    assert past["throughput"][0] == {"date": "2020-01-01", "submitted": 0, "signed": 0}
    assert len(past["throughput"]) == 31


def test_a_measurement_missing_on_some_reads_counts_only_complete_pairs(cast: Any) -> None:
    study = study_create(versions=1)
    for _ in range(4):
        study.gold_case(split="train")
    rows = list(AgreementRow.objects.filter(kind="model").order_by("case_id"))
    for row in rows[:2]:  # two model reads lack TA (as if their axial cord was not drawn)
        row.measurements["ta"] = [None, row.measurements["ta"][1]]
        row.ta = None
        row.save(update_fields=["measurements", "ta"])
    # Rows edited behind the services' back: say so, as their events would.
    dashboard_counter_bump(project_id=study.project.pk)
    model = _get(study, "agreement")["groups"][0]
    assert model["measurements"]["ta"]["n"] == 2
    assert model["measurements"]["mscc"]["n"] == 4
    for row in rows[2:3]:
        row.measurements["ta"] = [None, None]
        row.ta = row.ta_reference = None
        row.save(update_fields=["measurements", "ta", "ta_reference"])
    dashboard_counter_bump(project_id=study.project.pk)
    assert _get(study, "agreement")["groups"][0]["measurements"]["ta"]["message"] == (
        "not enough data (n = 1): needs at least 2 cases where both reads have the value, "
        "and some spread"
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?split=validation", "split"),
        ("?from=yesterday", "from"),
        ("?to=2026-02-30", "to"),
        ("?from=2026-03-02&to=2026-03-01", "to"),
    ],
)
@pytest.mark.parametrize("part", ["progress", "agreement"])
def test_bad_filters_get_a_400_naming_the_field(
    project: Project, clients: dict[str, Client], query: str, field: str, part: str
) -> None:
    answer = clients["lead"].get(f"/api/projects/{project.slug}/dashboard/{part}{query}")
    assert answer.status_code == 400
    assert field in answer.json(), answer.json()
