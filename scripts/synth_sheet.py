"""Contact sheet of domain-randomised training images (issue 14 §1) and the generator's speed.

    python scripts/synth_sheet.py [--count 12] [--first 0] [--out docs/synth/contact_sheet.png]
    python scripts/synth_sheet.py --evaluate 48   # the shipped models on unseen synth images

Each tile: the image at its physical aspect, the cord (green) and canal (red) outlines, the 20
corners C3-C7 (red) and the other bodies' corners (blue); the caption names the contrast
family, the field of view and the acquired resolution (rows x columns) / slice thickness in
mm. The axial sheet (axial_<out>) shows the same seeds' axial slices.

--evaluate N runs the shipped sagittal and axial models through the product's prediction path
on N synthetic slices each (seeds from 900000, never trained on) and prints, per contrast
family, the mean cord and canal Dice (sagittal: within the true C2/C3 to C7/T1 band, what
the product labels), the keypoint radial error and the share of corners the level
check withheld: how far the shipped models are from contrast- and resolution-agnostic.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def evaluate(count: int) -> list[dict[str, Any]]:
    import numpy as np

    from fixtures.synth_axial import synth_axial
    from fixtures.synth_render import synth_sagittal
    from inference.runtime.predict import Keypoint, predict_slices, sagittal_band
    from inference.runtime.sessions import create_session
    from inference.runtime.shipped import shipped_model
    from inference.training.evaluate import dice
    from inference.training.nets import KEYPOINT_NAMES

    rows: list[dict[str, Any]] = []
    for task in ("sagittal", "axial"):
        model = shipped_model(task)
        session = create_session(model.onnx_path)
        groups: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for seed in range(900000, 900000 + count):
            item: Any = synth_sagittal(seed) if task == "sagittal" else synth_axial(seed)
            pred = predict_slices(session, model.contract, [item.image], [item.spacing])[0]
            g = groups[item.acquisition.contrast]
            cord, canal = item.cord, item.canal
            if task == "sagittal":  # the product labels C2/C3 to C7/T1: the truth too
                truth = {
                    n: Keypoint(x=float(x), y=float(y), confidence=1.0)
                    for n, (x, y) in zip(KEYPOINT_NAMES, item.keypoints, strict=True)
                }
                band = sagittal_band(truth, item.image.shape, item.spacing, 0.0)
                if band is not None:
                    cord, canal = cord & band, canal & band
            g["cord_dice"].append(dice(pred.masks["cord"], cord))
            g["canal_dice"].append(dice(pred.masks["canal"], canal))
            if task == "sagittal":
                names = list(pred.keypoints)
                got = np.array([[pred.keypoints[n].x, pred.keypoints[n].y] for n in names])
                err = np.hypot(*((got - item.keypoints) * item.spacing[::-1]).T)
                g["keypoint_mre_mm"].append(float(err.mean()))
                g["withheld_share"].append(len(pred.keypoints_withheld) / len(names))
        for contrast, metrics in sorted(groups.items()):
            row: dict[str, Any] = {
                "task": task,
                "contrast": contrast,
                "n": len(metrics["cord_dice"]),
            }
            row |= {k: round(float(np.mean(v)), 3) for k, v in metrics.items()}
            rows.append(row)
    return rows


def main() -> None:
    import cv2

    from fixtures.synth_axial import synth_axial
    from fixtures.synth_render import contact_sheet, synth_sagittal

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=12)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "synth" / "contact_sheet.png")
    parser.add_argument("--evaluate", type=int, default=0, metavar="N")
    args = parser.parse_args()
    if args.evaluate:
        for row in evaluate(args.evaluate):
            print(json.dumps(row))
        return
    started = time.perf_counter()
    images = [synth_sagittal(seed) for seed in range(args.first, args.first + args.count)]
    per_image = (time.perf_counter() - started) / max(1, args.count) * 1000
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), contact_sheet(images, cell=200), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"{args.out}: {args.count} sagittal images, {per_image:.1f} ms per image")
    started = time.perf_counter()
    axial = [synth_axial(seed) for seed in range(args.first, args.first + args.count)]
    per_image = (time.perf_counter() - started) / max(1, args.count) * 1000
    out = args.out.with_name("axial_" + args.out.name)
    cv2.imwrite(str(out), contact_sheet(axial, cell=200), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"{out}: {args.count} axial images, {per_image:.1f} ms per image")


if __name__ == "__main__":
    main()
