"""Comments on a case: pinned to a point of one slice or not, threaded (a reply belongs to
its thread's root and to the root's read), resolved per thread; each change is a domain
event whose live announcement reaches only those who may see the comment."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from annotation.domain_events import CommentPosted, CommentResolved, publish
from annotation.live import case_group, event_publish
from annotation.models import Case, Comment, Image, Read
from annotation.permissions import (
    comment_visible_to,
    may_comment,
    may_resolve_comment,
    require,
    visible_reads_q,
)
from annotation.selectors.design import role_unaided
from annotation.services.cases import WorkflowError

MAX_BODY_CHARS = 10_000


class CommentError(WorkflowError):
    """A comment refused for its content (400), naming the field."""

    status = 400
    code = "comment_invalid"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, **{field: [message]})


class CommentNotFoundError(WorkflowError):
    status = 404
    code = "not_found"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, **{field: [message]})


@dataclass(frozen=True)
class Pin:
    """A point (x, y in the image's pixel coordinates) on one slice of the case."""

    image: int
    x: float
    y: float


def _body(text: object) -> str:
    if not isinstance(text, str) or not text.strip():
        raise CommentError("body", "write something: the comment is empty")
    if len(text) > MAX_BODY_CHARS:
        raise CommentError("body", f"a comment has at most {MAX_BODY_CHARS} characters")
    return text.strip()


def pin_check(*, case: Case, pin: Pin) -> None:
    """The image must be one of the case's and the point on it: CommentError naming it."""
    image = (
        Image.objects.filter(pk=pin.image, series__case=case)
        .values_list("series__rows", "series__columns")
        .first()
    )
    if image is None:
        raise CommentError("image", f"image {pin.image} is not an image of this case")
    rows, columns = image
    for name, value, limit in (("x", pin.x, columns), ("y", pin.y, rows)):
        if not math.isfinite(value) or not 0 <= value <= limit:
            raise CommentError(name, f"{name} {value} lies outside image {pin.image} (0..{limit})")


def _visible_read(*, case: Case, user: User, role: str, read_id: int) -> Read:
    visible = visible_reads_q(
        user=user,
        role=role,
        blinded=case.project.blinded,
        unaided=role_unaided(project_id=case.project_id, role=role),
    )
    read = Read.objects.filter(visible, case=case, pk=read_id).first()
    if read is None:
        message = f"read {read_id} is not a read of this case that you may see"
        raise CommentNotFoundError("read", message)
    return read


def comment_visible(
    *, comment: Comment, user: User, role: str, blinded: bool, unaided: bool = False
) -> bool:
    read = comment.read
    return comment_visible_to(
        author_id=comment.author_id,
        read_kind=None if read is None else read.kind,
        read_author_id=None if read is None else read.author_id,
        user_id=user.pk,
        role=role,
        blinded=blinded,
        unaided=unaided,
    )


def _thread_root(
    *, case: Case, user: User, role: str, parent_id: int, field: str = "parent"
) -> Comment:
    parent = (
        Comment.objects.select_related("read", "parent__read")
        .filter(pk=parent_id, case=case)
        .first()
    )
    unaided = role_unaided(project_id=case.project_id, role=role)
    if parent is None or not comment_visible(
        comment=parent, user=user, role=role, blinded=case.project.blinded, unaided=unaided
    ):
        message = f"comment {parent_id} is not a comment of this case that you may see"
        raise CommentNotFoundError(field, message)
    return parent.parent if parent.parent is not None else parent


def comment_post(
    *,
    case: Case,
    user: User,
    role: str,
    body: object,
    read_id: int | None = None,
    pin: Pin | None = None,
    parent_id: int | None = None,
) -> Comment:
    """A new comment (a reply when ``parent_id`` names one: it joins that thread's read)."""
    require(may_comment(role=role), "only the project's members comment on its cases")
    text = _body(body)
    root = (
        None
        if parent_id is None
        else _thread_root(case=case, user=user, role=role, parent_id=parent_id)
    )
    read = root.read if root is not None else None
    if root is None and read_id is not None:
        read = _visible_read(case=case, user=user, role=role, read_id=read_id)
    if pin is not None:
        pin_check(case=case, pin=pin)
    with transaction.atomic():
        comment = Comment.objects.create(
            case=case,
            read=read,
            image_id=None if pin is None else pin.image,
            x=None if pin is None else pin.x,
            y=None if pin is None else pin.y,
            body=text,
            author=user,
            parent=root,
        )
        publish(CommentPosted(comment=comment))
    return comment


def comment_resolve(
    *, case: Case, user: User, role: str, comment_id: int, resolved: bool
) -> Comment:
    """Resolve (or reopen) a thread, by its root or any of its replies."""
    root = _thread_root(case=case, user=user, role=role, parent_id=comment_id, field="comment")
    require(
        may_resolve_comment(author_id=root.author_id, user=user, role=role),
        "a thread is resolved by whoever started it, or by a reviewer or lead",
    )
    with transaction.atomic():
        root.resolved_by = user if resolved else None
        root.resolved_at = timezone.now() if resolved else None
        root.save(update_fields=["resolved_by", "resolved_at"])
        publish(CommentResolved(comment=root))
    return root


def comment_json(comment: Comment) -> dict[str, object]:
    """A comment as the API and the live events show it (comment and read loaded)."""
    return {
        "id": comment.pk,
        "case": comment.case_id,
        "parent": comment.parent_id,
        "read": comment.read_id,
        "image": comment.image_id,
        "x": comment.x,
        "y": comment.y,
        "body": comment.body,
        "author": {"id": comment.author_id, "username": comment.author.get_username()},
        "created_at": comment.created_at.isoformat(),
        "resolved": comment.resolved_at is not None,
        "resolved_by": None
        if comment.resolved_by is None
        else {"id": comment.resolved_by_id, "username": comment.resolved_by.get_username()},
        "resolved_at": None if comment.resolved_at is None else comment.resolved_at.isoformat(),
        "returned_with": comment.returned_with_id,
    }


def _announce(comment: Comment, kind: str) -> None:
    read = comment.read
    event_publish(
        group=case_group(comment.case_id),
        type=kind,
        payload={
            "comment": comment_json(comment),
            # Filtered per socket by annotation.permissions.event_visible_to.
            "comment_author": comment.author_id,
            "read_kind": None if read is None else read.kind,
            "read_author": None if read is None else read.author_id,
        },
    )


def comment_posted_announce(event: CommentPosted) -> None:
    """Subscriber, after commit: `comment.posted` to the case's viewers who may see it."""
    _announce(event.comment, "comment.posted")


def comment_resolved_announce(event: CommentResolved) -> None:
    """Subscriber, after commit: `comment.resolved` (or reopened: "resolved": false)."""
    _announce(event.comment, "comment.resolved")
