"""What open browsers hear of pre-label jobs: `job.progress` to the case and its project."""

from __future__ import annotations

from annotation.domain_events import JobFinished
from annotation.live import case_group, event_publish, project_group
from inference.models import PrelabelJob
from inference.serializers import job_data


def job_announce(job: PrelabelJob, *, project_id: int) -> None:
    """The job's current state; sent once the surrounding transaction commits."""
    payload = {"job": job_data(job)}
    event_publish(group=case_group(job.case_id), type="job.progress", payload=payload)
    event_publish(group=project_group(project_id), type="job.progress", payload=payload)


def job_finished_announce(event: JobFinished) -> None:
    """Subscriber of JobFinished, after commit: the job's final state."""
    job = PrelabelJob.objects.get(pk=event.job_id)
    job_announce(job, project_id=event.project_id)
