"""The operating point a leave-one-volume-out fold is scored at: the segmentation threshold and
the pooling of probabilities across neighbouring slices (contract `slice_pooling_mm`), chosen
on the other folds' held-out volumes, never the fold's own; the final model takes the point
that all folds favour.

Both are post-processing, so one fold's network is scored at every point in a few seconds.
Networks fine-tuned on few real volumes under-segment the real cord at 0.5 (sagittal folds:
0.90 and 0.92 of the manual area); pooling lets a slice borrow its neighbours' evidence where
one slice alone leaks into the fat behind the canal or misses a faint edge. Pooling is capped
at 2 mm: along an axial series a wider Gaussian would spread a focal compression's narrowing
onto its neighbours, which the measurements must not see.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from inference.runtime.contract import ModelContract
from inference.runtime.predict import SlicePrediction, predict_slices
from inference.runtime.sessions import create_session
from inference.training.data import Task, TrainingSlice, real_series
from inference.training.evaluate import dice, full_extent

THRESHOLDS: tuple[float, ...] = (0.3, 0.35, 0.4, 0.45, 0.5)
POOLING_MM: tuple[float, ...] = (0.0, 1.0, 2.0)
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class Point:
    threshold: float = DEFAULT_THRESHOLD
    pooling_mm: float = 0.0

    @property
    def key(self) -> str:
        """The curve's key: "0.40" without pooling (as before pooling existed), else
        "0.40@1mm"."""
        base = f"{self.threshold:.2f}"
        return base if self.pooling_mm == 0 else f"{base}@{self.pooling_mm:g}mm"

    @classmethod
    def parse(cls, key: str) -> Point:
        threshold, _, pooling = key.partition("@")
        return cls(float(threshold), float(pooling.removesuffix("mm")) if pooling else 0.0)

    @classmethod
    def of(cls, contract: ModelContract) -> Point:
        """The point a contract is at."""
        return cls(contract.segmentation.threshold, contract.postprocessing.slice_pooling_mm)

    def describe(self) -> str:
        pooled = "no pooling" if self.pooling_mm == 0 else f"pooled over {self.pooling_mm:g} mm"
        return f"{self.threshold:.2f}, {pooled}"


DEFAULT = Point()


def contract_at(contract: ModelContract, point: Point) -> ModelContract:
    seg = dataclasses.replace(contract.segmentation, threshold=point.threshold)
    post = dataclasses.replace(contract.postprocessing, slice_pooling_mm=point.pooling_mm)
    return dataclasses.replace(contract, segmentation=seg, postprocessing=post)


def series_positions(slices: Sequence[TrainingSlice]) -> list[float] | None:
    """The slices' positions when they are slices of one real volume (one series), else None:
    unrelated slices are never pooled."""
    volumes = {s.source.rsplit(":", 1)[0] for s in slices}
    positions = [s.position_mm for s in slices]
    if len(volumes) != 1 or any(p is None for p in positions):
        return None
    return [float(p) for p in positions if p is not None]


def predict_in_series(
    session: Any, contract: ModelContract, slices: Sequence[TrainingSlice]
) -> list[SlicePrediction]:
    """The predictions of `slices`. Slices of one real volume are predicted within their whole
    series (every slice of the volume in the view, in order, as a pre-label job predicts a
    series), so that the series' post-processing (pooling, the series component choice) sees
    the neighbours a job would, the slices beside the cord included; other slices alone."""
    images, spacings = [s.image for s in slices], [s.spacing for s in slices]
    if series_positions(slices) is None:
        return predict_slices(session, contract, images, spacings)
    _, volume, task, _ = slices[0].source.split(":")
    series = real_series(cast("Task", task), volume)
    index = {item.source: i for i, item in enumerate(series)}
    predictions = predict_slices(
        session,
        contract,
        [s.image for s in series],
        [s.spacing for s in series],
        positions_mm=[float(s.position_mm or 0.0) for s in series],
    )
    return [predictions[index[s.source]] for s in slices]


def curve(
    onnx_path: Path,
    contract: ModelContract,
    slices: Sequence[TrainingSlice],
    points: Sequence[Point] | None = None,
) -> dict[str, float]:
    """Mean cord Dice of the slices at each point (default: every threshold with every
    pooling), keyed by `Point.key`; the pooled points only for slices of one series. The
    network runs again at every point (15 runs of the series, about 20 s for a sagittal fold
    on two cores, offline only): the post-processing lives in `predict_slices`, and scoring
    through it keeps every fold on the product's own path."""
    session = create_session(onnx_path, providers=["CPUExecutionProvider"])
    if points is None:
        poolings = POOLING_MM if series_positions(slices) is not None else (0.0,)
        points = [Point(t, p) for p in poolings for t in THRESHOLDS]
    out: dict[str, float] = {}
    for point in points:
        predictions = predict_in_series(session, full_extent(contract_at(contract, point)), slices)
        scores = [
            dice(pred.masks.get("cord", np.zeros_like(truth)), truth)
            for item, pred in zip(slices, predictions, strict=True)
            if (truth := item.masks.get("cord")) is not None
        ]
        if scores:
            out[point.key] = float(np.mean(scores))
    return out


def cross_validated_point(curves: Mapping[str, Mapping[str, float]], exclude: str | None) -> Point:
    """The point with the best mean Dice over the folds' curves but `exclude`'s, among the
    points every one of them has (ties go to the threshold nearest DEFAULT_THRESHOLD, then to
    less pooling); DEFAULT when no other fold has a curve."""
    others = [c for name, c in curves.items() if name != exclude and c]
    if not others:
        return DEFAULT
    keys = sorted(set.intersection(*(set(c) for c in others)))
    if not keys:
        return DEFAULT
    means = {key: float(np.mean([c[key] for c in others])) for key in keys}
    best = max(means.values())
    candidates = [Point.parse(k) for k, m in means.items() if m >= best - 1e-12]
    return min(
        candidates,
        key=lambda p: (abs(p.threshold - DEFAULT_THRESHOLD), p.pooling_mm, p.threshold),
    )
