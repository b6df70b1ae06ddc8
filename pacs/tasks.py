"""Background task (django_tasks API) of the PACS import: takes the job id."""

from __future__ import annotations

from django_tasks import task

from pacs.services.imports import pacs_import_run


@task(queue_name="default")
def pacs_import_task(import_id: int) -> str:
    return str(pacs_import_run(import_id=import_id).status)
