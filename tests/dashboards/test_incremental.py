"""The aggregates kept incrementally on the domain events equal a from-scratch rebuild
(dashboards.services.rebuild, also `manage.py dashboard_rebuild`) after a random sequence of
saves, submissions, reviews, returns, signatures and reopenings, and so do the endpoints."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from annotation.models import Case, CaseState, Read, ReadKind
from dashboards.models import AgreementRow, CaseActivity
from dashboards.services.rebuild import dashboards_rebuild
from tests.dashboards.world import Study, study_create

pytestmark = pytest.mark.django_db

OPEN = (CaseState.NEW, CaseState.PRELABELLED, CaseState.IN_ANNOTATION, CaseState.RETURNED)


def _snapshot(project_id: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    agreement = sorted(
        AgreementRow.objects.filter(project_id=project_id).values_list(
            "case_id", "kind", "model_version_id", "read_id", "reference_id", "revision_id",
            "reference_revision_id", "author_id", "reference_at", "areas", "keypoint_errors",
            "measurements", "case_fields",
        ),
        key=repr,
    )  # fmt: skip
    activity = sorted(
        (case, user, n, round(seconds, 9), first, last)
        for case, user, n, seconds, first, last in CaseActivity.objects.filter(
            project_id=project_id
        ).values_list("case_id", "user_id", "revisions", "active_seconds", "first_at", "last_at")
    )
    return agreement, activity


def _owed(study: Study, case: Case) -> list[Any]:
    people = [study.user("annotator", 0)]
    if case.overlap:
        people.append(study.user("annotator", 1))
    if case.split == "test":
        people.append(study.user("reader"))
    return people


def _step(study: Study, case: Case) -> str:
    """One random action allowed in the case's current state; its name."""
    case.refresh_from_db()
    rng = study.rng
    if case.state in OPEN:
        person = _owed(study, case)[int(rng.integers(len(_owed(study, case))))]
        read = Read.objects.filter(case=case, author=person, kind=ReadKind.HUMAN).first()
        if read is None or (read.submitted_at is None and rng.random() < 0.6):
            if read is not None and read.submitted_at is None and rng.random() < 0.5:
                study.submit(case, person)
                return "submit"
            study.save(case, person)
            return "save"
        return "nothing"
    if case.state == CaseState.SUBMITTED:
        study.review(case)
        return "review"
    if case.state == CaseState.IN_REVIEW:
        if rng.random() < 0.6:
            study.sign(case)
            return "sign"
        study.give_back(case)
        return "return"
    if rng.random() < 0.3:
        study.reopen(case)
        return "reopen"
    return "nothing"


def test_incremental_aggregates_equal_the_rebuild_after_a_random_sequence(cast: Any) -> None:
    study = study_create(seed=2024, versions=2)
    for k, (split, overlap) in enumerate(
        [("train", False), ("test", False), ("train", True), ("test", True), ("tune", False)]
    ):
        case = study.new_case(split=split, overlap=overlap)
        if k != 4:  # one case without a model read
            study.model_read(case, study.versions[k % 2])
    done = [_step(study, study.cases[int(study.rng.integers(5))]) for _ in range(90)]
    # End on a reopened gold case (its rows against gold must go) if the dice left none.
    gold = [c for c in study.cases if Case.objects.get(pk=c.pk).state == CaseState.GOLD]
    if gold:
        study.reopen(gold[0])
        done.append("reopen")
    assert {"save", "submit", "review", "sign", "return", "reopen"} <= set(done), done
    lead = Client()
    lead.force_login(study.user("lead"))
    urls = [
        f"/api/projects/{study.project.slug}/dashboard/{part}" for part in ("agreement", "progress")
    ]
    before_rows = _snapshot(study.project.pk)
    before_json = [lead.get(url).json() for url in urls]
    assert before_rows[0], "the sequence signed no gold and paired nothing: nothing compared"
    dashboards_rebuild(project_id=study.project.pk)
    assert _snapshot(study.project.pk) == before_rows
    assert [lead.get(url).json() for url in urls] == before_json


def test_the_rebuild_command_restores_deleted_aggregates_and_names_unknown_projects(
    cast: Any,
) -> None:
    study = study_create(seed=3, versions=1)
    study.gold_case(split="test")
    before = _snapshot(study.project.pk)
    AgreementRow.objects.all().delete()
    CaseActivity.objects.all().delete()
    out = StringIO()
    call_command("dashboard_rebuild", study.project.slug, stdout=out)
    assert _snapshot(study.project.pk) == before
    assert f"{study.project.slug}: 3 activity rows, 3 agreement rows" in out.getvalue()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no such project: nope"):
        call_command("dashboard_rebuild", "nope")
