"""Appending revisions to reads. A revision is never changed; a save appends a new one.

Optimistic concurrency: a save names its parent; if the parent is no longer the read's
head the save is refused with the newer head (HTTP 409). The head moves by a conditional
UPDATE inside the transaction, and a unique constraint (one child per parent) backs it up,
so two saves on the same parent can never both land.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F

from annotation.domain_events import RevisionSaved, publish
from annotation.models import Read, Revision
from annotation.models.reads import RevisionSource


class StaleParent(Exception):  # noqa: N818 - reads better at the call site than StaleParentError
    """The save's parent is not the read's head; carries the head the client must see."""

    def __init__(self, head: Revision | None) -> None:
        super().__init__("the read has a newer revision than the one this save is based on")
        self.head = head


def _count_shapes(shapes: dict[str, list[dict[str, Any]]]) -> int:
    return sum(len(items) for items in shapes.values())


def revision_create(
    *,
    read: Read,
    parent_id: int | None,
    shapes: dict[str, list[dict[str, Any]]],
    case_fields: dict[str, Any] | None = None,
    author: User | None = None,
    source: str = RevisionSource.SAVE,
    message: str = "",
    restored_from: Revision | None = None,
    image_meta: dict[str, Any] | None = None,
) -> Revision:
    """Append a revision whose parent must be the read's current head (or None for the first).

    The caller has validated ``shapes``; this function only guarantees the append-only,
    no-lost-update contract.
    """
    try:
        with transaction.atomic():
            moved = Read.objects.filter(pk=read.pk, head_id=parent_id).update(
                revision_count=F("revision_count") + 1
            )
            if moved != 1:
                raise StaleParent(_current_head(read.pk))
            number = Read.objects.values_list("revision_count", flat=True).get(pk=read.pk)
            revision = Revision.objects.create(
                read=read,
                number=number,
                parent_id=parent_id,
                author=author,
                shapes=shapes,
                case_fields=case_fields or {},
                source=source,
                message=message[:500],
                restored_from=restored_from,
                image_meta=image_meta or {},
                shape_count=_count_shapes(shapes),
            )
            Read.objects.filter(pk=read.pk).update(head=revision)
            read.head = revision
            read.revision_count = number
            # Every consequence of a save (measurements, live events) is a subscriber of
            # RevisionSaved: see the table in config/subscribers.py.
            publish(RevisionSaved(revision=revision))
    except IntegrityError as exc:
        # A concurrent save on the same parent won between our check and insert.
        raise StaleParent(_current_head(read.pk)) from exc
    return revision


def _current_head(read_id: int) -> Revision | None:
    head_id = Read.objects.values_list("head_id", flat=True).get(pk=read_id)
    if head_id is None:
        return None
    return Revision.objects.select_related("author").get(pk=head_id)


def revision_restore(
    *, read: Read, revision: Revision, parent_id: int | None, author: User | None
) -> Revision:
    """Restoring appends a copy of an old revision as the new head; history stays intact."""
    if revision.read_id != read.pk:
        raise ValueError("the revision belongs to another read")
    return revision_create(
        read=read,
        parent_id=parent_id,
        shapes=revision.shapes,
        case_fields=revision.case_fields,
        author=author,
        source=RevisionSource.RESTORE,
        message=f"restored revision {revision.number}",
        restored_from=revision,
        image_meta=revision.image_meta,
    )
