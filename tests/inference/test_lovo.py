"""Leave-one-volume-out harness (issue 14 §2) with a tiny recipe on real volumes, and the
model card's generated section (§6) from fixture results."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from inference.runtime.contract import load_contract
from inference.training.calibrate import HeldOutFold, Samples, fold_structure_samples
from inference.training.card import (
    END,
    START,
    TARGETS,
    lovo_section,
    publish_lovo,
    replace_section,
    target_values,
    view_section,
)
from inference.training.data import real_slices
from inference.training.lovo import (
    SCHEMA,
    THRESHOLDS,
    FoldLeakError,
    LovoRecipe,
    LovoRun,
    _set_final_point,
    aggregate,
    check_no_leak,
    cross_validated_threshold,
    fold_volumes,
    pretrain,
    run_fold,
    run_lovo,
    score_at_cross_validated_thresholds,
)
from inference.training.operating_point import POOLING_MM, Point

TINY = {"input_size": (64, 64), "widths": (8, 16, 32), "heatmap_level": 1, "threads": 1}
# The two smallest axial volumes (9 and 5 slices with a cord mask).
VOLUMES = ("t2s", "mt")
FOLD_KEYS = {
    "schema", "task", "fold", "contrast", "train_volumes", "train_sources", "held_out_sources",
    "slices", "metrics", "recipe", "steps", "seconds", "train_seconds", "onnx", "worst",
    "references", "threshold_curve", "threshold",
}  # fmt: skip


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    work = tmp_path_factory.mktemp("lovo")
    recipe = LovoRecipe(
        batch_size=2, pretrain_steps=1, finetune_steps=1, pretrain_phantoms=(21,),
        rehearsal_phantoms=(21,), monitor_phantoms=(), overrides=TINY,
    )  # fmt: skip
    run = LovoRun(task="axial", recipe=recipe, work_dir=work, volumes=VOLUMES, log=lambda _: None)
    summary = run_lovo(run, final_dir=work / "final")
    return work, summary


def test_fold_volumes_leave_exactly_the_held_out_volume_out():
    assert fold_volumes("axial", "t2s") == ["t2", "t1", "mt"]
    assert fold_volumes("sagittal", "t2") == ["t1"]
    with pytest.raises(ValueError, match="not a sagittal volume"):
        fold_volumes("sagittal", "t2s")


def test_a_training_list_with_a_held_out_slice_is_refused():
    check_no_leak("t2", ["real:t1:axial:3", "phantom:21:axial:0", "real:t2s:axial:1"])
    with pytest.raises(FoldLeakError, match="fold t2"):
        check_no_leak("t2", ["real:t1:axial:3", "real:t2:axial:7"])


def test_no_fold_trains_on_the_volume_it_is_scored_on(tiny_run):
    work, summary = tiny_run
    assert [f["fold"] for f in summary["folds"]] == list(VOLUMES)
    for fold in summary["folds"]:
        held, other = fold["fold"], next(v for v in VOLUMES if v != fold["fold"])
        metrics = json.loads((work / "axial" / f"fold-{held}" / "axial.metrics.json").read_text())
        train = metrics["training"]["data"]["train"]
        assert not [s for s in train if s.startswith(f"real:{held}:")]
        assert any(s.startswith(f"real:{other}:") for s in train)
        assert fold["train_volumes"] == [other]
        assert fold["held_out_sources"]
        assert all(s.startswith(f"real:{held}:axial:") for s in fold["held_out_sources"])
    pretrain = json.loads((work / "axial" / "pretrain" / "pretrain.json").read_text())
    assert not [s for s in pretrain["train"] if s.startswith("real:")]
    final = json.loads((work / "final" / "axial.metrics.json").read_text())
    final_train = final["training"]["data"]["train"]
    assert {s.split(":")[1] for s in final_train if s.startswith("real:")} == set(VOLUMES)
    assert summary["final"]["train_volumes"] == list(VOLUMES)


def test_each_fold_writes_its_json_with_per_slice_scores(tiny_run):
    work, summary = tiny_run
    for fold in summary["folds"]:
        stored = json.loads((work / "axial" / f"fold-{fold['fold']}" / "fold.json").read_text())
        assert stored == fold
        assert set(fold) == FOLD_KEYS
        assert fold["schema"] == SCHEMA
        assert fold["contrast"] in ("T2*", "MT (gradient echo, magnetisation transfer)")
        per_slice = fold["metrics"]["cord_dice_per_slice"]
        assert [p["source"] for p in per_slice] == fold["held_out_sources"]
        assert fold["slices"] == len(per_slice)
        dices = np.array([p["dice"] for p in per_slice])
        assert fold["metrics"]["cord_dice"]["mean"] == pytest.approx(dices.mean())
        assert 0.0 <= fold["metrics"]["cord_dice_pooled"] <= 1.0
        assert fold["recipe"]["finetune_steps"] == 1
        # Both volumes have project-annotated canal references (fixtures/references).
        assert fold["references"]["held_out"] is True
        canal = fold["references"]["canal_dice"]["per_slice"]
        assert fold["metrics"]["canal_dice"]["mean"] == pytest.approx(np.mean(list(canal.values())))
        assert fold["metrics"]["canal_dice"]["n"] == len(canal) > 0
        # ... and the manual cord mask on the same slices: seed 003's measurement-slice Dice.
        cord = fold["references"]["cord_dice"]["per_slice"]
        assert set(cord) == set(canal)
        measured = fold["metrics"]["cord_dice_measurement"]
        assert measured["mean"] == pytest.approx(np.mean(list(cord.values())))
        assert measured["n"] == len(cord)
        worst = np.load(work / "axial" / f"fold-{fold['fold']}" / "worst.npz")
        assert float(worst["dice"]) == pytest.approx(dices.min())
    lovo = json.loads((work / "axial" / "lovo.json").read_text())
    assert lovo["finished"] == 2
    assert lovo["failed"] == []
    assert lovo["cord_dice_measurement_folds"] == 2
    assert lovo["cord_dice_measurement_mean"] == pytest.approx(
        np.mean([f["metrics"]["cord_dice_measurement"]["mean"] for f in summary["folds"]])
    )


def test_a_finished_fold_is_reused_when_its_recipe_is_unchanged(tiny_run):
    work, summary = tiny_run
    logs: list[str] = []
    recipe = LovoRecipe(**{**summary["recipe"], "overrides": TINY})
    again = run_lovo(
        LovoRun(task="axial", recipe=recipe, work_dir=work, volumes=VOLUMES, log=logs.append)
    )
    assert len(logs) == 3
    assert all("reusing" in line for line in logs)
    assert again["folds"] == summary["folds"]


def test_a_fold_scored_before_the_cord_reference_is_rescored_on_reuse(tiny_run, tmp_path):
    work, summary = tiny_run
    shutil.copytree(work / "axial", tmp_path / "axial")
    path = tmp_path / "axial" / "fold-mt" / "fold.json"
    old = json.loads(path.read_text())
    del old["references"]["cord_dice"], old["metrics"]["cord_dice_measurement"]
    path.write_text(json.dumps(old))
    recipe = LovoRecipe(**{**summary["recipe"], "overrides": TINY})
    again = run_lovo(
        LovoRun(task="axial", recipe=recipe, work_dir=tmp_path, volumes=VOLUMES, log=print)
    )
    mt = next(f for f in again["folds"] if f["fold"] == "mt")
    expected = next(f for f in summary["folds"] if f["fold"] == "mt")
    assert mt["metrics"]["cord_dice_measurement"] == expected["metrics"]["cord_dice_measurement"]
    assert json.loads(path.read_text())["references"]["cord_dice"]


def test_a_sagittal_fold_fine_tunes_on_the_lateral_slices_its_recipe_asks_for(tmp_path):
    recipe = LovoRecipe(
        batch_size=2, pretrain_steps=1, finetune_steps=1, pretrain_phantoms=(21,),
        rehearsal_phantoms=(21,), monitor_phantoms=(), real_min_cord_share=0.0, overrides=TINY,
    )  # fmt: skip
    run = LovoRun(
        task="sagittal", recipe=recipe, work_dir=tmp_path, log=lambda _: None,
        score_references=False,
    )  # fmt: skip
    fold = run_fold(run, "t2", pretrain(run))
    metrics = json.loads((tmp_path / "sagittal" / "fold-t2" / "sagittal.metrics.json").read_text())
    trained = {s for s in metrics["training"]["data"]["train"] if s.startswith("real:")}
    lateral = {s.source for s in real_slices("sagittal", ["t1"], min_cord_share=0.0)}
    assert trained == lateral
    assert len(lateral) > len(real_slices("sagittal", ["t1"]))
    # ... and it is scored on the held-out volume's body slices only, as every fold is.
    assert fold["held_out_sources"] == [s.source for s in real_slices("sagittal", ["t2"])]


def test_a_changed_fine_tuning_reuses_the_pretraining_and_refits_the_folds(tiny_run, tmp_path):
    work, summary = tiny_run
    shutil.copytree(work / "axial" / "pretrain", tmp_path / "axial" / "pretrain")
    logs: list[str] = []
    recipe = LovoRecipe(**{**summary["recipe"], "overrides": TINY, "finetune_remap_p": 0.5})
    again = run_lovo(
        LovoRun(task="axial", recipe=recipe, work_dir=tmp_path, volumes=VOLUMES, log=logs.append)
    )
    assert "pretrain: reusing" in logs[0]
    assert not any("reusing" in line for line in logs[1:])
    assert [f["recipe"]["finetune_remap_p"] for f in again["folds"]] == [0.5, 0.5]
    changed_pretraining = LovoRecipe(**{**summary["recipe"], "overrides": TINY, "seed": 7})
    assert changed_pretraining.pretrain_dict() != recipe.pretrain_dict()


def test_each_fold_is_scored_at_the_threshold_the_other_folds_favour(tiny_run):
    work, summary = tiny_run
    for fold in summary["folds"]:
        other = next(v for v in VOLUMES if v != fold["fold"])
        # Every threshold with every pooling: the held-out slices are one real series.
        assert set(fold["threshold_curve"]) == {
            Point(t, p).key for t in THRESHOLDS for p in POOLING_MM
        }
        value = fold["threshold"]["value"]
        point = Point(value, fold["threshold"]["pooling_mm"])
        assert fold["threshold"]["chosen_on"] == [other]
        curves = {f["fold"]: f["threshold_curve"] for f in summary["folds"]}
        assert value == cross_validated_threshold(curves, exclude=fold["fold"])
        written = json.loads(
            (work / "axial" / f"fold-{fold['fold']}" / "axial.contract.json").read_text()
        )
        assert written["outputs"]["segmentation"]["threshold"] == value
        assert written["postprocessing"].get("slice_pooling_mm", 0.0) == point.pooling_mm
        # Its score is its own curve at that point.
        assert fold["metrics"]["cord_dice"]["mean"] == pytest.approx(
            fold["threshold_curve"][point.key]
        )
    final = json.loads((work / "final" / "axial.contract.json").read_text())
    assert final["outputs"]["segmentation"]["threshold"] == summary["threshold"]
    assert final["postprocessing"].get("slice_pooling_mm", 0.0) == summary["pooling_mm"]
    assert summary["final"]["threshold"] == summary["threshold"]


def test_a_fold_whose_neighbours_favour_another_threshold_is_rescored_at_it(tiny_run, tmp_path):
    work, summary = tiny_run
    shutil.copytree(work / "axial", tmp_path / "axial")
    folds = json.loads(json.dumps(summary["folds"]))
    # The other fold's volume favours 0.3 (its curve is made up; the held-out one's is real).
    held, other = folds
    other["threshold_curve"] = {k: (1.0 if k == "0.30" else 0.0) for k in other["threshold_curve"]}
    logs: list[str] = []
    recipe = LovoRecipe(**{**summary["recipe"], "overrides": TINY})
    run = LovoRun(task="axial", recipe=recipe, work_dir=tmp_path, volumes=VOLUMES, log=logs.append)
    score_at_cross_validated_thresholds(run, folds)
    assert held["threshold"] == {"value": 0.3, "pooling_mm": 0.0, "chosen_on": [other["fold"]]}
    contract = json.loads(
        (tmp_path / "axial" / f"fold-{held['fold']}" / "axial.contract.json").read_text()
    )
    assert contract["outputs"]["segmentation"]["threshold"] == 0.3
    assert held["metrics"]["cord_dice"]["mean"] == pytest.approx(held["threshold_curve"]["0.30"])
    stored = json.loads((tmp_path / "axial" / f"fold-{held['fold']}" / "fold.json").read_text())
    assert stored == held
    assert any("threshold 0.30" in line for line in logs)


def test_the_cross_validated_threshold_never_looks_at_the_fold_itself():
    curves = {
        "a": {"0.30": 0.9, "0.40": 0.5, "0.50": 0.1},
        "b": {"0.30": 0.2, "0.40": 0.6, "0.50": 0.6},
        "c": {"0.30": 0.2, "0.40": 0.6, "0.50": 0.7},
    }
    assert cross_validated_threshold(curves, exclude="a") == 0.5  # b and c: 0.60 / 0.65
    # a and b: 0.55 at 0.3 and at 0.4, 0.35 at 0.5: the tie goes to the one nearer 0.5.
    assert cross_validated_threshold(curves, exclude="c") == 0.4
    assert cross_validated_threshold({"a": curves["a"]}, exclude="a") == 0.5  # nothing else
    ties = {"a": {"0.30": 0.5, "0.40": 0.5, "0.50": 0.5}}
    assert cross_validated_threshold(ties, exclude=None) == 0.5


def _fold(
    name: str, dices: list[float], pooled: float, measurement: float | None = None
) -> dict[str, Any]:
    arr = np.array(dices)
    extra = {} if measurement is None else {
        "cord_dice_measurement": {"mean": measurement, "sd": 0.0, "min": measurement,
                                  "max": measurement, "n": 1},
    }  # fmt: skip
    return {
        "schema": SCHEMA, "task": "axial", "fold": name, "contrast": name.upper(),
        "train_volumes": ["x"], "slices": len(dices), "seconds": 60.0,
        "held_out_sources": [f"real:{name}:axial:{i}" for i in range(len(dices))],
        "metrics": {
            "cord_dice": {"mean": float(arr.mean()), "sd": float(arr.std(ddof=1)),
                          "min": float(arr.min()), "max": float(arr.max()), "n": len(dices)},
            "cord_dice_pooled": pooled,
            "cord_dice_per_slice": [{"source": f"real:{name}:axial:{i}", "dice": d}
                                    for i, d in enumerate(dices)],
            **extra,
        },
    }  # fmt: skip


def test_aggregate_weighs_each_fold_once_and_lists_failures():
    folds = [
        _fold("t2", [0.9, 0.95, 0.97], 0.94),
        _fold("t1", [0.8, 0.6], 0.7),
        {"fold": "mt", "contrast": "MT", "error": "RuntimeError: boom"},
    ]
    out = aggregate("axial", folds)
    means = np.array([np.mean([0.9, 0.95, 0.97]), np.mean([0.8, 0.6])])
    assert out["cord_dice_mean"] == pytest.approx(means.mean())
    assert out["cord_dice_sd"] == pytest.approx(means.std(ddof=1))
    assert out["cord_dice_min"] == pytest.approx(means.min())
    assert out["cord_dice_pooled_mean"] == pytest.approx(np.mean([0.94, 0.7]))
    assert out["finished"] == 2
    assert out["failed"] == ["mt"]
    assert out["cord_dice_folds"] == 2
    assert [f["fold"] for f in out["folds"]] == ["t2", "t1", "mt"]


def _stage_fixture(tmp_path: Path) -> tuple[Path, Path]:
    run_dir, shipped = tmp_path / "run" / "axial", tmp_path / "shipped"
    folds = [_fold("t2", [0.9, 0.95, 0.97], 0.94, 0.96), _fold("t1", [0.8, 0.6], 0.7)]
    for fold in folds:
        fold["worst"] = "worst.npz"
        folder = run_dir / f"fold-{fold['fold']}"
        folder.mkdir(parents=True)
        image = np.random.default_rng(0).random((40, 30), dtype=np.float32) * 1000
        reference = np.zeros((40, 30), dtype=bool)
        reference[15:25, 10:20] = True
        prediction = np.roll(reference, 3, axis=1)
        np.savez_compressed(
            folder / "worst.npz", image=image, reference=reference, prediction=prediction,
            source=np.array("x"), dice=np.array(0.7), spacing=np.array((0.5, 0.5)),
        )  # fmt: skip
    summary = aggregate("axial", folds)
    summary["recipe"] = LovoRecipe(
        batch_size=12, pretrain_steps=300, finetune_steps=100, finetune_remap_p=0.5
    ).as_dict()
    summary["pretrain_seconds"], summary["pretrain_seconds_per_step"] = 600.0, 2.0
    (run_dir / "lovo.json").write_text(json.dumps(summary))
    return run_dir, shipped


def test_the_card_section_is_generated_from_the_stored_results(tmp_path):
    run_dir, shipped = _stage_fixture(tmp_path)
    publish_lovo(run_dir, shipped, shipped_final=False)
    stored = json.loads((shipped / "lovo" / "axial.json").read_text())
    assert stored["pictures"] == {"t2": "card/axial-t2-worst.png", "t1": "card/axial-t1-worst.png"}
    with Image.open(shipped / "card" / "axial-t1-worst.png") as picture:
        # three panels of 15 x 20 mm at 256 px for the longer side, a 16 px caption above
        assert picture.size == (3 * 192 + 2 * 4, 256 + 16)
    text = lovo_section(shipped, speed_ms={"sagittal": 41.0, "axial": 9.5}, onnx_mb=4.2)
    assert text.startswith(START)
    assert text.rstrip().endswith(END)
    assert "| `t2` | T2 | 3 (0–2) | 94.0 ± 3.6 (min 90.0) | 94.0 | 96.0 |" in text
    assert "| `t1` | T1 | 2 (0–1) | 70.0 ± 14.1 (min 60.0) | 70.0 | — |" in text
    assert "cord Dice % measurement slice |" in text
    assert "seed 003's protocol" in text
    assert "**Caveat**: these volumes are not independent subjects." in text
    assert "**mean of 2 folds** | | | **82.0**" in text  # (94.0 + 70.0) / 2
    assert "| 82.0 | 96.0 | | | |" in text  # pooled; measurement slice (one fold has one)
    assert "50 % of the fine-tuning samples through a random intensity curve" in text
    assert "![axial fold t1: worst slice, Dice 60.0 %](card/axial-t1-worst.png)" in text
    assert "`t1` (worst fold): worst slice Dice 60.0 % (slice x: predicted cord 1.00 x" in text
    assert "about the right size, misplaced" in text
    stored["folds"][1]["worst_slice"]["dice"] = 0.0
    (shipped / "lovo" / "axial.json").write_text(json.dumps(stored))
    missed = lovo_section(shipped, speed_ms={}, onnx_mb=None)
    assert "(slice x: the predicted cord does not touch the reference: found elsewhere)" in missed
    assert "**not** this recipe's final model" in text
    assert "rehearsal seeds 1000–1011, 50 % of the fine-tuning samples" in text
    assert "a random 5-knot curve), seed 2024. Each fold" in text
    # 600 s of pretraining and two folds of 60 s; 300 + 2 x 100 steps
    assert "pretraining 10.0 min (2.00 s a step), the whole view 12.0 min for 500 steps" in text
    assert "| axial cord Dice, LOVO mean | ≥ 93 % | 82.0 % | ✗ |" in text
    assert "| axial ms per slice (ONNX Runtime, this CPU) | ≤ 15 ms | 9.5 ms | ✓ |" in text
    assert "| sagittal ms per slice (ONNX Runtime, this CPU) | ≤ 30 ms | 41.0 ms | ✗ |" in text
    assert "| sagittal cord Dice, LOVO mean of every slice | ≥ 92 % | not measured |" in text
    assert (
        "| sagittal cord Dice on the measurement slice, C2/C3–C7/T1 (seed 003), LOVO mean "
        "| ≥ 92 % | not measured | — not measured |"
    ) in text
    assert "Not run yet for this view." in text  # sagittal
    card = replace_section("# Card\n\nintro\n", text)
    assert card.startswith("# Card\n\nintro\n\n" + START)
    assert replace_section(card, text) == card  # regenerating replaces, never appends


def test_a_final_trained_but_not_shipped_is_named_and_synthetic_pretraining_stated(tmp_path):
    run_dir, shipped = _stage_fixture(tmp_path)
    summary = json.loads((run_dir / "lovo.json").read_text())
    summary["final"] = {"file": "axial.onnx", "sha256": "ab" * 32, "train_volumes": ["t2", "t1"]}
    summary["recipe"]["overrides"] = {"synth_fraction": 0.5}
    (run_dir / "lovo.json").write_text(json.dumps(summary))
    publish_lovo(run_dir, shipped, shipped_final=False)
    text = lovo_section(shipped, speed_ms={}, onnx_mb=None)
    assert "final model (sha256 `abababababababab`, trained on all of t2, t1)" in text
    assert "was trained and checked but not shipped" in text
    assert "no final model of this recipe was trained" not in text
    assert "and 50 % of each batch domain-randomised synthetic images), then per fold" in text


def test_every_target_has_a_measured_value_or_says_not_measured():
    lovo = {
        "sagittal": {"cord_dice_mean": 0.95, "cord_dice_measurement_mean": 0.97},
        "axial": {"cord_dice_mean": 0.9},
    }
    duration = {"tasks": ["sagittal", "axial"], "seconds": 4800.0}
    values = target_values(lovo, speed_ms={"sagittal": 20.0}, onnx_mb=4.0, duration=duration)
    assert set(values) == {t.key for t in TARGETS}
    assert values["sagittal_cord_dice"] == pytest.approx(95.0)
    assert values["sagittal_cord_dice_measurement"] == pytest.approx(97.0)
    assert values["make_models_min"] == pytest.approx(80.0)
    assert values["axial_ms"] is None
    assert values["sagittal_canal_dice"] is None
    partial = target_values(
        lovo, speed_ms={}, onnx_mb=None, duration={"tasks": ["axial"], "seconds": 60.0}
    )
    assert partial["make_models_min"] is None  # one view's run is not `make models`
    assert values["keypoint_shown_within_4mm"] is None  # no calibration report given
    corners = {"all_cross_validated": {"shown_share": 0.4, "shown_right_share": 0.97}}
    with_corners = target_values(lovo, speed_ms={}, onnx_mb=None, duration=None, corners=corners)
    assert with_corners["keypoint_shown_within_4mm"] == pytest.approx(97.0)
    nothing = {"all_cross_validated": {"shown_share": 0.0, "shown_right_share": 1.0}}
    drawn_none = target_values(lovo, speed_ms={}, onnx_mb=None, duration=None, corners=nothing)
    assert drawn_none["keypoint_shown_within_4mm"] is None  # nothing drawn: nothing to judge


def test_the_final_model_takes_the_folds_threshold_and_is_calibrated_again(tiny_run, tmp_path):
    work, _ = tiny_run
    final = shutil.copytree(work / "final", tmp_path / "final")
    metrics_path = final / "axial.metrics.json"
    before = json.loads(metrics_path.read_text())
    before["calibration"] = {"stale": True}
    metrics_path.write_text(json.dumps(before))
    exported = json.loads((final / "axial.contract.json").read_text())
    was = exported["outputs"]["segmentation"]["threshold"]
    assert was != 0.35
    _set_final_point(final / "axial.contract.json", Point(0.35, 1.0), ["mt", "t2s"])
    contract = json.loads((final / "axial.contract.json").read_text())
    assert contract["outputs"]["segmentation"]["threshold"] == 0.35
    assert contract["postprocessing"]["slice_pooling_mm"] == 1.0
    after = json.loads(metrics_path.read_text())
    assert after["threshold"]["value"] == 0.35
    assert after["threshold"]["pooling_mm"] == 1.0
    assert after["threshold"]["chosen_on"] == ["mt", "t2s"]
    assert after["threshold"]["metrics_measured_at"] == was
    assert "stale" not in after["calibration"]


def test_the_final_calibration_adds_the_folds_held_out_real_slices(tiny_run, tmp_path):
    """Fitted on phantoms alone, a map withheld most real T1 axial cords: the final model's
    structures are calibrated on the folds' held-out volumes too, each predicted by the fold
    network that never saw it."""
    work, _ = tiny_run
    final = shutil.copytree(work / "final", tmp_path / "final")
    _set_final_point(final / "axial.contract.json", Point(0.5, 0.0), ["mt", "t2s"])
    alone = json.loads((final / "axial.metrics.json").read_text())["calibration"]
    folds = [
        HeldOutFold(
            onnx_path=work / "axial" / f"fold-{name}" / "axial.onnx",
            contract=load_contract(work / "axial" / f"fold-{name}" / "axial.contract.json"),
            slices=real_slices("axial", [name]),
        )
        for name in VOLUMES
    ]
    _set_final_point(final / "axial.contract.json", Point(0.5, 0.0), ["mt", "t2s"], folds=folds)
    report = json.loads((final / "axial.metrics.json").read_text())["calibration"]
    assert "held-out real volumes (real:mt, real:t2s)" in report["data"]
    extra = Samples()
    fold_structure_samples(folds, extra)
    assert len(extra.raw) > 0
    assert {g.split(":")[0] for g in extra.group} == {"fold"}
    before = alone.get("structure", {}).get("n", 0)  # a tiny network may draw no phantom
    assert report["structure"]["n"] == before + len(extra.raw)


def test_the_card_names_each_folds_threshold_and_where_it_was_chosen(tiny_run):
    _, summary = tiny_run
    text = view_section("axial", summary)
    assert "chosen on the other folds' held-out volumes" in text
    for fold in summary["folds"]:
        other = next(v for v in VOLUMES if v != fold["fold"])
        point = Point(fold["threshold"]["value"], fold["threshold"]["pooling_mm"])
        assert f"`{fold['fold']}` {point.describe()} (chosen on `{other}`" in text
    final = Point(summary["threshold"], summary["pooling_mm"])
    assert f"chosen on all folds: {final.describe()}." in text
    assert "poolings of 0, 1, 2 mm" in text
