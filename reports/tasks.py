"""Background tasks (django_tasks API): they take ids and call a service."""

from __future__ import annotations

from django_tasks import task

from reports.services import report_run


@task(queue_name="default")
def report_task(job_id: int) -> str:
    job = report_run(job_id=job_id)
    return str(job.status) if job is not None else "skipped"
