"""Active learning's case selection: each strategy scores a project's cases (higher = offered
sooner). A background task computes the scores and stores them (CaseScore); the work queues
order by the stored score of the project's strategy (inference.selectors.queue_order), so
ordering a queue never runs a model.

Strategies that need data from a layer above (measurement outliers, disagreement with
people) register their scorer from that layer with `scorer_register`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from django.db import transaction

from annotation.domain_events import JobFinished
from annotation.models import Case, Project
from inference.models import (
    CaseScore,
    JobStatus,
    ModelStatus,
    ModelVersion,
    PrelabelJob,
    RetrainPolicy,
    Strategy,
)
from inference.runtime.contract import load_contract
from inference.runtime.sessions import get_session
from inference.runtime.tta import tta_disagreement
from inference.selection_math import random_score
from inference.services.prelabel import TASK_FOR_ORIENTATION, series_arrays
from inference.services.registry import model_path

logger = logging.getLogger(__name__)

# A score and what it rests on, per case id.
Scores = dict[int, tuple[float, dict[str, Any], int | None]]
Scorer = Callable[[Project, list[int]], Scores]
SCORERS: dict[str, Scorer] = {}


class StrategyError(ValueError):
    """A strategy cannot score this project; the message says why."""


def scorer_register(strategy: str) -> Callable[[Scorer], Scorer]:
    """Decorator: the function that scores a project's cases under the strategy."""

    def register(function: Scorer) -> Scorer:
        SCORERS[strategy] = function
        return function

    return register


@scorer_register(Strategy.RANDOM)
def random_scores(project: Project, case_ids: list[int]) -> Scores:
    """A uniform draw per case, fixed by (project, case): the control arm reproduces."""
    return {case_id: (random_score(project.pk, case_id), {}, None) for case_id in case_ids}


def _latest_jobs(case_ids: Iterable[int]) -> dict[int, PrelabelJob]:
    """The latest succeeded pre-label job of each case (one query)."""
    latest: dict[int, PrelabelJob] = {}
    for job in (
        PrelabelJob.objects.filter(case_id__in=list(case_ids), status=JobStatus.SUCCEEDED)
        .prefetch_related("model_versions")
        .order_by("case_id", "-finished_at", "-id")
    ):
        latest.setdefault(job.case_id, job)
    return latest


@scorer_register(Strategy.UNCERTAINTY)
def uncertainty_scores(project: Project, case_ids: list[int]) -> Scores:
    """The runtime's uncertainty of the case's pre-label (mean over its slices); cases the
    model has not read yet get no score and come after the scored ones."""
    out: Scores = {}
    for case_id, job in _latest_jobs(case_ids).items():
        values = [float(v) for v in (job.uncertainty or {}).values()]
        if values:
            versions = sorted(v.pk for v in job.model_versions.all())
            out[case_id] = (
                float(np.mean(values)),
                {"slices": len(values), "max": max(values)},
                versions[0] if versions else None,
            )
    return out


@scorer_register(Strategy.TTA)
def tta_scores(project: Project, case_ids: list[int]) -> Scores:
    """Disagreement of the active models with themselves under shifts (and left-right flips
    for the axial model), through the same ONNX sessions as pre-labelling."""
    active = {v.task: v for v in ModelVersion.objects.filter(status=ModelStatus.ACTIVE)}
    if not active:
        raise StrategyError("test-time augmentation needs an active model")
    out: Scores = {}
    for case in Case.objects.filter(pk__in=case_ids).prefetch_related("series"):
        per_series: list[float] = []
        parts: dict[str, float] = {}
        used: ModelVersion | None = None
        for series in case.series.all():
            version = active.get(TASK_FOR_ORIENTATION.get(series.orientation, ""))
            if version is None:
                continue
            used = used or version
            session = get_session(model_path(version), sha256=version.sha256)
            _images, arrays = series_arrays(series)
            spacing = (series.pixel_spacing_row, series.pixel_spacing_col)
            score, series_parts = tta_disagreement(
                session,
                load_contract(version.contract),
                arrays,
                [spacing] * len(arrays),
                flip_lr=version.task == "axial",
            )
            per_series.append(score)
            parts.update(
                {f"{series.orientation} {k}": round(v, 5) for k, v in series_parts.items()}
            )
        if per_series:
            out[case.pk] = (float(np.mean(per_series)), parts, used.pk if used else None)
    return out


def project_strategy(project: Project) -> str:
    policy = RetrainPolicy.objects.filter(project=project).values_list("strategy", flat=True)
    return policy.first() or Strategy.FIRST


def case_scores_refresh(
    *, project: Project, strategy: str | None = None, case_ids: list[int] | None = None
) -> int:
    """Compute and store the scores of the project's cases (or the listed ones) under the
    strategy (the project's own by default); the number of cases scored."""
    strategy = strategy or project_strategy(project)
    if strategy == Strategy.FIRST:
        return 0
    if strategy not in SCORERS:
        raise StrategyError(f"no scorer for the strategy {strategy!r}")
    ids = case_ids or list(Case.objects.filter(project=project).values_list("pk", flat=True))
    scores = SCORERS[strategy](project, ids)
    with transaction.atomic():
        CaseScore.objects.bulk_create(
            [
                CaseScore(
                    case_id=case_id,
                    strategy=strategy,
                    score=score,
                    details=details,
                    model_version_id=version,
                )
                for case_id, (score, details, version) in scores.items()
            ],
            update_conflicts=True,
            unique_fields=["case", "strategy"],
            update_fields=["score", "details", "model_version", "computed_at"],
        )
    logger.info("scored %d cases of project %s by %s", len(scores), project.pk, strategy)
    return len(scores)


def strategy_set(*, project: Project, strategy: str) -> RetrainPolicy:
    """Choose the project's strategy; its scores are computed by a background task."""
    from inference.tasks import case_scores_task

    if strategy not in Strategy.values:
        raise StrategyError(f"unknown strategy {strategy!r}: one of {', '.join(Strategy.values)}")
    with transaction.atomic():
        policy, _ = RetrainPolicy.objects.select_for_update().get_or_create(project=project)
        policy.strategy = strategy
        policy.save(update_fields=["strategy"])
        if strategy != Strategy.FIRST:
            transaction.on_commit(
                lambda: case_scores_task.enqueue(project_id=project.pk, strategy=strategy)
            )
    return policy


# Strategies scored against the whole project (a new case moves the cohort).
COHORT_STRATEGIES = frozenset({Strategy.OUTLIERS, Strategy.DISAGREEMENT})


def scores_refresh_enqueue(*, project_id: int, case_id: int | None = None) -> None:
    """Queue the scoring a change calls for under the project's strategy: the one case for
    per-case strategies, the whole project for cohort ones; nothing under "first"."""
    from inference.tasks import case_scores_task

    strategy = (
        RetrainPolicy.objects.filter(project_id=project_id)
        .values_list("strategy", flat=True)
        .first()
    ) or Strategy.FIRST
    if strategy == Strategy.FIRST:
        return
    if case_id is None and strategy not in COHORT_STRATEGIES:
        return
    ids = None if strategy in COHORT_STRATEGIES or case_id is None else [case_id]
    case_scores_task.enqueue(project_id=project_id, strategy=strategy, case_ids=ids)


def scores_on_prelabel(event: JobFinished) -> None:
    """JobFinished, after commit: a new pre-label changes the case's score."""
    if event.status == JobStatus.SUCCEEDED:
        scores_refresh_enqueue(project_id=event.project_id, case_id=event.case_id)
