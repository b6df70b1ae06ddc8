"""Withheld pre-labels: the worker, with the real shipped ONNX models, draws only the shapes
whose calibrated confidence reaches the contract's threshold and keeps the others on the job
as suggestions; a contract without calibration withholds nothing."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from annotation.models import Case, Image, Read
from inference.models import JobStatus, ModelStatus, PrelabelJob
from inference.runtime.contract import load_contract
from inference.runtime.shipped import SHIPPED_DIR, shipped_model
from inference.services.prelabel import prelabel_run
from inference.services.registry import model_register, shipped_models_register

CORNERS = {f"C{v}_{c}" for v in range(3, 8) for c in ("AS", "AI", "PS", "PI")}


def _register_sagittal(tmp_path: Path, calibration: dict[str, Any] | None) -> None:
    """The shipped sagittal network with its contract's calibration replaced (None: none)."""
    data = copy.deepcopy(shipped_model("sagittal").contract_data)
    data.pop("calibration", None)
    if calibration is not None:
        data["calibration"] = calibration
    path = tmp_path / "sagittal.contract.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    model_register(
        file=SHIPPED_DIR / "sagittal.onnx",
        task="sagittal",
        contract=path,
        status=ModelStatus.ACTIVE,
    )


def _run(case: Case) -> tuple[PrelabelJob, dict[str, list[dict[str, Any]]]]:
    job = PrelabelJob.objects.create(case=case)
    prelabel_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.read_id is not None
    read = Read.objects.select_related("head").get(pk=job.read_id)
    assert read.head is not None
    return job, read.head.shapes


def _sagittal_ids(case: Case) -> set[str]:
    return {
        str(pk)
        for pk in Image.objects.filter(
            series__case=case, series__orientation="sagittal"
        ).values_list("pk", flat=True)
    }


def test_corners_under_the_threshold_are_suggestions_not_shapes(phantom_case, tmp_path) -> None:
    shipped = shipped_model("sagittal").contract_data["calibration"]
    raised = copy.deepcopy(shipped)
    raised["keypoint"]["threshold"] = 1.0  # no corner is that sure: all withheld
    raised["keypoint"]["y"] = [min(v, 0.99) for v in raised["keypoint"]["y"]]
    _register_sagittal(tmp_path, raised)
    job, shapes = _run(phantom_case)
    sagittal = _sagittal_ids(phantom_case)
    drawn = [s for key in sagittal for s in shapes.get(key, [])]
    assert not [s for s in drawn if s["shape_type"] == "point"]
    assert {"cord", "canal"} <= {s["label"] for s in drawn}  # structures still drawn
    assert set(job.withheld) <= sagittal
    with_points = [v for v in job.withheld.values() if any(s["shape_type"] == "point" for s in v)]
    assert len(with_points) == 1  # the corners' one slice
    items = [s for s in with_points[0] if s["shape_type"] == "point"]
    assert {s["label"] for s in items} == CORNERS
    for item in items:
        assert item["shape_type"] == "point"
        assert len(item["points"]) == 1
        assert item["threshold"] == 1.0
        assert 0 <= item["confidence"] < 1.0
        assert item["reason"] == f"confidence {item['confidence']:.2f} below 1.00"
        assert 0 <= item["raw_confidence"] <= 1
    assert f"{sum(len(v) for v in job.withheld.values())} withheld as suggestions" in job.message


def test_the_shipped_calibration_splits_the_corners_by_its_threshold(phantom_case) -> None:
    shipped_models_register()
    contract = load_contract(shipped_model("sagittal").contract_data)
    assert contract.calibration is not None
    assert contract.calibration.keypoint is not None
    threshold = contract.calibration.keypoint.threshold
    job, shapes = _run(phantom_case)
    points = [s for key in _sagittal_ids(phantom_case) for s in shapes.get(key, [])]
    points = [s for s in points if s["shape_type"] == "point"]
    withheld = [s for items in job.withheld.values() for s in items if s["shape_type"] == "point"]
    assert {s["label"] for s in points} | {s["label"] for s in withheld} == CORNERS
    assert not {s["label"] for s in points} & {s["label"] for s in withheld}
    # Shapes carry their confidence rounded to 4 places, as the threshold is reported.
    assert all(s["confidence"] >= round(threshold, 4) for s in points)
    assert all(s["confidence"] < threshold for s in withheld)
    # Calibrated: the shown confidence is the map of the raw peak, not the peak itself.
    for s in withheld:
        expected = contract.calibration.keypoint.map(s["raw_confidence"])  # raw rounded to 1e-4
        assert s["confidence"] == pytest.approx(expected, abs=0.01)


def test_a_contract_without_calibration_draws_everything(phantom_case, tmp_path) -> None:
    _register_sagittal(tmp_path, None)
    job, shapes = _run(phantom_case)
    labels = {s["label"] for key in _sagittal_ids(phantom_case) for s in shapes.get(key, [])}
    assert CORNERS | {"cord", "canal"} <= labels
    assert job.withheld == {}
    assert "withheld" not in job.message
