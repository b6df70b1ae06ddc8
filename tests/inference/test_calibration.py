"""Calibrated confidence: the isotonic map against scikit-learn, the ECE against a
computation written here, the threshold rule, the contract block and the shipped models'
calibration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression  # type: ignore[import-untyped]

from inference.runtime.calibration import (
    IsotonicMap,
    choose_threshold,
    expected_calibration_error,
    fit_isotonic,
)
from inference.runtime.contract import ContractError, contract_from_dict, contract_to_dict
from inference.runtime.predict import Keypoint, SlicePrediction
from inference.runtime.withhold import shapes_and_suggestions
from inference.training.calibrate import Samples, fit_calibration
from tests.inference.test_contract import sagittal_contract

SHIPPED = Path(__file__).resolve().parents[2] / "inference" / "shipped"


def _noisy(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # Rounded scores: many ties, as heatmap peaks near 1 have.
    scores = np.round(rng.random(n), 2)
    outcomes = rng.random(n) < scores**2
    return scores, outcomes


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_isotonic_map_is_scikit_learns(seed: int) -> None:
    scores, outcomes = _noisy(seed)
    ours = fit_isotonic(scores, outcomes)
    theirs = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(scores, outcomes)
    np.testing.assert_allclose(ours.x, theirs.X_thresholds_, atol=1e-12)
    np.testing.assert_allclose(ours.y, theirs.y_thresholds_, atol=1e-12)
    grid = np.linspace(-0.5, 1.5, 401)
    np.testing.assert_allclose(ours.apply(grid), theirs.predict(grid), atol=1e-12)
    assert ours(0.37) == pytest.approx(float(theirs.predict([0.37])[0]))


def test_the_map_is_monotone_and_a_constant_when_all_agree() -> None:
    scores, outcomes = _noisy(3)
    values = fit_isotonic(scores, outcomes).apply(np.linspace(0, 1, 101))
    assert (np.diff(values) >= 0).all()
    assert values.min() >= 0
    assert values.max() <= 1
    always = fit_isotonic([0.2, 0.5, 0.9], [True, True, True])
    assert always(0.0) == always(1.0) == 1.0
    single = IsotonicMap(x=(0.5,), y=(0.7,))
    assert single(0.1) == single(0.9) == 0.7


def test_fitting_refuses_empty_or_mismatched_data() -> None:
    with pytest.raises(ValueError, match="same length"):
        fit_isotonic([], [])
    with pytest.raises(ValueError, match="same length"):
        fit_isotonic([0.1, 0.2], [True])
    with pytest.raises(ValueError, match="finite"):
        fit_isotonic([float("nan")], [True])


def _ece_by_hand(p: list[float], y: list[bool], bins: int) -> float:
    total = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [i for i, v in enumerate(p) if low <= v < high or (b == bins - 1 and v == 1.0)]
        if members:
            confidence = sum(p[i] for i in members) / len(members)
            accuracy = sum(1.0 for i in members if y[i]) / len(members)
            total += len(members) / len(p) * abs(accuracy - confidence)
    return total


@pytest.mark.parametrize("bins", [5, 10, 15])
def test_the_ece_is_the_textbook_one(bins: int) -> None:
    rng = np.random.default_rng(bins)
    p = [float(v) for v in np.round(rng.random(300), 3)] + [1.0, 0.0]
    y = [bool(v) for v in rng.random(302) < 0.6]
    assert expected_calibration_error(p, y, bins=bins) == pytest.approx(_ece_by_hand(p, y, bins))
    # Perfectly calibrated: one bin at 0.25 right a quarter of the time.
    assert expected_calibration_error([0.25] * 4, [True, False, False, False]) == 0.0
    assert expected_calibration_error([], []) == 0.0


def test_the_threshold_is_the_lowest_at_which_what_is_shown_is_right_often_enough() -> None:
    p = np.array([0.55, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99])
    y = np.array([False, False, True, False, True, True, True])
    t = choose_threshold(p, y, target=0.75)
    assert t == 0.7  # shown 0.7 ... 0.99: 4 of 5 right
    assert y[p >= t].mean() >= 0.75
    assert y[p >= 0.6].mean() < 0.75
    assert choose_threshold(p, y, target=1.0) == 0.9
    assert choose_threshold([0.9, 0.95], [False, False]) == 1.0  # never right: withhold all
    assert choose_threshold([0.1, 0.2], [True, True]) == 0.5  # the floor


def _calibration_block() -> dict[str, Any]:
    return {
        "method": "isotonic",
        "keypoint": {"correct_within_mm": 4.0, "threshold": 0.9, "x": [0.2, 0.9], "y": [0, 1]},
        "structure": {"correct_dice": 0.8, "threshold": 0.6, "x": [0.5], "y": [0.9]},
    }


def test_the_contract_carries_and_round_trips_a_calibration() -> None:
    data = sagittal_contract() | {"calibration": _calibration_block()}
    contract = contract_from_dict(data)
    assert contract.calibration is not None
    assert contract.calibration.keypoint is not None
    assert contract.calibration.keypoint.threshold == 0.9
    assert contract.calibration.keypoint.map(0.55) == pytest.approx(0.5)
    again = contract_from_dict(json.loads(json.dumps(contract_to_dict(contract))))
    assert again == contract
    assert contract_from_dict(sagittal_contract()).calibration is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["keypoint"].update(x=[0.9, 0.2]), "calibration.keypoint.x: must be strictly"),
        (lambda c: c["keypoint"].update(y=[0.5, 1.5]), "calibration.keypoint.y: must be non-dec"),
        (lambda c: c["keypoint"].update(y=[0.5]), "x and y must be two non-empty lists"),
        (lambda c: c["structure"].update(threshold=1.2), "calibration.structure.threshold"),
        (lambda c: c["structure"].update(correct_dice="high"), "structure.correct_dice"),
        (lambda c: c.update(method="platt"), "calibration.method"),
        (lambda c: c.update(ece=0.1), "calibration.ece: unknown field"),
        (lambda c: (c.pop("keypoint"), c.pop("structure")), "needs a keypoint or a structure"),
    ],
)
def test_a_bad_calibration_block_is_refused_naming_the_field(change: Any, message: str) -> None:
    block = _calibration_block()
    change(block)
    with pytest.raises(ContractError, match=message):
        contract_from_dict(sagittal_contract() | {"calibration": block})


def test_the_keypoint_view_span_round_trips_and_a_bad_one_is_refused() -> None:
    data = sagittal_contract()
    data["preprocessing"] = {"roi": "foreground_box", "keypoint_min_span_mm": 200}
    contract = contract_from_dict(data)
    assert contract.preprocessing.keypoint_min_span_mm == 200.0
    assert contract_from_dict(json.loads(json.dumps(contract_to_dict(contract)))) == contract
    data["preprocessing"]["keypoint_min_span_mm"] = 0
    with pytest.raises(ContractError, match=r"preprocessing\.keypoint_min_span_mm"):
        contract_from_dict(data)


def test_corners_from_a_wider_view_are_suggestions_however_confident() -> None:
    # Drawn corners come from a slice's own view only: the calibration is fitted on those.
    contract = contract_from_dict(sagittal_contract() | {"calibration": _calibration_block()})
    assert contract.calibration is not None
    keypoints = {"C3_AS": Keypoint(x=10.0, y=20.0, confidence=0.99)}
    prediction = SlicePrediction(
        image_shape=(64, 64),
        probabilities={},
        masks={},
        polygons={},
        shape_confidence={},
        keypoints=keypoints,
    )
    drawn, withheld = shapes_and_suggestions(prediction, contract.calibration)
    assert [s["label"] for s in drawn] == ["C3_AS"]
    assert withheld == []
    prediction.keypoint_span_mm = 200.0
    drawn, withheld = shapes_and_suggestions(prediction, contract.calibration)
    assert drawn == []
    assert [s["label"] for s in withheld] == ["C3_AS"]
    assert withheld[0]["reason"].startswith("read from a 200 mm view of a small field of view")
    assert withheld[0]["confidence"] == pytest.approx(1.0)


def test_a_keypoint_calibration_needs_a_heatmap() -> None:
    data = sagittal_contract() | {"calibration": _calibration_block()}
    data["outputs"]["heatmap"] = None
    data["postprocessing"] = {"extent": "full"}
    with pytest.raises(ContractError, match=r"calibration\.keypoint: the model has no heatmap"):
        contract_from_dict(data)


def test_fitting_a_calibration_reports_ece_and_what_would_be_shown() -> None:
    scores, outcomes = _noisy(5, n=600)
    keypoints = Samples(
        raw=[float(v) for v in scores],
        correct=[bool(v) for v in outcomes],
        group=[f"phantom:{i % 6}" for i in range(600)],
        perturbed=[i % 2 == 1 for i in range(600)],
    )
    calibration, report = fit_calibration(keypoints, Samples())
    assert calibration.structure is None
    assert calibration.keypoint is not None
    kp = report["keypoint"]
    assert kp["ece_raw"] == pytest.approx(expected_calibration_error(scores, outcomes))
    assert kp["ece_fitted"] < kp["ece_raw"]
    assert kp["all"]["shown_right_share"] >= 0.95
    shown = calibration.keypoint.map.apply(scores) >= calibration.keypoint.threshold
    assert kp["all"]["shown_share"] == pytest.approx(shown.mean())
    assert report["ece_bins"] == 10


def test_a_threshold_must_hold_on_each_kind_of_image_that_shows_any() -> None:
    # Phantoms right at every score, synthetic images right only at the top: pooled, 0.6
    # would do (the phantoms' 40 right carry the synthetic 4 wrong); per kind, 0.9.
    p = [0.6] * 40 + [0.6] * 4 + [0.9] * 4
    y = [True] * 40 + [False] * 4 + [True] * 4
    domains = ["phantom"] * 40 + ["synth"] * 8
    assert choose_threshold(p, y, target=0.9) == 0.5  # the floor shows as much as 0.6
    assert choose_threshold(p, y, target=0.9, domains=domains) == 0.9
    # A kind that shows nothing at a threshold does not hold it back.
    assert choose_threshold([0.7, 0.8, 0.3], [True, True, False], domains=["a", "a", "b"]) == 0.5
    # No threshold keeps the synthetic images right: only what the map is certain of.
    assert choose_threshold([0.6, 0.9], [True, False], domains=["phantom", "synth"]) == 1.0


def test_the_threshold_holds_out_of_fold_not_only_on_the_fits_own_data() -> None:
    # One group in six is sure and wrong more often than the rest: a pooled fit hides it.
    rng = np.random.default_rng(14)
    scores = np.round(rng.random(600), 2)
    group = np.arange(600) % 6
    outcomes = rng.random(600) < np.where(group == 0, scores**4, scores**1.5)
    keypoints = Samples(
        raw=[float(v) for v in scores],
        correct=[bool(v) for v in outcomes],
        group=[f"phantom:{g}" for g in group],
        perturbed=[False] * 600,
    )
    calibration, report = fit_calibration(keypoints, Samples())
    kp = report["keypoint"]
    assert kp["threshold_in_sample"] < kp["threshold_cross_validated"] < 1.0
    assert calibration.keypoint is not None
    assert calibration.keypoint.threshold == kp["threshold_cross_validated"]
    assert kp["all_cross_validated"]["shown_right_share"] >= 0.95
    assert kp["all"]["shown_right_share"] >= 0.95


def test_corners_the_level_checks_withheld_are_counted_not_fitted() -> None:
    keypoints = Samples(
        raw=[0.9, 0.95, 0.99, 0.7],
        correct=[True, True, True, False],
        group=["phantom:1", "phantom:2", "synth:3", "synth:4"],
        perturbed=[False] * 4,
        level_withheld=[("phantom:1", False), ("synth:3", True), ("synth:3", False)],
    )
    _, report = fit_calibration(keypoints, Samples())
    kp = report["keypoint"]
    assert kp["n"] == 4
    assert kp["level_withheld"] == {
        "phantom": {"n": 1, "right_share": 0.0, "of_every": 3},
        "synth": {"n": 2, "right_share": 0.5, "of_every": 4},
    }
    assert set(kp["by_domain"]) == {"phantom", "synth"}
    assert kp["by_domain"]["synth"]["fit"]["n"] == 2


def test_the_command_names_a_missing_or_broken_model_file(tmp_path, capsys) -> None:
    from inference.training.calibrate import main

    assert main([str(tmp_path / "nope")]) == 2
    assert f"{tmp_path / 'nope'}.contract.json" in capsys.readouterr().err
    (tmp_path / "bad.contract.json").write_text("{", encoding="utf-8")
    assert main([str(tmp_path / "bad")]) == 2
    assert "calibrate " in capsys.readouterr().err


@pytest.mark.parametrize("task", ["sagittal", "axial"])
def test_the_shipped_models_are_calibrated_and_report_their_ece(task: str) -> None:
    contract = contract_from_dict(
        json.loads((SHIPPED / f"{task}.contract.json").read_text(encoding="utf-8"))
    )
    metrics = json.loads((SHIPPED / f"{task}.metrics.json").read_text(encoding="utf-8"))
    assert contract.calibration is not None
    assert contract.calibration.structure is not None
    assert (contract.calibration.keypoint is not None) == (task == "sagittal")
    report = metrics["calibration"]
    assert report["ece_bins"] == 10
    for kind in ("keypoint", "structure") if task == "sagittal" else ("structure",):
        assert 0 <= report[kind]["ece_cross_validated"] < 0.3
        assert report[kind]["all"]["shown_right_share"] >= report[kind]["target_right_share_shown"]
    if task == "sagittal":  # corners: out of fold too, and the level checks' withheld counted
        corners = report["keypoint"]
        assert corners["all_cross_validated"]["shown_right_share"] >= 0.95
        assert set(corners["level_withheld"]) == {"phantom", "synth"}
        assert corners["by_domain"]["phantom"]["cross_validated"]["shown_share"] > 0.5


def test_the_model_card_states_the_calibration_of_the_shipped_models() -> None:
    from inference.training.calibration_card import CARD_END, CARD_START, card_section

    reports = {
        task: json.loads((SHIPPED / f"{task}.metrics.json").read_text(encoding="utf-8"))[
            "calibration"
        ]
        for task in ("sagittal", "axial")
    }
    section = card_section(reports)
    sagittal = reports["sagittal"]["keypoint"]
    row = next(line for line in section.splitlines() if line.startswith("| sagittal | keypoint"))
    assert f"{sagittal['threshold']:.2f}" in row
    assert f"{sagittal['ece_cross_validated']:.3f}" in row
    assert "| axial | structure |" in section
    assert reports["sagittal"]["keypoint_real_references"]["n"] > 0
    (line,) = [x for x in section.splitlines() if x.startswith("sagittal corners by kind of image")]
    held = sagittal["level_withheld"]["synth"]
    assert f"synth: {held['of_every']} corners, {held['n']} withheld by the level checks" in line
    card = (SHIPPED / "MODEL_CARD.md").read_text(encoding="utf-8")
    start, end = card.index(CARD_START), card.index(CARD_END)
    assert card[start : end + len(CARD_END)] + "\n" == section


def test_a_perturbed_copy_cuts_corners_out_of_its_field_of_view() -> None:
    from inference.training.calibrate import perturb
    from inference.training.data import TrainingSlice

    rows = 100
    image = np.tile(np.linspace(0, 1000, rows, dtype=np.float32)[:, None], (1, 40))
    keypoints = np.array([[20.5, y + 0.5] for y in range(0, rows, 5)], dtype=np.float64)
    cord = np.zeros((rows, 40), dtype=bool)
    cord[:, 18:22] = True
    item = TrainingSlice(
        image=image, spacing=(1.0, 1.0), masks={"cord": cord, "canal": None},
        keypoints=keypoints, source="phantom:1:sagittal:4", valid=cord | True,
    )  # fmt: skip
    rng = np.random.default_rng(0)
    cut = [c for c in (perturb(item, rng, v) for v in range(10)) if c.image.shape[0] < rows]
    assert cut, "no variant cut the field of view"
    for copy in cut:
        assert copy.keypoints is not None
        height = copy.image.shape[0]
        kept = np.isfinite(copy.keypoints[:, 1])
        assert kept.any()
        assert (~kept).any()  # some corners fell outside: never right
        assert ((copy.keypoints[kept, 1] >= 0) & (copy.keypoints[kept, 1] < height)).all()
        top = float(keypoints[kept][0, 1] - copy.keypoints[kept][0, 1])
        # The image, the masks and the labelled band are cut with the corners.
        cord_copy = copy.masks["cord"]
        assert cord_copy is not None
        assert cord_copy.shape == copy.image.shape
        assert copy.valid is not None
        assert copy.valid.shape == copy.image.shape
        assert copy.source.startswith("phantom:1:sagittal:4:v")
        assert np.allclose(copy.keypoints[kept, 1] + top, keypoints[kept, 1])
