"""The product's domain events and `publish`: what happened, never what to do about it.

Who handles each event, in the publisher's transaction or after it commits, is one table
named by settings.DOMAIN_EVENT_SUBSCRIBERS (config/subscribers.py). The base app defines
the events so that every app may publish them; it never imports the apps that react.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.module_loading import import_string

from annotation.models import Comment, Revision


@dataclass(frozen=True, kw_only=True, slots=True)
class RevisionSaved:
    """A revision was appended to a read: a save, a restore, an import or a pre-label.

    Published by annotation.services.revisions.revision_create, inside the save's
    transaction.
    """

    revision: Revision


@dataclass(frozen=True, kw_only=True, slots=True)
class CaseStateChanged:
    """A case moved from one CaseState to another (a row of CaseTransition).

    Published by annotation.services.cases inside the transaction that changed the state
    (pre-label run, claim, submit, review, sign, reopen). `actor_id` None: the system.
    """

    case_id: int
    project_id: int
    previous: str
    state: str
    actor_id: int | None = None
    reason: str = ""
    transition_id: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CasesImported:
    """An import created new cases in a project; their rows are committed.

    Published by the import API and the import_cases command after ingest returns.
    """

    project_id: int
    case_ids: tuple[int, ...]
    requested_by: User | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class JobFinished:
    """A background job (for now: a pre-label job) ended, succeeded or failed.

    Published by inference when it stores the job's final status (inside that transaction
    when there is one).
    """

    job_id: int
    case_id: int
    project_id: int
    status: str
    read_id: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class GoldSigned:
    """A reviewer signed a case's gold read (one revision of it). Published by
    annotation.services.gold.gold_sign inside its transaction."""

    read_id: int
    case_id: int
    project_id: int
    signed_by: User
    revision_id: int | None = None
    signed_at: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CommentPosted:
    """A comment (or a reply) was posted on a case. Published by
    annotation.services.comments.comment_post inside its transaction."""

    comment: Comment


@dataclass(frozen=True, kw_only=True, slots=True)
class CommentResolved:
    """A comment thread was resolved or reopened (``comment.resolved_at`` says which).
    Published by annotation.services.comments.comment_resolve inside its transaction."""

    comment: Comment


@dataclass(frozen=True, kw_only=True, slots=True)
class ClaimChanged:
    """A claim on a case was taken, renewed, released, expired, reassigned or ended by a
    submission (annotation.services.queue / submit, inside their transaction)."""

    claim_id: int
    case_id: int
    project_id: int
    user_id: int
    purpose: str
    action: str  # claimed | renewed | released | expired | reassigned | submitted


@dataclass(frozen=True, kw_only=True, slots=True)
class ReadSubmitted:
    """A read's author submitted it (annotation.services.submit, inside its transaction)."""

    read_id: int
    case_id: int
    project_id: int
    author_id: int
    overridden: bool


DomainEvent = (
    RevisionSaved
    | CaseStateChanged
    | CasesImported
    | JobFinished
    | GoldSigned
    | CommentPosted
    | CommentResolved
    | ClaimChanged
    | ReadSubmitted
)
DOMAIN_EVENTS: tuple[type[DomainEvent], ...] = (
    RevisionSaved,
    CaseStateChanged,
    CasesImported,
    JobFinished,
    GoldSigned,
    CommentPosted,
    CommentResolved,
    ClaimChanged,
    ReadSubmitted,
)


class When(enum.Enum):
    # Its writes commit or roll back with the publisher's; an exception aborts the
    # publisher's transaction.
    IN_TRANSACTION = "in the transaction"
    # Runs once the publisher's transaction commits (at once when there is none), never
    # after a rollback. A failure is logged: the committed work stands.
    AFTER_COMMIT = "after commit"


IN_TRANSACTION = When.IN_TRANSACTION
AFTER_COMMIT = When.AFTER_COMMIT

E = TypeVar("E", bound=DomainEvent)


@dataclass(frozen=True, slots=True)
class Subscriber(Generic[E]):
    event: type[E]
    when: When
    handler: Callable[[E], None]
    # What the handler does, in a few words (shown by the table's test and in errors).
    does: str


def on(event: type[E], when: When, handler: Callable[[E], None], *, does: str) -> Subscriber[E]:
    """One row of the subscriber table; mypy checks that the handler takes this event."""
    return Subscriber(event=event, when=when, handler=handler, does=does)


@cache
def subscribers_by_event() -> dict[type[DomainEvent], tuple[Subscriber[Any], ...]]:
    """The table, loaded once (on the first publish), grouped by event in listed order."""
    table: Iterable[Subscriber[Any]] = import_string(settings.DOMAIN_EVENT_SUBSCRIBERS)
    grouped: dict[type[DomainEvent], list[Subscriber[Any]]] = {e: [] for e in DOMAIN_EVENTS}
    for row in table:
        if row.event not in grouped:
            raise TypeError(f"{row.event!r} in the subscriber table is not a domain event")
        grouped[row.event].append(row)
    return {event: tuple(rows) for event, rows in grouped.items()}


def _after_commit(row: Subscriber[Any], event: DomainEvent) -> Callable[[], None]:
    """The row's handler bound to the event, as an after-commit hook.

    A named function, not a functools.partial: Django logs a failing robust hook by its
    __qualname__, which a partial lacks, so the logging itself raised and the failure of
    a hook after a committed save (the database lost meanwhile) reached the client as a 500.
    """

    def hook() -> None:
        row.handler(event)

    hook.__qualname__ = f"{getattr(row.handler, '__qualname__', row.handler)!s} ({row.does})"
    return hook


def publish(event: DomainEvent) -> None:
    """Hand the event to its subscribers, in the order the table lists them.

    In-transaction subscribers run now, so the publisher must be inside
    transaction.atomic() when the event has any; after-commit ones are queued with
    transaction.on_commit and so keep their order relative to other after-commit work.
    """
    for row in subscribers_by_event()[type(event)]:
        if row.when is When.AFTER_COMMIT:
            transaction.on_commit(_after_commit(row, event), robust=True)
            continue
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError(
                f"{type(event).__name__} has an in-transaction subscriber ({row.does}): "
                "publish it inside transaction.atomic()"
            )
        row.handler(event)
