"""The left-right extent of a sagittal series' structures (contract
`postprocessing.lateral_extent_mm`).

The sagittal network reads one slice at a time and was trained on slices through the cord, so
on a slice beside the spine (through the foramina, the facets, the muscle) it still draws a cord
and a canal, with confidences close to the real ones: on the real `t2` volume the shipped model
drew a cord on 22 of the 39 slices where the manual mask has none. A physician would have to
erase every one. The cord is about 10-14 mm wide left to right and the dural sac about 15-20
mm, so a structure is kept only on the slices within its half-width of the series'
mid-sagittal slice, which is found from the network's own evidence: the slice where the cord
masks, weighted by their confidence and smoothed across neighbouring slices, are largest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from inference.runtime.pooling import gaussian_weights
from inference.runtime.predict import SlicePrediction

# Gaussian width (mm) over which the per-slice evidence is pooled before its peak is taken:
# one slice's outlier mask (a cord drawn over the facets) must not move the midline.
SMOOTHING_MM = 2.0
# The structure whose evidence finds the midline: the cord is the narrowest, so its peak is the
# sharpest.
MIDLINE_LABEL = "cord"


@dataclass(frozen=True)
class LateralExtent:
    """`mid`: index of the mid-sagittal slice; `removed`: label -> indices of the slices
    whose mask was dropped; `kept`: label -> how many slices keep one."""

    mid: int
    half_width_mm: Mapping[str, float]
    removed: Mapping[str, list[int]]
    kept: Mapping[str, int]

    def summary(self) -> str:
        """In words, for the job's message."""
        parts = [
            f"{label} on {self.kept[label]} slices (±{self.half_width_mm[label]:g} mm)"
            for label in self.half_width_mm
            if self.removed.get(label)
        ]
        if not parts:
            return ""
        return f"mid-sagittal slice {self.mid + 1}: " + ", ".join(parts)


def mid_sagittal(
    predictions: Sequence[SlicePrediction], positions_mm: Sequence[float], label: str
) -> int | None:
    """Index of the slice with the most `label` evidence (mask area times its confidence,
    pooled over SMOOTHING_MM); None when no slice has a mask of it."""
    evidence = np.array(
        [
            float(p.masks[label].sum()) * p.shape_confidence.get(label, 0.0)
            if label in p.masks
            else 0.0
            for p in predictions
        ]
    )
    if not evidence.any():
        return None
    return int(np.argmax(gaussian_weights(positions_mm, SMOOTHING_MM) @ evidence))


def limit_lateral_extent(
    predictions: Sequence[SlicePrediction],
    positions_mm: Sequence[float],
    half_width_mm: Mapping[str, float],
) -> LateralExtent | None:
    """Drops each structure of `half_width_mm` on the slices farther than its half-width from
    the mid-sagittal slice (in place); None, changing nothing, when the series has fewer than
    two distinct positions or no mask to find its midline from."""
    if len(predictions) != len(positions_mm):
        raise ValueError(f"{len(predictions)} predictions but {len(positions_mm)} positions")
    if not half_width_mm or len(set(positions_mm)) < 2:
        return None
    label = MIDLINE_LABEL if MIDLINE_LABEL in half_width_mm else next(iter(half_width_mm))
    mid = mid_sagittal(predictions, positions_mm, label)
    if mid is None:
        return None
    removed: dict[str, list[int]] = {}
    kept: dict[str, int] = {}
    for name, half_width in half_width_mm.items():
        removed[name] = []
        for index, prediction in enumerate(predictions):
            if prediction.polygons.get(name) is None:
                continue
            if abs(positions_mm[index] - positions_mm[mid]) > half_width:
                _drop(prediction, name)
                removed[name].append(index)
        kept[name] = sum(p.polygons.get(name) is not None for p in predictions)
    return LateralExtent(mid=mid, half_width_mm=dict(half_width_mm), removed=removed, kept=kept)


def _drop(prediction: SlicePrediction, label: str) -> None:
    """No mask, as predict marks a structure it did not find."""
    prediction.masks[label] = np.zeros(prediction.image_shape, dtype=bool)
    prediction.polygons[label] = None
    prediction.shape_confidence[label] = 0.0
