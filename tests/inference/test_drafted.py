"""Which gold cases a model drafted (inference/selectors/drafted.py): pre-labelled by that
model and read from its pre-labels, in one query."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotation.models import Case, Project, Read, ReadKind
from annotation.models.reads import RevisionSource
from annotation.services.reads import read_get_or_create_human
from annotation.services.revisions import revision_create
from inference.models import JobStatus, ModelVersion, PrelabelJob
from inference.selectors.drafted import cases_drafted_by
from tests.factories import make_case

pytestmark = pytest.mark.django_db


def _model(sha: str) -> ModelVersion:
    return ModelVersion.objects.create(task="sagittal", name=sha, file=f"{sha}.onnx", sha256=sha)


def _prelabel(case: Case, model: ModelVersion, status: str = JobStatus.SUCCEEDED) -> None:
    read = Read.objects.create(case=case, kind=ReadKind.MODEL, name=f"model · #{model.pk}")
    revision_create(read=read, parent_id=None, shapes={}, source=RevisionSource.MODEL)
    job = PrelabelJob.objects.create(case=case, status=status, read=read)
    job.model_versions.set([model])


def test_a_case_read_from_the_models_pre_labels_is_drafted_by_it_alone(
    project: Project, cast: dict[str, User]
) -> None:
    active, other = _model("a" * 64), _model("b" * 64)
    drafted = make_case(project=project)
    by_other = make_case(project=project)
    read_first = make_case(project=project)
    failed = make_case(project=project)
    never_read = make_case(project=project)
    outside = make_case(project=project)
    _prelabel(drafted, active)
    _prelabel(by_other, other)
    read_get_or_create_human(case=read_first, author=cast["annotator"])  # nothing to start from
    _prelabel(read_first, active)
    _prelabel(failed, active, status=JobStatus.FAILED)
    _prelabel(never_read, active)
    _prelabel(outside, active)
    for case in (drafted, by_other, read_first, failed, outside):
        read_get_or_create_human(case=case, author=cast["annotator"])
    asked = [c.pk for c in (drafted, by_other, read_first, failed, never_read)]

    with CaptureQueriesContext(connection) as queries:
        found = cases_drafted_by(model=active, case_ids=asked)

    assert found == [drafted.pk]
    assert len(queries) == 1
    assert cases_drafted_by(model=other, case_ids=asked) == [by_other.pk]
    assert cases_drafted_by(model=active, case_ids=[]) == []
