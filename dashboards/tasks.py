"""Background tasks of the dashboards (django_tasks API): they take ids and call a service."""

from __future__ import annotations

from django_tasks import task

from dashboards.services.corrections import correction_record


@task(queue_name="default")
def correction_record_task(read_id: int, revision_id: int) -> float | None:
    from inference.services.scores import scores_refresh_enqueue

    correction = correction_record(read_id=read_id, revision_id=revision_id)
    if correction is None:
        return None
    # Likeness to the corrected cases moves with every new correction.
    scores_refresh_enqueue(project_id=correction.project_id)
    return correction.magnitude
