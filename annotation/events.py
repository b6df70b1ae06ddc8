"""The annotation app's live events: what is announced when a revision lands."""

from __future__ import annotations

from annotation.live import case_group, event_publish
from annotation.models import Revision
from annotation.services.revisions import revision_hooks_register


def _announce_revision(revision: Revision) -> None:
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


def register_revision_events() -> None:
    revision_hooks_register(in_transaction=_announce_revision)
