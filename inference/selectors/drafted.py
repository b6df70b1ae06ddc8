"""Which gold cases a model drafted: pre-labelled by it, and read from those pre-labels.

Gold drafted from a model's own pre-labels favours that model when candidates are compared on
it (readers keep what they do not see as wrong), so a candidate scored below the active model
on such a tune split may not be worse on independent truth."""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import Exists, OuterRef

from annotation.models import Case, ReadKind, Revision
from annotation.models.reads import RevisionSource
from inference.models import JobStatus, ModelVersion, PrelabelJob


def cases_drafted_by(*, model: ModelVersion, case_ids: Collection[int]) -> list[int]:
    """Of `case_ids`, those that `model` pre-labelled (a job that succeeded with it) and that a
    reader started from a model's pre-labels (a human read with a model-sourced revision); one
    query."""
    prelabelled = PrelabelJob.objects.filter(
        case=OuterRef("pk"), status=JobStatus.SUCCEEDED, model_versions=model
    )
    started_from_model = Revision.objects.filter(
        read__case=OuterRef("pk"), read__kind=ReadKind.HUMAN, source=RevisionSource.MODEL
    )
    return list(
        Case.objects.filter(pk__in=list(case_ids))
        .filter(Exists(prelabelled), Exists(started_from_model))
        .order_by("id")
        .values_list("id", flat=True)
    )
