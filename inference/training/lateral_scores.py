"""How the sagittal lateral extent (runtime/lateral.py) does on the real sagittal volumes:
every slice of each series through the product's prediction path, the cord counted where it
is drawn (calibrated, not withheld) before and after the extent, against the manual cord
mask's slices. For the model card's references section and `make bench`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from inference.runtime.contract import ModelContract
from inference.runtime.lateral import limit_lateral_extent
from inference.runtime.predict import SlicePrediction, predict_slices
from inference.runtime.withhold import shapes_and_suggestions
from inference.training.data import REAL_DATA_DIR, load_real_volume, sagittal_view

# The full field-of-view T2 has no cord mask: its scores say where the midline was found and
# how many slices keep a cord, not how many are wrong.
UNMASKED = ("sct_example_t2",)
MASKED = {"sct_testing_t2": "t2", "sct_testing_t1": "t1"}


def _drawn(predictions: list[SlicePrediction], contract: ModelContract) -> np.ndarray:
    return np.array(
        [
            any(s["label"] == "cord" for s in shapes_and_suggestions(p, contract.calibration)[0])
            for p in predictions
        ]
    )


def score_volume(
    session: Any, contract: ModelContract, image: np.ndarray, zooms: tuple[float, ...],
    mask: np.ndarray | None,
) -> dict[str, Any]:  # fmt: skip
    """One RAS volume: its sagittal slices predicted, then cut to the contract's extent."""
    zx, zy, zz = zooms
    n = image.shape[0]
    predictions = predict_slices(
        session, contract, [sagittal_view(image, i) for i in range(n)], [(zz, zy)] * n
    )
    before = _drawn(predictions, contract)
    extent = limit_lateral_extent(
        predictions, [i * zx for i in range(n)], contract.postprocessing.lateral_extent_mm
    )
    after = _drawn(predictions, contract)
    out: dict[str, Any] = {
        "slices": n,
        "mid": None if extent is None else extent.mid,
        "drawn_before": int(before.sum()),
        "drawn_after": int(after.sum()),
    }
    if mask is not None:
        area = mask.sum(axis=(1, 2))
        has = area > 0
        out |= {
            "manual_centre": round(float((np.arange(n) * area).sum() / area.sum()), 2),
            "manual_slices": int(has.sum()),
            "false_before": int((before & ~has).sum()),
            "false_after": int((after & ~has).sum()),
            "without_cord": int((~has).sum()),
            "lost": int((before & ~after & has).sum()),
        }
    return out


def score_lateral(
    session: Any, contract: ModelContract, data_dir: Path = REAL_DATA_DIR
) -> dict[str, Any]:
    """Per real sagittal volume (`score_volume`); {} for a contract without the extent."""
    if not contract.postprocessing.lateral_extent_mm:
        return {}
    from fixtures.real import real_volume
    from inference.training.data import _canonical

    out: dict[str, Any] = {}
    for name, volume in MASKED.items():
        image, mask, zooms = load_real_volume(volume, data_dir)
        out[name] = score_volume(session, contract, image, zooms, mask)
    for name in UNMASKED:
        pixels, zooms = _canonical(real_volume(name).path)
        out[name] = score_volume(session, contract, pixels.astype(np.float32), zooms, None)
    return out


def card_lines(scores: dict[str, Any], extent_mm: dict[str, float]) -> list[str]:
    """The card's paragraph on the lateral extent."""
    widths = ", ".join(f"{label} ±{mm:g} mm" for label, mm in extent_mm.items())
    parts = []
    for name, item in scores.items():
        mid = "none found" if item["mid"] is None else f"slice {item['mid']}"
        if "manual_centre" in item:
            parts.append(
                f"`{name}` ({item['slices']} slices; midline {mid}, the manual cord's centre "
                f"{item['manual_centre']:.1f}): a cord drawn on {item['false_before']} of the "
                f"{item['without_cord']} slices without one before, {item['false_after']} after; "
                f"{item['lost']} of the {item['manual_slices']} slices of the manual cord lost"
            )
        else:
            parts.append(
                f"`{name}` ({item['slices']} slices, no cord mask; midline {mid}): a cord drawn "
                f"on {item['drawn_before']} slices before, {item['drawn_after']} after"
            )
    return [
        f"**Lateral extent.** On a sagittal series the cord and canal are kept only about the "
        f"mid-sagittal slice ({widths}; `inference/runtime/lateral.py`), the slice where the "
        "network's cord masks weighted by their confidence are largest. The half-widths come "
        "from anatomy, not from these volumes, but these are the only real volumes it was checked "
        "on while it was built, so this is no held-out test. Every slice of the real sagittal "
        "volumes through the prediction path, cords counted where drawn: " + "; ".join(parts) + ".",
        "",
    ]
