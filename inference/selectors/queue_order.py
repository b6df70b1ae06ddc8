"""The work queues' "active_learning" ordering: the stored score of the project's strategy,
highest first, then import order (cases not scored yet, and every case under the "first"
strategy, keep the import order)."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.expressions import Combinable

from annotation.models import Case, Project
from annotation.selectors.queue import queue_ordering_register
from inference.models import CaseScore, RetrainPolicy, Strategy


@queue_ordering_register("active_learning")
def active_learning(cases: QuerySet[Case], project: Project) -> list[Combinable | str]:
    """Ordering expressions for the candidate cases: no query of its own; the strategy is a
    subquery that PostgreSQL evaluates once."""
    strategy = Subquery(RetrainPolicy.objects.filter(project_id=project.pk).values("strategy")[:1])
    score = Subquery(
        CaseScore.objects.filter(case=OuterRef("pk"), strategy=strategy)
        .exclude(strategy=Strategy.FIRST)
        .values("score")[:1]
    )
    return [score.desc(nulls_last=True), "created_at", "id"]
