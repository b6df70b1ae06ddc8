"""What open browsers hear of the annotation app's domain events (subscribers, listed in
config/subscribers.py; annotation/live.py carries them to the case and project groups)."""

from __future__ import annotations

from annotation.domain_events import CaseStateChanged, RevisionSaved
from annotation.live import case_group, event_publish, project_group


def revision_announce(event: RevisionSaved) -> None:
    """`revision.saved` to the case's viewers."""
    revision = event.revision
    read = revision.read
    event_publish(
        group=case_group(read.case_id),
        type="revision.saved",
        payload={
            "read": read.pk,
            "read_kind": read.kind,
            "read_author": read.author_id,
            "revision": {
                "id": revision.pk,
                "number": revision.number,
                "author": None
                if revision.author is None
                else {"id": revision.author_id, "username": revision.author.get_username()},
                "created_at": revision.created_at.isoformat(),
            },
        },
    )


def case_state_announce(event: CaseStateChanged) -> None:
    """`case.state_changed` to the case's viewers and to the project's case list."""
    for group in (case_group(event.case_id), project_group(event.project_id)):
        event_publish(
            group=group,
            type="case.state_changed",
            payload={"case": event.case_id, "state": event.state},
        )
