"""The arithmetic of active learning's case selection, pure (no database): shared by the
product's scorers (inference.services.scores, measurements.selection_scores) and the
campaign simulation (inference.simulation), so both select the same way."""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

import numpy as np

K = TypeVar("K", bound=Hashable)

# A robust z-score: the MAD scaled to the SD of a normal distribution.
MAD_TO_SD = 1.4826
NEIGHBOURS = 5


def random_score(*key: object) -> float:
    """A uniform draw in [0, 1) fixed by the key (the control arm reproduces)."""
    digest = hashlib.sha256(("random:" + ":".join(map(str, key))).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def robust_z(values: Mapping[K, float]) -> dict[K, float] | None:
    """|x - median| / (1.4826 MAD) per key (the SD where the MAD is 0); None below 3 values
    or when every value is the same."""
    if len(values) < 3:
        return None
    x = np.array(list(values.values()), dtype=float)
    centre = float(np.median(x))
    spread = MAD_TO_SD * float(np.median(np.abs(x - centre))) or float(np.std(x))
    if spread == 0.0:
        return None
    return {key: abs(value - centre) / spread for key, value in values.items()}


def standardised(columns: Sequence[Mapping[K, float]], keys: Sequence[K]) -> dict[K, np.ndarray]:
    """One feature vector per key, each column standardised over the keys that have it; a
    missing value sits at the column's mean (0)."""
    features = {key: np.zeros(len(columns)) for key in keys}
    for index, column in enumerate(columns):
        present = {k: v for k, v in column.items() if k in features}
        if len(present) < 2:
            continue
        x = np.array(list(present.values()), dtype=float)
        mean, sd = float(x.mean()), float(x.std()) or 1.0
        for key, value in present.items():
            features[key][index] = (value - mean) / sd
    return features


def likeness(
    features: Mapping[K, np.ndarray],
    corrected: Mapping[K, float],
    candidates: Sequence[K],
    *,
    neighbours: int = NEIGHBOURS,
) -> dict[K, tuple[float, list[K]]]:
    """Per candidate: the inverse-distance weighted mean correction of its nearest corrected
    cases (itself excluded), and those cases nearest first."""
    known = list(corrected)
    out: dict[K, tuple[float, list[K]]] = {}
    for key in candidates:
        others = [k for k in known if k != key]
        if not others:
            continue
        distances = np.array([np.linalg.norm(features[key] - features[k]) for k in others])
        nearest = np.argsort(distances, kind="stable")[:neighbours]
        weights = 1.0 / (distances[nearest] + 1e-3)
        magnitudes = np.array([corrected[others[i]] for i in nearest])
        score = float(np.sum(weights * magnitudes) / np.sum(weights))
        out[key] = (score, [others[i] for i in nearest])
    return out
