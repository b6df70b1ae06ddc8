"""Selection scores that rest on measurements (active learning, see
inference.services.scores): measurement outliers, and likeness to the cases people corrected
most. Both read each case's model pre-label: its stored measurements and its uncertainty."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from annotation.models import Case, Project, Read, ReadKind
from inference.models import JobStatus, PrelabelJob, Strategy
from inference.selection_math import likeness, robust_z, standardised
from inference.services.scores import Scores, scorer_register
from measurements.models import Correction, MeasurementResult

OUTLIER_MEASURES = ("mscc", "cr")


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def model_read_values(case_ids: Iterable[int]) -> dict[int, dict[str, float]]:
    """{case: {"mscc": x, "cr": x}} from each case's latest model read: MSCC from its
    sagittal image, CR at its most compressed axial level (the smallest CR)."""
    heads: dict[int, int] = {}
    for case_id, head_id in (
        Read.objects.filter(case_id__in=list(case_ids), kind=ReadKind.MODEL, head__isnull=False)
        .order_by("case_id", "-id")
        .values_list("case_id", "head_id")
    ):
        heads.setdefault(case_id, head_id)
    case_of = {head: case for case, head in heads.items()}
    out: dict[int, dict[str, float]] = {case: {} for case in heads}
    for revision_id, view, values in MeasurementResult.objects.filter(
        revision_id__in=list(case_of)
    ).values_list("revision_id", "view", "values"):
        found = out[case_of[revision_id]]
        if view == "sagittal" and (mscc := _finite(values.get("mscc"))) is not None:
            found.setdefault("mscc", mscc)
        if view == "axial" and (cr := _finite(values.get("cr"))) is not None:
            found["cr"] = min(cr, found.get("cr", math.inf))
    return out


@scorer_register(Strategy.OUTLIERS)
def outlier_scores(project: Project, case_ids: list[int]) -> Scores:
    """The largest robust z-score of the pre-label's MSCC and CR against the project's
    cohort of pre-labels: cases far from the cohort first."""
    cohort = model_read_values(Case.objects.filter(project=project).values_list("pk", flat=True))
    z: dict[str, dict[int, float]] = {}
    for name in OUTLIER_MEASURES:
        scored = robust_z({c: v[name] for c, v in cohort.items() if name in v})
        if scored is not None:
            z[name] = scored
    out: Scores = {}
    for case_id in case_ids:
        parts = {name: round(z[name][case_id], 4) for name in z if case_id in z[name]}
        if parts:
            out[case_id] = (max(parts.values()), {"z": parts}, None)
    return out


def _features(case_ids: list[int]) -> dict[int, np.ndarray]:
    """Per case: the pre-label's mean uncertainty, MSCC and CR, standardised over the cases."""
    uncertainty: dict[int, float] = {}
    for case_id, values in (
        PrelabelJob.objects.filter(case_id__in=case_ids, status=JobStatus.SUCCEEDED)
        .order_by("case_id", "-finished_at", "-id")
        .values_list("case_id", "uncertainty")
    ):
        if case_id not in uncertainty and values:
            uncertainty[case_id] = float(np.mean([float(v) for v in values.values()]))
    measured = model_read_values(case_ids)
    columns = [
        uncertainty,
        {c: v["mscc"] for c, v in measured.items() if "mscc" in v},
        {c: v["cr"] for c, v in measured.items() if "cr" in v},
    ]
    return standardised(columns, case_ids)


@scorer_register(Strategy.DISAGREEMENT)
def disagreement_scores(project: Project, case_ids: list[int]) -> Scores:
    """Cases like those people corrected most: the inverse-distance weighted mean correction
    (1 - Dice of the pre-label) of the NEIGHBOURS nearest corrected cases, in the space of
    the pre-label's uncertainty, MSCC and CR. No corrections yet: no scores."""
    corrected: dict[int, float] = {}
    for case_id, magnitude in (
        Correction.objects.filter(project=project, magnitude__isnull=False)
        .order_by("case_id", "-id")
        .values_list("case_id", "magnitude")
    ):
        if magnitude is not None:
            corrected.setdefault(case_id, float(magnitude))
    if not corrected:
        return {}
    features = _features(sorted(set(case_ids) | set(corrected)))
    return {
        case_id: (score, {"neighbours": nearest}, None)
        for case_id, (score, nearest) in likeness(features, corrected, case_ids).items()
    }
