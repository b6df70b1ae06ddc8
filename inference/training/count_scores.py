"""How well the levels are counted from C2 (issue 14 §5), on held-out synthetic images (every
body named) and on the real references (C3..C7 annotated by the project): a level is *right*
when the counted body nearest its true centre (within half a step) carries its name, *wrong*
when it carries another, and *uncounted* when no counted body is there."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from inference.runtime.contract import ModelContract
from inference.runtime.counting import Counted
from inference.runtime.level_count import CHECKED_LEVELS, CORNERS
from inference.runtime.predict import predict_slices

SCORED_LEVELS: tuple[str, ...] = ("C2", *CHECKED_LEVELS)
REACH_RATIO = 0.5  # a counted body belongs to a true one within this share of a step


def judge_levels(
    counted: Counted | None,
    truth: dict[str, np.ndarray],
    spacing: tuple[float, float],
) -> dict[str, str]:
    """Per true level (name -> centre, labelme pixels): "right", "wrong:<name>" or
    "uncounted"."""
    scale = np.array([spacing[1], spacing[0]])
    true_mm = {lv: np.asarray(c) * scale for lv, c in truth.items()}
    ordered = [true_mm[lv] for lv in sorted(true_mm, key=lambda lv: true_mm[lv][1])]
    steps = [float(np.hypot(*(b - a))) for a, b in itertools.pairwise(ordered)]
    reach = REACH_RATIO * (float(np.median(steps)) if steps else 16.0)
    levels = {} if counted is None or counted.reason is not None else counted.levels
    names = list(levels)
    mm = np.array([np.asarray(levels[n]) * scale for n in names]).reshape(-1, 2)
    out: dict[str, str] = {}
    for level, centre in true_mm.items():
        if not len(mm):
            out[level] = "uncounted"
            continue
        distance = np.hypot(*(mm - centre).T)
        nearest = int(np.argmin(distance))
        if distance[nearest] > reach:
            out[level] = "uncounted"
        else:
            out[level] = "right" if names[nearest] == level else f"wrong:{names[nearest]}"
    return out


def _summary(judged: Sequence[dict[str, str]], counted: Sequence[bool]) -> dict[str, Any]:
    verdicts = [v for j in judged for v in j.values()]
    n = len(verdicts)
    return {
        "images": len(judged),
        "counted": int(sum(counted)),
        "levels": n,
        "right": sum(v == "right" for v in verdicts),
        "wrong": sum(v.startswith("wrong") for v in verdicts),
        "uncounted": sum(v == "uncounted" for v in verdicts),
        "right_share": (sum(v == "right" for v in verdicts) / n) if n else None,
    }


def score_synthetic(session: Any, contract: ModelContract, items: Sequence[Any]) -> dict[str, Any]:
    """Per field of view ("cervical", "full") and pooled, on synthetic images with their
    bodies (fixtures.synth_render.SynthImage): the levels C2..C7 whose centre is in the
    image."""
    predictions = predict_slices(
        session, contract, [i.image for i in items], [i.spacing for i in items]
    )
    groups: dict[str, tuple[list[dict[str, str]], list[bool]]] = {}
    for item, pred in zip(items, predictions, strict=True):
        rows, cols = item.image.shape
        truth = {
            lv: np.asarray(item.bodies[lv]).mean(axis=0)
            for lv in SCORED_LEVELS
            if lv in item.bodies
        }
        truth = {lv: c for lv, c in truth.items() if 0 <= c[0] <= cols and 0 <= c[1] <= rows}
        judged = judge_levels(pred.counted, truth, item.spacing)
        found = pred.counted is not None and pred.counted.reason is None
        for key in (item.acquisition.fov, "all"):
            group = groups.setdefault(key, ([], []))
            group[0].append(judged)
            group[1].append(found)
    return {key: _summary(*group) for key, group in sorted(groups.items())}


def score_references(
    session: Any, contract: ModelContract, references: Sequence[Any]
) -> dict[str, Any]:
    """Per reference slice with corners (fixtures.real_references.Reference): its verdicts,
    the reason when nothing was counted, and the corners the count renamed or withheld."""
    chosen = [r for r in references if r.view == "sagittal" and r.keypoints]
    predictions = predict_slices(
        session, contract, [r.image for r in chosen], [r.spacing for r in chosen]
    )
    out: dict[str, Any] = {}
    for reference, pred in zip(chosen, predictions, strict=True):
        truth = {}
        for level in CHECKED_LEVELS:
            corners = [reference.keypoints.get(f"{level}_{c}") for c in CORNERS]
            if all(c is not None for c in corners):
                truth[level] = np.mean(np.array(corners, dtype=np.float64), axis=0)
        counted = pred.counted
        judged = judge_levels(counted, truth, reference.spacing)
        out[reference.name] = {
            "volume": reference.volume,
            "reason": "no counting channels" if counted is None else counted.reason,
            "anchor": None if counted is None else counted.anchor,
            "counted": {}
            if counted is None
            else {
                name: [round(float(v), 1) for v in centre]
                for name, centre in counted.levels.items()
            },
            "levels": judged,
            "renamed": pred.levels_renamed,
            "withheld": sorted(pred.keypoints_withheld),
        }
    return out


def _share(group: dict[str, Any]) -> str:
    return (
        f"{group['right']} of {group['levels']} levels right, {group['wrong']} wrong, "
        f"{group['uncounted']} not counted ({group['counted']} of {group['images']} images "
        "counted)"
    )


def card_lines(counting: dict[str, Any]) -> list[str]:
    """The model card's paragraph on the count, from `score_shipped`'s "counting" entry."""
    synthetic = counting.get("synthetic") or {}
    parts = [f"{fov}: {_share(synthetic[fov])}" for fov in ("cervical", "full") if fov in synthetic]
    real = []
    for name, item in counting.get("references", {}).items():
        if item["reason"] is not None:
            real.append(f"`{name}`: not counted ({item['reason']})")
            continue
        verdicts = ", ".join(f"{lv} {v}" for lv, v in item["levels"].items())
        moved = ", ".join(f"{old}→{new}" for new, old in item["renamed"].items()) or "none"
        real.append(f"`{name}` (from {item['anchor']}): {verdicts}; corners renamed: {moved}")
    return [
        "**Counting vertebrae (issue 14 §5).** The sagittal file carries a counting network (a "
        "heatmap of the C2 dens tip and a peak per vertebral body, trained on synthetic images "
        "only, the rest of the network frozen: `inference/training/counting.py`). At run time "
        "the bodies are named by counting caudally from C2, the body under the dens tip; with "
        "no dens in view, from the body under the network's most cranial corners. Corners on "
        "a body counted as another level are renamed or withheld with the reason "
        "(`inference/runtime/counting.py`). On 48 held-out synthetic images (levels C2–C7 in "
        "view): "
        + "; ".join(parts)
        + ". On the real references (C3–C7 annotated): "
        + "; ".join(real)
        + ".",
        "",
    ]
