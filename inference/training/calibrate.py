"""Calibrate a model's confidences on held-out data it never trained on, and write the fitted
maps and threshold into its `.contract.json` and the report (ECE) into its `.metrics.json`.

Data: the held-out phantoms (seeds 9000-9007) and real slices of the model's `.metrics.json`,
each as predicted and in `VARIANTS` perturbed copies (a smaller field of view that cuts
vertebrae off, noise, lower resolution: what real scans do to a model trained on phantoms),
so that the map also sees the model being wrong. Corners the runtime withholds whatever their
score (a level not counted from C2, runtime.counting.unverified, or failing the level check)
are not fitted, only counted in the report. A keypoint is right within
`KEYPOINT_RADIUS_MM` of its reference (one cut out of the field of view is never right), a
structure with a Dice of at least `STRUCTURE_MIN_DICE` where its reference is known. ECE over
`ECE_BINS` equal-width bins, of the raw scores, of the fitted map on its own data and
cross-validated (leave one phantom or real volume out).

    python -m inference.training.calibrate inference/shipped/sagittal inference/shipped/axial
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from inference.runtime.calibration import (
    ECE_BINS,
    choose_threshold,
    expected_calibration_error,
    fit_isotonic,
)
from inference.runtime.contract import Calibration, CalibrationMap, ModelContract, load_contract
from inference.runtime.predict import SlicePrediction, predict_slices
from inference.training.counting import HELD_OUT_SEEDS
from inference.training.data import TrainingSlice, phantom_slices, real_slices, synth_slices
from inference.training.evaluate import dice, full_extent

KEYPOINT_RADIUS_MM = 4.0
STRUCTURE_MIN_DICE = 0.8
VARIANTS = 5
SEED = 7
# The share of shown pre-labels that must be right: keypoints as issue 14 asks; a structure is
# rarely all wrong, and withholding a cord that is right four times in five costs more
# (drawing it again) than correcting it.
TARGETS = {"keypoint": 0.95, "structure": 0.8}


@dataclass
class Samples:
    raw: list[float] = field(default_factory=list)
    correct: list[bool] = field(default_factory=list)
    group: list[str] = field(default_factory=list)
    perturbed: list[bool] = field(default_factory=list)
    # Keypoints the level checks withheld before any threshold (their level not counted from
    # C2, runtime.counting.unverified, or failing the level check): (group, whether right).
    # Never drawn, so not fitted; reported so that the shown share is of every corner.
    level_withheld: list[tuple[str, bool]] = field(default_factory=list)

    def domains(self) -> list[str]:
        """Each sample's kind of image: phantom, synth (domain-randomised) or real."""
        return [_domain(g) for g in self.group]


def _domain(group: str) -> str:
    return group.removeprefix("fold:").split(":")[0]


def _group(source: str) -> str:
    kind, name = source.split(":")[:2]
    return f"{kind}:{name}"


def perturb(item: TrainingSlice, rng: np.random.Generator, variant: int) -> TrainingSlice:
    """A copy with a cut field of view (rows; keypoints outside become NaN), noise and lower
    resolution, each drawn at random."""
    image: np.ndarray = item.image.astype(np.float32)
    masks = dict(item.masks)
    keypoints = None if item.keypoints is None else item.keypoints.astype(np.float64).copy()
    valid = item.valid
    rows = image.shape[0]
    if rng.random() < 0.6:
        height = int(rows * rng.uniform(0.35, 0.8))
        top = int(rng.integers(0, rows - height + 1))
        image = image[top : top + height]
        masks = {k: None if m is None else m[top : top + height] for k, m in masks.items()}
        valid = None if valid is None else valid[top : top + height]
        if keypoints is not None:
            keypoints[:, 1] -= top
            outside = (keypoints[:, 1] < 0) | (keypoints[:, 1] >= height)
            keypoints[outside] = np.nan
    span = float(np.percentile(image, 99) - np.percentile(image, 1)) or 1.0
    if rng.random() < 0.4:
        factor = rng.uniform(2.0, 4.0)
        small = (max(8, int(image.shape[1] / factor)), max(8, int(image.shape[0] / factor)))
        image = cv2.resize(cv2.resize(image, small, interpolation=cv2.INTER_AREA),
                           image.shape[::-1], interpolation=cv2.INTER_LINEAR)  # fmt: skip
    if rng.random() < 0.7:
        image = image + rng.normal(0.0, rng.uniform(0.02, 0.15) * span, image.shape)
    return dataclasses.replace(
        item,
        image=np.clip(image, 0, None).astype(np.float32),
        masks=masks,
        keypoints=keypoints,
        source=f"{item.source}:v{variant}",
        valid=valid,
    )


def _collect(
    session: Any,
    contract: ModelContract,
    slices: Sequence[TrainingSlice],
    keypoints: Samples,
    structures: Samples,
) -> None:
    predictions = predict_slices(
        session, contract, [s.image for s in slices], [s.spacing for s in slices]
    )
    names = contract.heatmap.keypoints if contract.heatmap is not None else ()
    for item, pred in zip(slices, predictions, strict=True):
        group, perturbed = _group(item.source), ":v" in item.source
        _structure_samples(item, pred, group, perturbed, structures)
        if item.keypoints is None or not pred.keypoints:
            continue
        scale = np.array([item.spacing[1], item.spacing[0]])
        for name, truth_xy in zip(names, item.keypoints, strict=True):
            point = pred.keypoints[name]
            error = float(np.hypot(*((np.array([point.x, point.y]) - truth_xy) * scale)))
            right = bool(np.isfinite(error) and error <= KEYPOINT_RADIUS_MM)
            if name in pred.keypoints_withheld:
                # A suggestion whatever its confidence: nothing to calibrate.
                keypoints.level_withheld.append((group, right))
                continue
            keypoints.raw.append(point.confidence)
            keypoints.correct.append(right)
            keypoints.group.append(group)
            keypoints.perturbed.append(perturbed)


def _structure_samples(
    item: TrainingSlice, pred: SlicePrediction, group: str, perturbed: bool, structures: Samples
) -> None:
    for label, truth in item.masks.items():
        if truth is None or pred.polygons.get(label) is None:
            continue  # nothing drawn: nothing to calibrate
        # Scored where the reference is known (phantom sagittal masks stop at the labelled
        # band although the cord goes on: a cord drawn beyond it is not wrong).
        known = np.ones(truth.shape, dtype=bool) if item.valid is None else item.valid
        score = dice(pred.masks[label] & known, truth & known)
        structures.raw.append(pred.shape_confidence[label])
        structures.correct.append(score >= STRUCTURE_MIN_DICE)
        structures.group.append(group)
        structures.perturbed.append(perturbed)


@dataclass(frozen=True)
class HeldOutFold:
    """A leave-one-volume-out fold's network, its contract at the final model's operating
    point, and the real slices it never trained on."""

    onnx_path: Path
    contract: ModelContract
    slices: Sequence[TrainingSlice]


def fold_structure_samples(folds: Sequence[HeldOutFold], structures: Samples) -> None:
    """Structure samples of real scans that no network saw: each fold's network on its
    held-out volume, predicted within the whole series as a pre-label job predicts it (pooling
    included). The phantoms alone say little about the confidence of a real cord: fitted on
    them, a map withheld 66 of the 77 real T1 axial cords, whose Dice averaged 93 %."""
    from inference.runtime.sessions import create_session
    from inference.training.operating_point import predict_in_series

    for fold in folds:
        session = create_session(fold.onnx_path)
        predictions = predict_in_series(session, full_extent(fold.contract), fold.slices)
        for item, pred in zip(fold.slices, predictions, strict=True):
            _structure_samples(item, pred, f"fold:{_group(item.source)}", False, structures)


def calibration_data(
    session: Any, contract: ModelContract, held_out: dict[str, list[str]]
) -> tuple[Samples, Samples]:
    """Keypoint and structure samples on the held-out slices named in a `.metrics.json`."""
    task = contract.task
    seeds = sorted({int(s.split(":")[1]) for s in held_out.get("phantom", [])})
    volumes = sorted({s.split(":")[1] for s in held_out.get("real", [])})
    wanted = set(held_out.get("real", []))
    phantoms = phantom_slices(task, seeds, sagittal_offsets=(0,))
    real = [s for s in real_slices(task, volumes) if s.source in wanted]
    rng = np.random.default_rng(SEED)
    keypoints, structures = Samples(), Samples()
    # The product draws only corners read from a slice's own region of interest (those of a
    # small field of view's wider view are always suggestions, runtime.withhold): fitted on
    # those alone.
    contract = dataclasses.replace(
        contract,
        preprocessing=dataclasses.replace(contract.preprocessing, keypoint_min_span_mm=None),
    )
    # Real masks cover the whole visible cord: the extent rule off, as in evaluate_model.
    full = full_extent(contract)
    for slices, used in ((phantoms, contract), (real, full)):
        variants = [perturb(s, rng, v) for v in range(VARIANTS) for s in slices]
        _collect(session, used, [*slices, *variants], keypoints, structures)
    if task == "sagittal" and contract.heatmap is not None and phantoms:
        # Corners on domain-randomised images too (the count's held-out set, never trained
        # on), beside the model's own held-out phantoms: the corners confirmed by the count
        # were right 99 % of the time on the phantoms and under half on these, with lower
        # peaks. Not their structures: the shipped sagittal network was not trained on such
        # contrasts, and real masks say more about real cords.
        synth = synth_slices(HELD_OUT_SEEDS)
        variants = [perturb(s, rng, v) for v in range(VARIANTS) for s in synth]
        _collect(session, contract, [*synth, *variants], keypoints, Samples())
    return keypoints, structures


def _out_of_fold(samples: Samples) -> np.ndarray:
    """Each sample's calibrated probability from a map fitted without its group."""
    groups = np.array(samples.group)
    raw, correct = np.array(samples.raw), np.array(samples.correct)
    out = np.zeros(len(raw))
    for group in sorted(set(samples.group)):
        held = groups == group
        if held.all():
            return np.asarray(fit_isotonic(raw, correct).apply(raw))
        out[held] = fit_isotonic(raw[~held], correct[~held]).apply(raw[held])
    return out


def _report(
    samples: Samples, threshold: float, calibrated: np.ndarray, oof: np.ndarray
) -> dict[str, Any]:
    raw, correct = np.array(samples.raw), np.array(samples.correct, dtype=bool)
    clean = ~np.array(samples.perturbed, dtype=bool)
    domains = np.array(samples.domains())

    def shown(p: np.ndarray, where: np.ndarray) -> dict[str, float]:
        keep = (p >= threshold) & where
        return {
            "n": int(where.sum()),
            "shown": int(keep.sum()),
            "shown_share": float(keep.sum() / max(where.sum(), 1)),
            "shown_right_share": float(correct[keep].mean()) if keep.any() else 1.0,
            "right_share_all": float(correct[where].mean()) if where.any() else 1.0,
        }

    return {
        "n": len(raw),
        "right_share": float(correct.mean()),
        "ece_raw": expected_calibration_error(raw, correct),
        "ece_fitted": expected_calibration_error(calibrated, correct),
        "ece_cross_validated": expected_calibration_error(oof, correct),
        "all": shown(calibrated, np.ones(len(raw), dtype=bool)),
        "all_cross_validated": shown(oof, np.ones(len(raw), dtype=bool)),
        "unperturbed": shown(calibrated, clean),
        "by_domain": {
            str(domain): {
                "fit": shown(calibrated, domains == domain),
                "cross_validated": shown(oof, domains == domain),
            }
            for domain in np.unique(domains)
        },
    }


def _level_withheld(samples: Samples) -> dict[str, Any]:
    """Per domain, the corners the level checks withheld before any threshold (and how many
    of them were right) against every corner, those too."""
    out: dict[str, Any] = {}
    fitted = samples.domains()
    for domain in sorted({*fitted, *(_domain(g) for g, _ in samples.level_withheld)}):
        right = [ok for g, ok in samples.level_withheld if _domain(g) == domain]
        out[domain] = {
            "n": len(right),
            "right_share": float(np.mean(right)) if right else None,
            "of_every": len(right) + fitted.count(domain),
        }
    return out


def fit_calibration(keypoints: Samples, structures: Samples) -> tuple[Calibration, dict[str, Any]]:
    """The maps, each kind's threshold and the report. The threshold is the lowest at which
    what is shown is right at least the kind's target share of the time both on the fit's own
    data and out of fold (each group's samples mapped by a fit without them): the fit's own
    data alone flatter it (the corners shown at an in-sample 0.95 were right 92 % of the time
    out of fold, against the 95 % asked). Corners must meet it on each kind of image
    (phantom, synthetic) that shows any: pooled, the phantoms' many right corners hid the
    synthetic images' wrong ones (shown right under two times in three there)."""
    parts: dict[str, CalibrationMap | None] = {}
    report: dict[str, Any] = {"method": "isotonic", "ece_bins": ECE_BINS}
    for kind, samples in (("keypoint", keypoints), ("structure", structures)):
        if not samples.raw:
            parts[kind] = None
            continue
        mapping = fit_isotonic(samples.raw, samples.correct)
        calibrated = mapping.apply(np.array(samples.raw))
        oof = _out_of_fold(samples)
        # Structures stay pooled: phantom and real slices, where a real cord is what counts.
        domains = samples.domains() if kind == "keypoint" else None
        in_sample = choose_threshold(
            calibrated, samples.correct, target=TARGETS[kind], domains=domains
        )
        cross_validated = choose_threshold(
            oof, samples.correct, target=TARGETS[kind], domains=domains
        )
        threshold = max(in_sample, cross_validated)
        parts[kind] = CalibrationMap(map=mapping, threshold=threshold)
        report[kind] = {
            "threshold": threshold,
            "threshold_in_sample": in_sample,
            "threshold_cross_validated": cross_validated,
            "target_right_share_shown": TARGETS[kind],
            **_report(samples, threshold, calibrated, oof),
        }
    if keypoints.raw:
        report["keypoint"]["level_withheld"] = _level_withheld(keypoints)
    calibration = Calibration(
        keypoint=parts["keypoint"],
        structure=parts["structure"],
        keypoint_radius_mm=KEYPOINT_RADIUS_MM,
        structure_min_dice=STRUCTURE_MIN_DICE,
    )
    report["keypoint_right"] = f"within {KEYPOINT_RADIUS_MM:g} mm of the reference"
    report["structure_right"] = f"Dice >= {STRUCTURE_MIN_DICE:g} against the reference mask"
    report["data"] = f"held-out slices as predicted and {VARIANTS} perturbed copies of each"
    return calibration, report


def real_reference_check(
    session: Any, contract: ModelContract, calibration: Calibration, trained_on: set[str]
) -> dict[str, Any] | None:
    """The calibration tested (never fitted) on the project's real corner references
    (fixtures/references) of volumes the model did not train on, predicted on the annotated
    slice: a corner the reference lacks (out of the image) is never right."""
    from fixtures.real_references import load_references

    part = calibration.keypoint
    if part is None or contract.heatmap is None:
        return None
    refs = [
        r
        for r in load_references()
        if r.view == contract.task and r.keypoints and r.volume not in trained_on
    ]
    if not refs:
        return None
    predictions = predict_slices(
        session, contract, [r.image for r in refs], [r.spacing for r in refs]
    )
    raw: list[float] = []
    right: list[bool] = []
    drawn: list[bool] = []  # drawable at all: not from a wider view, not withheld
    slices: dict[str, Any] = {}
    for ref, pred in zip(refs, predictions, strict=True):
        scale = np.array([ref.spacing[1], ref.spacing[0]])
        shown = shown_right = 0
        for name in contract.heatmap.keypoints:
            point = pred.keypoints[name]
            truth = ref.keypoints.get(name)
            ok = (
                truth is not None
                and float(np.hypot(*((np.array([point.x, point.y]) - np.array(truth)) * scale)))
                <= KEYPOINT_RADIUS_MM
            )
            raw.append(point.confidence)
            right.append(ok)
            # Drawable at all: not read from a wider view, not withheld by the level checks.
            drawable = pred.keypoint_span_mm is None and name not in pred.keypoints_withheld
            if drawable and part.map(point.confidence) >= part.threshold:
                shown += 1
                shown_right += ok
            drawn.append(drawable)
        slices[ref.name] = {
            "references": len(ref.keypoints),
            "shown": shown,
            "shown_right": shown_right,
        }
    p = part.map.apply(np.array(raw))
    keep = (p >= part.threshold) & np.array(drawn, dtype=bool)
    y = np.array(right, dtype=bool)
    return {
        "n": len(raw),
        "right_share": float(y.mean()),
        "ece_raw": expected_calibration_error(raw, y),
        "ece_calibrated": expected_calibration_error(p, y),
        "shown_share": float(keep.mean()),
        "shown_right_share": float(y[keep].mean()) if keep.any() else None,
        "drawable": int(sum(drawn)),
        "slices": slices,
    }


def calibrate_session(
    session: Any,
    contract: ModelContract,
    held_out: dict[str, list[str]],
    folds: Sequence[HeldOutFold] = (),
) -> tuple[Calibration | None, dict[str, Any]]:
    """The calibration fitted on the held-out slices named as in a `.metrics.json` (and the
    folds' held-out volumes), and its report; None, with the report saying so, when there is
    no held-out reference (an uncalibrated model withholds nothing)."""
    keypoints, structures = calibration_data(session, contract, held_out)
    fold_structure_samples(folds, structures)
    calibration, report = fit_calibration(keypoints, structures)
    if folds:
        report["data"] += (
            "; structures also on the leave-one-volume-out folds' held-out real volumes "
            f"({', '.join(sorted({_group(s.source) for f in folds for s in f.slices}))}), "
            "each predicted by the fold's network that never saw it"
        )
    if calibration.keypoint is None and calibration.structure is None:
        report["skipped"] = "no held-out slice with a reference: nothing is withheld"
        return None, report
    return calibration, report


def calibrate_files(stem: str | Path, folds: Sequence[HeldOutFold] = ()) -> dict[str, Any]:
    """Calibrates <stem>.onnx and rewrites <stem>.contract.json and <stem>.metrics.json;
    `folds` (a leave-one-volume-out final model's) add their held-out real slices."""
    from inference.runtime.contract import calibration_to_dict
    from inference.runtime.sessions import create_session
    from inference.training.pipeline import write_atomic

    base = Path(stem)
    contract_path = base.with_name(base.name + ".contract.json")
    metrics_path = base.with_name(base.name + ".metrics.json")
    contract_json = json.loads(contract_path.read_text(encoding="utf-8"))
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    contract = load_contract(contract_json)
    session = create_session(base.with_name(base.name + ".onnx"))
    calibration, report = calibrate_session(session, contract, metrics["held_out"], folds)
    if calibration is None:
        contract_json.pop("calibration", None)
    else:
        contract_json["calibration"] = calibration_to_dict(calibration)
        from inference.training.references import trained_volumes

        seen = trained_volumes(metrics.get("training", {}).get("config", {}).get("real_train", []))
        checked = real_reference_check(session, contract, calibration, seen)
        if checked is not None:
            report["keypoint_real_references"] = checked
    load_contract(contract_json)  # what we write must read back
    metrics["calibration"] = report
    write_atomic(contract_path, json.dumps(contract_json, indent=2) + "\n")
    write_atomic(metrics_path, json.dumps(metrics, indent=2) + "\n")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "stems", nargs="+", help="model path without .onnx (inference/shipped/sagittal)"
    )
    args = parser.parse_args(argv)
    for stem in args.stems:
        try:
            report = calibrate_files(stem)
        except (OSError, ValueError) as exc:  # a missing file, bad JSON, an invalid contract
            print(f"calibrate {stem}: {exc}", file=sys.stderr)
            return 2
        print(json.dumps({"model": stem, **report}), flush=True)
    from inference.training.calibration_card import write_card_section

    for directory in {Path(stem).parent for stem in args.stems}:
        write_card_section(directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
