"""Pooling a series' probabilities across neighbouring slices (contract
`postprocessing.slice_pooling_mm`).

The networks read one slice at a time, so two neighbouring slices 1 mm apart, which show
nearly the same cord, can get quite different masks: one with a leak into the fat behind the
canal, the next without. Each slice's probability becomes the Gaussian-weighted mean of the
slices' probabilities by their distance in mm along the series, so that a slice keeps most of
its own evidence and thick slices, whose neighbours lie far away, keep almost all of it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Weights under this share of the slice's own are left out (a slice 3 sigma away).
MIN_WEIGHT = 0.011


def gaussian_weights(positions_mm: Sequence[float], sigma_mm: float) -> np.ndarray:
    """(n, n) Gaussian of the slices' distances along the series, 1 on the diagonal."""
    positions = np.asarray(positions_mm, dtype=np.float64)
    distance = positions[:, None] - positions[None, :]
    return np.exp(-0.5 * (distance / sigma_mm) ** 2)


def pooling_weights(positions_mm: Sequence[float], sigma_mm: float) -> np.ndarray:
    """(n, n) row-normalised Gaussian weights of the slices' distances."""
    weights = gaussian_weights(positions_mm, sigma_mm)
    weights[weights < MIN_WEIGHT] = 0.0
    return weights / weights.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]


def pool_probabilities(
    probabilities: Sequence[np.ndarray], positions_mm: Sequence[float], sigma_mm: float
) -> list[np.ndarray]:
    """Each slice's probability map pooled with its neighbours' (all of one shape)."""
    if len(probabilities) != len(positions_mm):
        raise ValueError(f"{len(probabilities)} slices but {len(positions_mm)} positions")
    weights = pooling_weights(positions_mm, sigma_mm)
    out = []
    for row in weights:
        (used,) = np.nonzero(row)
        pooled = np.zeros_like(probabilities[0], dtype=np.float32)
        for j in used.tolist():
            pooled += np.float32(row[j]) * probabilities[j]
        out.append(pooled)
    return out
