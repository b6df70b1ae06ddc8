"""What open browsers hear of the annotation app's domain events (subscribers, listed in
config/subscribers.py; annotation/live.py carries them to the case and project groups)."""

from __future__ import annotations

from annotation.domain_events import CaseStateChanged, ClaimChanged, ReadSubmitted, RevisionSaved
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


def _queue_changed(project_id: int, delta: dict[str, dict[str, int]]) -> None:
    # A change of the counts, not the counts: no query per event (a "Next case" call sends
    # two). Pages load the counts (GET .../queue/counts) and again after a lost socket.
    event_publish(group=project_group(project_id), type="queue.changed", payload={"delta": delta})


def queue_counts_on_state(event: CaseStateChanged) -> None:
    """`queue.changed`: one case fewer in the previous state, one more in the new one."""
    _queue_changed(event.project_id, {"states": {event.previous: -1, event.state: 1}})


def claim_changed_announce(event: ClaimChanged) -> None:
    """`claim.changed` to the case's viewers and the project's case list, without naming
    the claimant (any member may know a case is taken; who took it is the lead's list), then
    `queue.changed` with one live claim more or fewer. A renewal changes neither."""
    if event.action == "renewed":
        return
    payload = {"case": event.case_id, "purpose": event.purpose, "action": event.action}
    for group in (case_group(event.case_id), project_group(event.project_id)):
        event_publish(group=group, type="claim.changed", payload=payload)
    # Every other action ends a claim (a reassignment ends one and claims anew).
    step = 1 if event.action == "claimed" else -1
    _queue_changed(event.project_id, {"claimed": {event.purpose: step}})


def read_submitted_announce(event: ReadSubmitted) -> None:
    """`read.submitted` to the case's viewers who may see the read (its author and kind
    let the consumer apply blinding; the project socket never forwards read events)."""
    event_publish(
        group=case_group(event.case_id),
        type="read.submitted",
        payload={
            "read": event.read_id,
            "read_kind": "human",
            "read_author": event.author_id,
            "overridden": event.overridden,
        },
    )
