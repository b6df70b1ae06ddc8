"""How wide a view the sagittal corners of a small field of view are read from (the contract's
`preprocessing.keypoint_min_span_mm`), chosen on synthetic data the model never saw.

Held-out synthetic cervical images (seeds from 10,000,000; training draws its seeds at random
from 2**31) are cropped to C3-C5 with a few mm of margin, about 60-85 mm high like the
sct_testing volumes, and predicted through the product's path with each candidate span; the
corners inside the crop are scored against the phantom truth. Prints one JSON line per span:
the mean and median radial error (mm) and the share within 4 mm. The span with the lowest
median is the one shipped (inference/training/train.py KEYPOINT_MIN_SPAN_MM); the project's
real references are not used for the choice.

    python scripts/choose_keypoint_span.py [--count 80] [--spans 0 120 160 200 240 280]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from inference.runtime.contract import ModelContract

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FIRST_SEED = 10_000_000


@dataclasses.dataclass(frozen=True)
class Crop:
    image: np.ndarray
    spacing: tuple[float, float]
    corners: np.ndarray  # (20, 2) x, y on the crop; NaN where the crop cut the corner off


def synthetic_crops(count: int, seed: int = 7) -> list[Crop]:
    """C3-C5 crops of held-out synthetic cervical images, 3-15 mm of margin, as wide as high
    (x 0.9-1.2) around the corners' mean column."""
    from fixtures.synth_render import synth_sagittal

    rng = np.random.default_rng(seed)
    crops = []
    for index in range(count):
        item = synth_sagittal(FIRST_SEED + index, fov="cervical")
        row_mm, col_mm = item.spacing
        top = item.bodies["C3"][:, 1].min() - rng.uniform(3, 15) / row_mm
        bottom = item.bodies["C5"][:, 1].max() + rng.uniform(3, 15) / row_mm
        width = (bottom - top) * rng.uniform(0.9, 1.2)
        centre = float(item.keypoints[:, 0].mean()) + rng.uniform(-5, 5) / col_mm
        rows, cols = item.image.shape
        r0, r1 = max(0, int(top)), min(rows, int(bottom))
        c0, c1 = max(0, int(centre - width / 2)), min(cols, int(centre + width / 2))
        corners = item.keypoints - np.array([c0, r0], dtype=np.float64)
        inside = (
            (corners[:, 0] >= 0)
            & (corners[:, 0] < c1 - c0)
            & (corners[:, 1] >= 0)
            & (corners[:, 1] < r1 - r0)
        )
        corners[~inside] = np.nan
        image = np.ascontiguousarray(item.image[r0:r1, c0:c1], dtype=np.float32)
        crops.append(Crop(image=image, spacing=(row_mm, col_mm), corners=corners))
    return crops


def span_errors(
    session: Any, contract: ModelContract, crops: Sequence[Crop], span: float | None
) -> np.ndarray:
    """Radial errors (mm) of the corners inside the crops, read with the given span."""
    from inference.runtime.predict import predict_slices

    assert contract.heatmap is not None
    pre = dataclasses.replace(contract.preprocessing, keypoint_min_span_mm=span)
    used = dataclasses.replace(contract, preprocessing=pre)
    predictions = predict_slices(
        session, used, [c.image for c in crops], [c.spacing for c in crops]
    )
    errors = []
    for crop, prediction in zip(crops, predictions, strict=True):
        for name, (x, y) in zip(contract.heatmap.keypoints, crop.corners, strict=True):
            if np.isfinite(x):
                point = prediction.keypoints[name]
                dx, dy = (point.x - x) * crop.spacing[1], (point.y - y) * crop.spacing[0]
                errors.append(float(np.hypot(dx, dy)))
    return np.array(errors)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=80)
    parser.add_argument("--spans", type=float, nargs="+", default=[0, 120, 160, 200, 240, 280])
    args = parser.parse_args(argv)

    from inference.runtime.sessions import create_session
    from inference.runtime.shipped import shipped_model

    model = shipped_model("sagittal")
    session = create_session(model.onnx_path)
    crops = synthetic_crops(args.count)
    for span in args.spans:
        errors = span_errors(session, model.contract, crops, span or None)
        row = {
            "span_mm": span,
            "corners": len(errors),
            "mre_mm": round(float(errors.mean()), 2),
            "median_mm": round(float(np.median(errors)), 2),
            "within_4mm": round(float((errors <= 4.0).mean()), 3),
        }
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
