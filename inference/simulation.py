"""Replaying an annotation campaign with known gold, to measure what each case-selection
strategy saves: label k cases per round by the strategy, retrain, evaluate on a fixed
held-out set, repeat; then the labels each strategy needs to reach 95 % of the Dice that all
the pool's labels give.

Cases are phantoms (cord, canal and corners known) and real sagittal volumes (manual cord
masks). Every strategy starts from the same k randomly chosen cases and the same first
model; every training starts from scratch with the same step budget, so the labels are the
only difference. Scores use the same arithmetic as the product (inference.selection_math,
inference.runtime.tta, measurements.core) on the torch model (inference.training.evaluate's
TorchSession), so no ONNX export is needed per round."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inference.runtime.contract import ModelContract
from inference.runtime.predict import SlicePrediction, predict_slices, prediction_to_shapes
from inference.runtime.tta import tta_disagreement
from inference.selection_math import likeness, random_score, robust_z, standardised
from inference.training.data import TrainingSlice, phantom_slices, real_slices
from inference.training.evaluate import TorchSession, dice, evaluate_model
from inference.training.pipeline import write_atomic
from inference.training.train import default_config, train
from measurements.core.case import measure_image_shapes

logger = logging.getLogger(__name__)

STRATEGIES = ("random", "uncertainty", "tta", "outliers", "disagreement")
TARGET_SHARE = 0.95
# Okabe-Ito: distinguishable with every common colour-vision deficiency.
PALETTE = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#D55E00", "#CC79A7", "#0072B2")


@dataclass(frozen=True)
class SimCase:
    key: str  # "phantom:<seed>" or "real:<volume>"
    slices: tuple[TrainingSlice, ...]


@dataclass(frozen=True)
class CampaignConfig:
    strategies: tuple[str, ...] = STRATEGIES
    pool_phantoms: tuple[int, ...] = tuple(range(20000, 20020))
    held_out_phantoms: tuple[int, ...] = tuple(range(29000, 29006))
    pool_real: tuple[str, ...] = ("t2",)
    held_out_real: tuple[str, ...] = ("t1",)
    k: int = 3
    rounds: int = 4
    steps: int = 120
    batch_size: int = 8
    seed: int = 0
    # TrainConfig fields of the network trained each round (smaller than the shipped one).
    recipe: dict[str, Any] = field(
        default_factory=lambda: {"widths": (8, 16, 32, 64), "input_size": (128, 128)}
    )


@dataclass
class Model:
    session: TorchSession
    contract: ModelContract
    seconds: float


@dataclass
class Row:
    strategy: str
    round: int
    labelled: int
    cord_dice: float | None
    canal_dice: float | None
    keypoint_mre_mm: float | None
    train_seconds: float
    picked: list[str]


@dataclass(frozen=True)
class CampaignResult:
    rows: list[Row]
    full: Row
    labels_needed: dict[str, int | None]
    ratio_to_random: dict[str, float | None]


def load_cases(config: CampaignConfig) -> tuple[list[SimCase], list[TrainingSlice]]:
    """(the pool of cases to label, the fixed held-out slices)."""
    pool = [
        SimCase(f"phantom:{seed}", tuple(phantom_slices("sagittal", [seed])))
        for seed in config.pool_phantoms
    ]
    pool += [
        SimCase(f"real:{name}", tuple(real_slices("sagittal", [name]))) for name in config.pool_real
    ]
    held_out = [
        *phantom_slices("sagittal", config.held_out_phantoms, sagittal_offsets=(0,)),
        *real_slices("sagittal", config.held_out_real),
    ]
    return pool, held_out


def _train(labelled: Sequence[SimCase], config: CampaignConfig) -> Model:
    recipe = default_config(
        "sagittal",
        **config.recipe,
        phantom_train_seeds=(),
        phantom_val_seeds=(),
        real_train=(),
        real_val=(),
        warmup_steps=min(50, config.steps // 5),
    )
    result = train(
        task="sagittal", epochs=1, steps_per_epoch=config.steps, batch_size=config.batch_size,
        seed=config.seed, device="cpu", config=recipe,
        extra_train=[s for case in labelled for s in case.slices],
    )  # fmt: skip
    return Model(TorchSession(result.model, result.contract), result.contract, result.seconds)


def _mean_metric(metrics: dict[str, Any], key: str) -> float | None:
    """The slice-weighted mean of a Dice over the real and the phantom held-out slices."""
    total = weight = 0.0
    for part in ("real", "phantom"):
        found = metrics.get(part, {}).get(key)
        if found:
            total += found["mean"] * found["n"]
            weight += found["n"]
    return total / weight if weight else None


def _evaluate(model: Model, held_out: Sequence[TrainingSlice]) -> dict[str, float | None]:
    metrics = evaluate_model(
        model.session,
        model.contract,
        real=[s for s in held_out if s.source.startswith("real:")],
        phantoms=[s for s in held_out if s.source.startswith("phantom:")],
    )
    mre = metrics.get("phantom", {}).get("keypoint_mre_mm")
    return {
        "cord_dice": _mean_metric(metrics, "cord_dice"),
        "canal_dice": _mean_metric(metrics, "canal_dice"),
        "keypoint_mre_mm": mre["mean"] if mre else None,
    }


def _predict(model: Model, case: SimCase) -> list[SlicePrediction]:
    return predict_slices(
        model.session,
        model.contract,
        [s.image for s in case.slices],
        [s.spacing for s in case.slices],
    )


def _mscc(prediction: SlicePrediction, item: TrainingSlice) -> float | None:
    """MSCC of the pre-label of a slice, measured as the product measures a read."""
    result = measure_image_shapes(
        shapes=prediction_to_shapes(prediction),
        spacing=item.spacing,
        image_shape=prediction.image_shape,
        view="sagittal",
        with_profile=False,
    )
    value = result["values"].get("mscc")
    return float(value) if isinstance(value, int | float) and np.isfinite(value) else None


def correction_magnitude(predictions: Sequence[SlicePrediction], case: SimCase) -> float:
    """What labelling the case corrects: the mean over its slices and known structures of
    1 - Dice(pre-label, truth)."""
    losses = []
    for prediction, item in zip(predictions, case.slices, strict=True):
        for label, truth in item.masks.items():
            if truth is not None:
                predicted = prediction.masks.get(label, np.zeros_like(truth))
                losses.append(1.0 - dice(predicted, truth))
    return float(np.mean(losses)) if losses else 0.0


@dataclass
class _Features:
    uncertainty: dict[str, float] = field(default_factory=dict)
    mscc: dict[str, float] = field(default_factory=dict)


def _features(model: Model, cases: Sequence[SimCase]) -> _Features:
    out = _Features()
    for case in cases:
        predictions = _predict(model, case)
        out.uncertainty[case.key] = float(np.mean([p.uncertainty for p in predictions]))
        middle = len(case.slices) // 2
        mscc = _mscc(predictions[middle], case.slices[middle])
        if mscc is not None:
            out.mscc[case.key] = mscc
    return out


def strategy_scores(
    strategy: str,
    model: Model,
    unlabelled: Sequence[SimCase],
    corrected: dict[str, float],
    *,
    seed: int,
    labelled: Sequence[SimCase] = (),
) -> dict[str, float]:
    """Each unlabelled case's score under the strategy (higher = label sooner).
    `corrected` holds the correction each labelled case needed (disagreement only)."""
    keys = [c.key for c in unlabelled]
    if strategy == "random":
        return {key: random_score(seed, key) for key in keys}
    if strategy == "tta":
        return {
            c.key: tta_disagreement(
                model.session,
                model.contract,
                [s.image for s in c.slices],
                [s.spacing for s in c.slices],
                flip_lr=False,
            )[0]
            for c in unlabelled
        }
    corrected_cases = [c for c in labelled if c.key in corrected]
    features = _features(
        model, [*unlabelled, *(corrected_cases if strategy == "disagreement" else [])]
    )
    if strategy == "uncertainty":
        return {k: features.uncertainty[k] for k in keys}
    if strategy == "outliers":
        z = robust_z(features.mscc) or {}
        return {k: z[k] for k in keys if k in z}
    if strategy == "disagreement":
        # The corrected cases sit in the same space, as the current model sees them.
        everything = [*keys, *(c.key for c in corrected_cases)]
        vectors = standardised([features.uncertainty, features.mscc], everything)
        return {k: s for k, (s, _) in likeness(vectors, corrected, keys).items()}
    raise ValueError(f"unknown strategy {strategy!r}: one of {', '.join(STRATEGIES)}")


def _pick(scores: dict[str, float], unlabelled: Sequence[SimCase], k: int, seed: int) -> list[str]:
    """The k best scores; unscored cases (and ties) by the random draw."""
    return sorted(
        (c.key for c in unlabelled),
        key=lambda key: (-scores.get(key, -np.inf), random_score(seed, key)),
    )[:k]


def _row(
    strategy: str,
    rnd: int,
    labelled: Sequence[SimCase],
    model: Model,
    held_out: Sequence[TrainingSlice],
    picked: list[str],
) -> Row:
    return Row(
        strategy=strategy,
        round=rnd,
        labelled=len(labelled),
        train_seconds=round(model.seconds, 2),
        picked=picked,
        **_evaluate(model, held_out),
    )


def run_strategy(
    strategy: str,
    pool: Sequence[SimCase],
    held_out: Sequence[TrainingSlice],
    config: CampaignConfig,
    first: tuple[list[SimCase], Model, Row],
) -> list[Row]:
    labelled, model, first_row = list(first[0]), first[1], first[2]
    rows = [dataclasses.replace(first_row, strategy=strategy)]
    corrected: dict[str, float] = {}
    by_key = {c.key: c for c in pool}
    for rnd in range(1, config.rounds + 1):
        unlabelled = [c for c in pool if c not in labelled]
        if not unlabelled:
            break
        scores = strategy_scores(
            strategy, model, unlabelled, corrected, seed=config.seed, labelled=labelled
        )
        picked = _pick(scores, unlabelled, config.k, config.seed)
        for key in picked:  # what the annotator corrects: the pre-label before retraining
            corrected[key] = correction_magnitude(_predict(model, by_key[key]), by_key[key])
        labelled += [by_key[key] for key in picked]
        model = _train(labelled, config)
        rows.append(_row(strategy, rnd, labelled, model, held_out, picked))
        logger.info("%s round %d: %s", strategy, rnd, rows[-1])
    return rows


def labels_needed(rows: Sequence[Row], target: float) -> int | None:
    """The fewest labelled cases whose Dice reaches the target (None: never, here)."""
    reached = [r.labelled for r in rows if r.cord_dice is not None and r.cord_dice >= target]
    return min(reached) if reached else None


def simulate(
    config: CampaignConfig,
    *,
    progress: Callable[[str], None] = logger.info,
) -> CampaignResult:
    pool, held_out = load_cases(config)
    if len(pool) <= config.k:
        raise ValueError(f"the pool has {len(pool)} cases: needs more than k = {config.k}")
    start = sorted(pool, key=lambda c: random_score(config.seed, "start", c.key))[: config.k]
    started = time.perf_counter()
    model = _train(start, config)
    first = (start, model, _row("start", 0, start, model, held_out, [c.key for c in start]))
    progress(f"first model on {len(start)} cases: {first[2]}")
    rows: list[Row] = []
    for strategy in config.strategies:
        rows += run_strategy(strategy, pool, held_out, config, first)
        progress(f"{strategy} done after {time.perf_counter() - started:.0f} s")
    full_model = _train(pool, config)
    full = _row("full", 0, pool, full_model, held_out, [])
    # A full-data model that segments nothing sets no target worth reaching.
    target = TARGET_SHARE * full.cord_dice if full.cord_dice else None
    needed = {
        s: None if target is None else labels_needed([r for r in rows if r.strategy == s], target)
        for s in config.strategies
    }
    base = needed.get("random")
    ratio = {s: (round(n / base, 3) if n is not None and base else None) for s, n in needed.items()}
    return CampaignResult(rows=rows, full=full, labels_needed=needed, ratio_to_random=ratio)


def write_outputs(result: CampaignResult, config: CampaignConfig, out_dir: Path) -> list[Path]:
    """campaign.csv, campaign.png (Dice and keypoint error against labelled cases) and
    summary.json, each written atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    names = [f.name for f in dataclasses.fields(Row)]
    writer.writerow(names)
    for row in [*result.rows, result.full]:
        values = dataclasses.asdict(row)
        values["picked"] = " ".join(values["picked"])
        writer.writerow([values[n] for n in names])
    paths = [out_dir / "campaign.csv", out_dir / "summary.json", out_dir / "campaign.png"]
    write_atomic(paths[0], buffer.getvalue())
    summary = {
        "full_data_cord_dice": result.full.cord_dice,
        "target_cord_dice": TARGET_SHARE * (result.full.cord_dice or 0.0),
        "pool_cases": result.full.labelled,
        "labels_needed": result.labels_needed,
        "ratio_to_random": result.ratio_to_random,
        "config": dataclasses.asdict(config),
    }
    write_atomic(paths[1], json.dumps(summary, indent=2, default=list))
    _plot(result, paths[2])
    return paths


def _plot(result: CampaignResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    for colour, strategy in zip(
        PALETTE, dict.fromkeys(r.strategy for r in result.rows), strict=False
    ):
        rows = [r for r in result.rows if r.strategy == strategy]
        x = [r.labelled for r in rows]
        left.plot(x, [r.cord_dice for r in rows], marker="o", color=colour, label=strategy)
        right.plot(x, [r.keypoint_mre_mm for r in rows], marker="o", color=colour, label=strategy)
    if result.full.cord_dice is not None:
        left.axhline(TARGET_SHARE * result.full.cord_dice, color="#999999", linestyle="--",
                     label="95 % of full-data Dice")  # fmt: skip
    left.set(xlabel="labelled cases", ylabel="held-out cord Dice", title="Segmentation")
    right.set(xlabel="labelled cases", ylabel="keypoint mean radial error (mm)", title="Corners")
    left.legend(fontsize=8)
    figure.tight_layout()
    temporary = path.with_suffix(".tmp.png")
    figure.savefig(temporary, format="png")
    plt.close(figure)
    temporary.replace(path)
