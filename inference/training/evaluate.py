"""Accuracy of a model through the product's own prediction path (preprocess, network, inverse
mapping, thresholding on the original grid): Dice per structure, keypoint radial error in mm."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from inference.runtime.contract import ModelContract
from inference.runtime.predict import SlicePrediction, predict_slices
from inference.training.data import TrainingSlice
from inference.training.nets import KEYPOINT_NAMES


@dataclass(frozen=True)
class _Input:
    name: str
    shape: list[Any]


class TorchSession:
    """Makes a torch model look like an onnxruntime session to `predict_slices`."""

    def __init__(self, model: Any, contract: ModelContract, device: str = "cpu") -> None:
        self.model = model
        self.contract = contract
        self.device = device

    def get_inputs(self) -> list[_Input]:
        c = self.contract.input
        return [_Input(c.name, ["batch", c.channels, c.height, c.width])]

    def run(self, names: Sequence[str], feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        import torch

        self.model.eval()
        with torch.inference_mode():
            batch = torch.from_numpy(feeds[self.contract.input.name]).to(self.device)
            outputs = self.model(batch)
        by_name = {self.contract.segmentation.name: outputs[0]}
        if self.contract.heatmap is not None:
            by_name[self.contract.heatmap.name] = outputs[1]
        return [by_name[name].float().cpu().numpy() for name in names]


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """2|A∩B| / (|A|+|B|); 1.0 when both are empty."""
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int((a & b).sum()) / total


def radial_errors_mm(
    prediction: SlicePrediction, truth: np.ndarray, spacing: tuple[float, float]
) -> np.ndarray:
    """Distance in mm of each predicted keypoint from the truth (KEYPOINT_NAMES order)."""
    pred = np.array(
        [[prediction.keypoints[n].x, prediction.keypoints[n].y] for n in KEYPOINT_NAMES]
    )
    delta = (pred - truth) * np.array([spacing[1], spacing[0]])
    return np.asarray(np.hypot(delta[:, 0], delta[:, 1]))


def _summary(values: list[float]) -> dict[str, float]:
    arr = np.array(values, dtype=np.float64)
    return {
        "mean": float(arr.mean()),
        "sd": float(arr.std(ddof=1)) if len(arr) > 1 else 0.0,
        "n": float(len(arr)),
    }


def evaluate_slices(
    session: Any,
    contract: ModelContract,
    slices: Sequence[TrainingSlice],
    *,
    labels: Sequence[str] = ("cord", "canal"),
    batch_size: int = 8,
) -> dict[str, Any]:
    """Per structure Dice (mean, sd, n, and pooled over all pixels) on the slices that carry
    that structure, and keypoint errors where keypoints are known."""
    if not slices:
        return {}
    predictions = predict_slices(
        session,
        contract,
        [s.image for s in slices],
        [s.spacing for s in slices],
        batch_size=batch_size,
    )
    out: dict[str, Any] = {}
    for label in labels:
        scores: list[float] = []
        inter = total = 0
        for item, pred in zip(slices, predictions, strict=True):
            truth = item.masks.get(label)
            if truth is None or label not in pred.masks:
                continue
            scores.append(dice(pred.masks[label], truth))
            inter += int((pred.masks[label] & truth).sum())
            total += int(pred.masks[label].sum()) + int(truth.sum())
        if scores:
            out[f"{label}_dice"] = _summary(scores)
            out[f"{label}_dice_pooled"] = 2.0 * inter / total if total else 1.0
    errors = [
        radial_errors_mm(pred, item.keypoints, item.spacing)
        for item, pred in zip(slices, predictions, strict=True)
        if item.keypoints is not None and pred.keypoints
    ]
    if errors:
        all_errors = np.concatenate(errors)
        out["keypoint_mre_mm"] = _summary([float(e.mean()) for e in errors])
        out["keypoint_median_mm"] = float(np.median(all_errors))
        for radius in (2.0, 2.5, 3.0, 4.0):
            out[f"keypoint_sdr_{radius:g}mm"] = float((all_errors <= radius).mean())
    out["uncertainty_mean"] = float(np.mean([p.uncertainty for p in predictions]))
    return out


def full_extent(contract: ModelContract) -> ModelContract:
    """The contract with the sagittal extent rule off: real manual masks cover the whole
    visible cord, so real slices are scored on all of it."""
    post = dataclasses.replace(contract.postprocessing, extent="full")
    return dataclasses.replace(contract, postprocessing=post)


def evaluate_model(
    session: Any,
    contract: ModelContract,
    *,
    real: Sequence[TrainingSlice] = (),
    phantoms: Sequence[TrainingSlice] = (),
) -> dict[str, Any]:
    """Metrics on held-out real slices and held-out phantoms, keyed "real" and "phantom".

    Real manual masks cover the whole visible cord, so real slices are predicted with the
    extent rule off ("full"); phantoms use the contract as shipped."""
    return {
        "real": evaluate_slices(session, full_extent(contract), real, labels=("cord",)),
        "phantom": evaluate_slices(session, contract, phantoms),
    }
