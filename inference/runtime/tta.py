"""Test-time-augmentation disagreement: the same ONNX session run on shifted (and, for
models trained with left-right flips, flipped) copies of each slice, its predictions mapped
back onto the slice and compared with the plain prediction.

The score is in [0, 1]: the mean, over the augmentations, slices and structures, of
1 - Dice(plain, augmented) (structures neither prediction has are skipped), together with
each keypoint's displacement divided by KEYPOINT_SCALE_MM and capped at 1. A model that is
sure of a slice predicts the same thing however the slice is nudged."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from inference.runtime.contract import ModelContract
from inference.runtime.predict import SlicePrediction, predict_slices
from measurements.core.agreement import dice

SHIFT_PX = 6
KEYPOINT_SCALE_MM = 4.0


@dataclass(frozen=True)
class Augmentation:
    """Move the content down by dy and right by dx pixels (edges repeated), then flip
    left-right if asked; `undo_*` map a prediction on the augmented slice back."""

    dy: int = 0
    dx: int = 0
    flip: bool = False

    def apply(self, image: np.ndarray) -> np.ndarray:
        out = _shifted(image, self.dy, self.dx, mode="edge")
        return out[:, ::-1].copy() if self.flip else out

    def undo_mask(self, mask: np.ndarray) -> np.ndarray:
        unflipped = mask[:, ::-1] if self.flip else mask
        return _shifted(unflipped, -self.dy, -self.dx, mode="constant")

    def undo_point(self, x: float, y: float, width: int) -> tuple[float, float]:
        if self.flip:
            x = (width - 1) - x
        return x - self.dx, y - self.dy


def _shifted(image: np.ndarray, dy: int, dx: int, *, mode: str) -> np.ndarray:
    """out[y, x] = image[y - dy, x - dx], outside filled by `mode` (np.pad's)."""
    h, w = image.shape
    py, px = abs(dy), abs(dx)
    padded = np.pad(image, ((py, py), (px, px)), mode=mode)  # type: ignore[call-overload]
    return np.asarray(padded[py - dy : py - dy + h, px - dx : px - dx + w])


def augmentations(*, flip_lr: bool) -> list[Augmentation]:
    shifts = [
        Augmentation(dy=SHIFT_PX),
        Augmentation(dy=-SHIFT_PX),
        Augmentation(dx=SHIFT_PX),
        Augmentation(dx=-SHIFT_PX),
    ]
    return [*shifts, Augmentation(flip=True)] if flip_lr else shifts


def _losses(
    plain: SlicePrediction, other: SlicePrediction, aug: Augmentation, spacing: Sequence[float]
) -> dict[str, float]:
    """1 - Dice per structure and the scaled displacement per keypoint of one slice."""
    out: dict[str, float] = {}
    for label in sorted(set(plain.masks) | set(other.masks)):
        a = plain.masks.get(label)
        b = other.masks.get(label)
        a = np.zeros(plain.image_shape, dtype=bool) if a is None else a
        b = np.zeros(plain.image_shape, dtype=bool) if b is None else aug.undo_mask(b)
        if a.any() or b.any():
            out[label] = 1.0 - dice(a, b)
    width = plain.image_shape[1]
    for name in sorted(set(plain.keypoints) & set(other.keypoints)):
        p, q = plain.keypoints[name], other.keypoints[name]
        qx, qy = aug.undo_point(q.x, q.y, width)
        mm = math.hypot((p.y - qy) * spacing[0], (p.x - qx) * spacing[1])
        out[f"keypoint {name}"] = min(mm / KEYPOINT_SCALE_MM, 1.0)
    return out


def tta_disagreement(
    session: Any,
    contract: ModelContract,
    images: Sequence[np.ndarray],
    spacings: Sequence[Sequence[float]],
    *,
    flip_lr: bool,
) -> tuple[float, dict[str, float]]:
    """(score in [0, 1], mean loss per structure or keypoint) over the slices."""
    plain = predict_slices(session, contract, images, spacings)
    parts: dict[str, list[float]] = {}
    # A model that already averages each slice with its mirror image predicts a mirrored
    # slice the same way: the flip would only dilute the score.
    mirror = flip_lr and not contract.postprocessing.average_flip_lr
    for aug in augmentations(flip_lr=mirror):
        moved = predict_slices(session, contract, [aug.apply(i) for i in images], spacings)
        for p, o, spacing in zip(plain, moved, spacings, strict=True):
            for name, loss in _losses(p, o, aug, spacing).items():
                parts.setdefault(name, []).append(loss)
    means = {name: float(np.mean(values)) for name, values in parts.items()}
    everything = [v for values in parts.values() for v in values]
    return (float(np.mean(everything)) if everything else 0.0), means
