"""What open browsers hear of PACS imports: `pacs.progress` on the project's socket."""

from __future__ import annotations

from annotation.live import event_publish, project_group
from pacs.models import PacsImport
from pacs.serializers import import_data


def import_announce(job: PacsImport) -> None:
    """The job's current state (pseudonyms and counts only); sent after commit."""
    event_publish(
        group=project_group(job.project_id),
        type="pacs.progress",
        payload={"import": import_data(job)},
    )
