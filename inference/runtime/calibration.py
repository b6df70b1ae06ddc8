"""Calibrated confidence: a monotone map from a raw score (a keypoint's heatmap peak, a
structure's mean probability) to the probability that the pre-label is right, fitted on
held-out data, and the expected calibration error (ECE) that says how honest it is.

The map is isotonic regression (pool adjacent violators), stored as breakpoints and read
with linear interpolation between them, clipped at the ends: the same function as
scikit-learn's `IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)`, so a fitted map
can be checked against it. Pure numpy: the runtime and the worker use it without sklearn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ECE_BINS = 10
# Shown pre-labels must be right at least this often on the calibration data.
TARGET_PRECISION = 0.95
# A pre-label is never shown below this calibrated probability, whatever the data say.
MIN_THRESHOLD = 0.5


@dataclass(frozen=True)
class IsotonicMap:
    """Breakpoints (x increasing, y non-decreasing in [0, 1]); linear in between."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    def __call__(self, raw: float) -> float:
        return float(self.apply(np.array([raw], dtype=np.float64))[0])

    def apply(self, raw: np.ndarray) -> np.ndarray:
        if len(self.x) == 1:
            return np.full(np.shape(raw), self.y[0], dtype=np.float64)
        clipped = np.clip(np.asarray(raw, dtype=np.float64), self.x[0], self.x[-1])
        return np.asarray(np.interp(clipped, self.x, self.y), dtype=np.float64)


def _pool_adjacent_violators(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The non-decreasing sequence nearest to `y` in weighted least squares."""
    means: list[float] = []
    weights: list[float] = []
    sizes: list[int] = []
    for value, weight in zip(y.tolist(), w.tolist(), strict=True):
        means.append(value)
        weights.append(weight)
        sizes.append(1)
        # Merge the last two blocks while they are out of order.
        while len(means) > 1 and means[-2] > means[-1]:
            total = weights[-2] + weights[-1]
            merged = (means[-2] * weights[-2] + means[-1] * weights[-1]) / total
            means[-2:] = [merged]
            weights[-2:] = [total]
            sizes[-2:] = [sizes[-2] + sizes[-1]]
    return np.repeat(np.array(means), sizes)


def fit_isotonic(
    scores: Sequence[float] | np.ndarray, outcomes: Sequence[bool] | np.ndarray
) -> IsotonicMap:
    """P(correct | score) as a non-decreasing function of the score. Raises ValueError on
    empty or mismatched input."""
    x = np.asarray(scores, dtype=np.float64)
    y = np.asarray(outcomes, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or len(x) == 0:
        raise ValueError("scores and outcomes must be two non-empty lists of the same length")
    if not np.isfinite(x).all():
        raise ValueError("scores must be finite")
    order = np.lexsort((y, x))
    x, y = x[order], y[order]
    # Equal scores become one point: the mean outcome, weighted by their count.
    unique, start, counts = np.unique(x, return_index=True, return_counts=True)
    sums = np.add.reduceat(y, start)
    fitted = np.clip(_pool_adjacent_violators(sums / counts, counts.astype(np.float64)), 0, 1)
    if len(fitted) > 2:
        # Inside a flat block only its two ends matter for the interpolation.
        keep = np.ones(len(fitted), dtype=bool)
        keep[1:-1] = (fitted[1:-1] != fitted[:-2]) | (fitted[1:-1] != fitted[2:])
        unique, fitted = unique[keep], fitted[keep]
    return IsotonicMap(x=tuple(float(v) for v in unique), y=tuple(float(v) for v in fitted))


def expected_calibration_error(
    probabilities: Sequence[float] | np.ndarray,
    outcomes: Sequence[bool] | np.ndarray,
    *,
    bins: int = ECE_BINS,
) -> float:
    """Σ_b (n_b / N) |accuracy_b − mean confidence_b| over `bins` equal-width bins of [0, 1]
    (a probability of exactly 1 falls in the last bin). 0 for no data."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(outcomes, dtype=np.float64)
    if p.shape != y.shape:
        raise ValueError("probabilities and outcomes must have the same length")
    if len(p) == 0:
        return 0.0
    index = np.minimum((np.clip(p, 0, 1) * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        members = index == b
        if members.any():
            total += members.sum() / len(p) * abs(float(y[members].mean() - p[members].mean()))
    return float(total)


def choose_threshold(
    probabilities: Sequence[float] | np.ndarray,
    outcomes: Sequence[bool] | np.ndarray,
    *,
    target: float = TARGET_PRECISION,
    floor: float = MIN_THRESHOLD,
    domains: Sequence[str] | None = None,
) -> float:
    """The lowest threshold (at least `floor`, a candidate among the calibrated values) at
    which the pre-labels shown (calibrated probability ≥ threshold) are right at least
    `target` of the time, in each of `domains` (one name per sample: a domain that shows
    nothing passes; None: all one domain), so that a kind of image the model reads well
    cannot carry one it reads badly; 1.0 (withhold everything below certainty) when none is."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(outcomes, dtype=bool)
    labels = np.zeros(len(p), dtype=int) if domains is None else np.asarray(domains)
    parts = [labels == label for label in np.unique(labels)]
    for candidate in sorted({floor, *(float(v) for v in p if v >= floor)}):
        shown = p >= candidate
        if all(not (shown & part).any() or y[shown & part].mean() >= target for part in parts):
            return candidate
    return 1.0
