"""Issue 14 §4 from the shipped `.metrics.json` (written by inference.training.calibrate):
expected calibration error per model and kind (cross-validated, the honest figure), and what
the withholding threshold shows: the share of pre-labels shown and the share of those that
are right (corners within 4 mm: target >= 95 %), on all calibration data, on the unperturbed
held-out slices and on the project's real corner references."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.benchmarks.common import emit

SHIPPED = Path(__file__).resolve().parents[2] / "inference" / "shipped"
NAN = float("nan")


def _by_domain(name: str, r: dict[str, Any], target: str) -> None:
    """Per kind of image (phantom, synthetic), the cross-validated share of the drawn corners
    that are right, with the share of every corner drawn (the level checks' withheld too)."""
    for domain, parts in r.get("by_domain", {}).items():
        part = parts["cross_validated"]
        drawn = part["shown"]
        every = r.get("level_withheld", {}).get(domain, {}).get("of_every", part["n"])
        right = part["shown_right_share"] if drawn else NAN
        emit(f"{name}.{domain}.cross_validated.shown_right", 100 * right, "%", target,
             drawn=drawn, of_every=every,
             drawn_share=round(100 * drawn / max(every, 1), 2))  # fmt: skip


def main() -> None:
    for task in ("sagittal", "axial"):
        report = json.loads((SHIPPED / f"{task}.metrics.json").read_text(encoding="utf-8")).get(
            "calibration"
        )
        if not report or "skipped" in report:
            emit(f"calibration.{task}.ece", NAN, "", "", measured=False)
            continue
        for kind in ("keypoint", "structure"):
            r = report.get(kind)
            if r is None:
                continue
            name = f"calibration.{task}.{kind}"
            extra = {"ece_raw": round(r["ece_raw"], 4), "threshold": round(r["threshold"], 4)}
            emit(f"{name}.ece_cross_validated", r["ece_cross_validated"], "", "", bins=10,
                 n=r["n"], **extra)  # fmt: skip
            target = ">= 95 %" if kind == "keypoint" else ">= 80 %"
            for group in ("all", "all_cross_validated", "unperturbed"):
                part = r[group]
                emit(f"{name}.{group}.shown_right", 100 * part["shown_right_share"], "%", target,
                     shown=round(100 * part["shown_share"], 1), n=part["n"])  # fmt: skip
            _by_domain(name, r, target)
        real = report.get("keypoint_real_references")
        if real:
            right = real["shown_right_share"]
            emit(f"calibration.{task}.real_references.shown_right",
                 NAN if right is None else 100 * right, "%", ">= 95 %",
                 shown=round(100 * real["shown_share"], 1), n=real["n"],
                 ece=round(real["ece_calibrated"], 4))  # fmt: skip


if __name__ == "__main__":
    main()
