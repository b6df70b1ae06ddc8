"""Background tasks (django_tasks API): they take ids and call a service."""

from __future__ import annotations

from django_tasks import task

from inference.services.prelabel import prelabel_run


@task(queue_name="default")
def prelabel_case_task(job_id: int) -> str:
    job = prelabel_run(job_id=job_id)
    return str(job.status)


@task(queue_name="default")
def retrain_task(job_id: int) -> str:
    from inference.services.retrain_run import retrain_run

    job = retrain_run(job_id=job_id)
    return str(job.status)


@task(queue_name="default")
def case_scores_task(project_id: int, strategy: str, case_ids: list[int] | None = None) -> int:
    from annotation.models import Project
    from inference.services.scores import case_scores_refresh

    project = Project.objects.get(pk=project_id)
    return case_scores_refresh(project=project, strategy=strategy, case_ids=case_ids)
