"""Background tasks (django_tasks API): they take ids and call a service."""

from __future__ import annotations

from django_tasks import task

from exports.run import export_run


@task(queue_name="default")
def export_task(job_id: int) -> str:
    job = export_run(job_id=job_id)
    return str(job.status)
