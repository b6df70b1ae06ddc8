"""What the model gets wrong, from the stored corrections: the worst cases, and the mean
correction by structure and by corner (the corner labels name the level)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from annotation.models import Project
from measurements.models import Correction

WORST_LIMIT = 20


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def corrections_summary(*, project: Project, limit: int = WORST_LIMIT) -> dict[str, Any]:
    """The project's corrections (two queries whatever their number): the `limit` worst by
    magnitude, and per structure the mean Dice and HD95 and per corner the mean displacement
    over every correction, each with its n."""
    rows = Correction.objects.filter(project=project)
    worst = list(
        rows.filter(magnitude__isnull=False)
        .select_related("case")
        .order_by("-magnitude", "-id")[:limit]
    )
    dice: dict[str, list[float]] = defaultdict(list)
    hd95: dict[str, list[float]] = defaultdict(list)
    corners: dict[str, list[float]] = defaultdict(list)
    count = 0
    for areas, keypoints in rows.values_list("areas", "keypoints"):
        count += 1
        for name, value in areas.items():
            if value.get("dice") is not None:
                dice[name].append(float(value["dice"]))
            if value.get("hd95_mm") is not None:
                hd95[name].append(float(value["hd95_mm"]))
        for label, mm in keypoints.items():
            if mm is not None:
                corners[label].append(float(mm))
    return {
        "project": project.slug,
        "n": count,
        "worst": [
            {
                "case": c.case_id,
                "pseudonym": c.case.pseudonym,
                "kind": c.kind,
                "magnitude": c.magnitude,
                "areas": c.areas,
                "keypoints": c.keypoints,
                "measurements": c.measurements,
                "model_versions": c.model_version_ids,
                "created_at": c.created_at.isoformat(),
            }
            for c in worst
        ],
        "by_structure": {
            name: {
                "n": len(dice[name]),
                "mean_dice": _mean(dice[name]),
                "mean_hd95_mm": _mean(hd95[name]),
            }
            for name in sorted(set(dice) | set(hd95))
        },
        "by_corner": {
            label: {"n": len(values), "mean_mm": _mean(values), "max_mm": max(values)}
            for label, values in sorted(corners.items())
        },
    }
