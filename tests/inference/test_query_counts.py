"""The job lists and the job detail answer with as many queries for 200 jobs (or cases) as
for 10 (see tests/query_counts.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from annotation.models import Case, Project, Read, ReadKind
from inference.models import (
    CaseScore,
    JobStatus,
    ModelVersion,
    PrelabelJob,
    RetrainJob,
    RetrainPolicy,
    Strategy,
)
from measurements.models import Correction
from tests.factories import make_cases_bulk, make_projects, make_users
from tests.query_counts import Endpoint, assert_queries_do_not_grow

pytestmark = pytest.mark.django_db


def _cases(n: int) -> tuple[Project, list[Case], Client]:
    """n cases of a new project whose annotator is signed in, each with a failed and a
    running job."""
    user = make_users(count=1)[0]
    project = make_projects(count=1, members=[user], role="annotator")[0]
    cases = make_cases_bulk(project=project, count=n, series=1, slices=1)
    PrelabelJob.objects.bulk_create(
        PrelabelJob(case=case, status=status, requested_by=user, error="stopped")
        for case in cases
        for status in (JobStatus.FAILED, JobStatus.RUNNING)
    )
    client = Client()
    client.force_login(user)
    return project, cases, client


def _case_of_jobs(n: int) -> tuple[Case, Client]:
    _, cases, client = _cases(1)
    PrelabelJob.objects.bulk_create(
        PrelabelJob(case=cases[0], status=JobStatus.SUCCEEDED, progress=1.0) for _ in range(n)
    )
    return cases[0], client


def case_jobs(n: int) -> tuple[Client, str]:
    # The list stops at 20 jobs: 10 against 20.
    case, client = _case_of_jobs(n)
    return client, f"/api/cases/{case.pk}/jobs"


def job_detail(n: int) -> tuple[Client, str]:
    case, client = _case_of_jobs(n)
    job = PrelabelJob.objects.filter(case=case).earliest("id")
    return client, f"/api/jobs/{job.pk}"


def project_jobs(n: int) -> tuple[Client, str]:
    project, cases, client = _cases(n)
    ids = ",".join(str(case.pk) for case in cases)
    return client, f"/api/projects/{project.slug}/jobs?cases={ids}"


def retrain_jobs(n: int) -> tuple[Client, str]:
    # The list stops at 50 runs: 10 against 50. Finished runs (one open run per task).
    project, _, client = _cases(1)
    RetrainJob.objects.bulk_create(
        RetrainJob(project=project, task="sagittal", trigger="lead", status=JobStatus.FAILED)
        for _ in range(n)
    )
    return client, f"/api/projects/{project.slug}/retrain/jobs"


def models(n: int) -> tuple[Client, str]:
    project, _, client = _cases(1)
    start = ModelVersion.objects.count()
    ModelVersion.objects.bulk_create(
        ModelVersion(task="axial", name=f"m{i}", file="m.onnx", sha256=f"{start + i:064x}")
        for i in range(n)
    )
    return client, f"/api/projects/{project.slug}/models"


def strategy(n: int) -> tuple[Client, str]:
    project, cases, client = _cases(n)
    RetrainPolicy.objects.create(project=project, strategy=Strategy.RANDOM)
    CaseScore.objects.bulk_create(
        CaseScore(case=case, strategy=Strategy.RANDOM, score=i / n) for i, case in enumerate(cases)
    )
    return client, f"/api/projects/{project.slug}/strategy"


def corrections(n: int) -> tuple[Client, str]:
    # The worst list stops at 20: 10 against 20; the summary reads every row in one query.
    lead = make_users(count=1)[0]
    project = make_projects(count=1, members=[lead], role="lead")[0]
    cases = make_cases_bulk(project=project, count=n, series=1, slices=1)
    reads = Read.objects.bulk_create(
        Read(case=case, kind=kind) for case in cases for kind in (ReadKind.MODEL, ReadKind.GOLD)
    )
    Correction.objects.bulk_create(
        Correction(
            project=project,
            case=case,
            model_read=reads[2 * i],
            model_revision_id=1,
            read=reads[2 * i + 1],
            revision_id=i + 1,
            kind="gold",
            areas={"sagittal cord": {"dice": 0.9, "hd95_mm": 1.0}},
            keypoints={"C3_AS": 1.5},
            magnitude=0.1 + i / (10 * n),
        )
        for i, case in enumerate(cases)
    )
    client = Client()
    client.force_login(lead)
    return client, f"/api/projects/{project.slug}/corrections"


def models_page(n: int) -> tuple[Client, str]:
    # The page is a shell (the panels fetch the API): nothing on it grows with the versions.
    client, _ = models(n)
    lead = make_users(count=1)[0]
    project = make_projects(count=1, members=[lead], role="lead")[0]
    client = Client()
    client.force_login(lead)
    return client, f"/projects/{project.slug}/models/"


def suggestions(n: int) -> tuple[Client, str]:
    # One job's JSON holds them all: n suggestions on n images.
    case, client = _case_of_jobs(1)
    read = Read.objects.create(case=case, kind=ReadKind.MODEL)
    item = {
        "label": "C5_AI",
        "shape_type": "point",
        "points": [[1.0, 2.0]],
        "confidence": 0.4,
        "raw_confidence": 0.8,
        "threshold": 0.9,
        "reason": "confidence 0.40 below 0.90",
    }
    PrelabelJob.objects.filter(case=case).update(
        read=read, withheld={str(i + 1): [item] for i in range(n)}
    )
    return client, f"/api/reads/{read.pk}/suggestions"


ENDPOINTS = [
    Endpoint("api-case-jobs", case_jobs, "jobs of the case"),
    Endpoint("api-job", job_detail, "jobs of the case"),
    Endpoint("api-read-suggestions", suggestions, "withheld pre-labels"),
    Endpoint("api-project-jobs", project_jobs, "cases with jobs"),
    Endpoint("api-project-retrain-jobs", retrain_jobs, "retraining runs"),
    Endpoint("api-models", models, "registered models"),
    Endpoint("api-project-strategy", strategy, "scored cases"),
    Endpoint("api-project-corrections", corrections, "corrections"),
    Endpoint("project-models", models_page, "registered models"),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_get_makes_as_many_queries_for_200_rows_as_for_10(endpoint: Endpoint) -> None:
    assert_queries_do_not_grow(endpoint)
