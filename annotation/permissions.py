"""Who may do what: every "may this user do X to Y" decision of the product, by name.

APIs, pages and WebSocket consumers all ask here, so a rule changes in one place; roles
appear only through ``Role``. Fetching the objects is the ``access_*`` selectors' job.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Q

from annotation.models import Read, ReadKind, Role

UserLike = User | AnonymousUser

REVIEW_ROLES = frozenset({Role.REVIEWER, Role.LEAD})
# Readers work unaided: they may not ask a model for pre-labels.
PRELABEL_ROLES = frozenset({Role.ANNOTATOR, Role.REVIEWER, Role.LEAD})
# Reads made by no person: everyone in the project sees them, nobody edits them.
MACHINE_READ_KINDS = frozenset({ReadKind.MODEL, ReadKind.IMPORTED})


# ----- projects -----


def may_view_project(*, role: str | None) -> bool:
    """Members see a project, its cases, images and jobs; outsiders get 404."""
    return role is not None


def may_import(*, role: str | None) -> bool:
    return role in REVIEW_ROLES


def may_use_pacs(*, role: str | None) -> bool:
    """The project's PACS: its connection, searching it (which shows what the PACS holds,
    patient names included) and importing from it. Others see the imported cases only,
    under their pseudonyms, in the case list."""
    return role == Role.LEAD


def may_change_settings(*, role: str | None) -> bool:
    """Settings and memberships: the lead's settings page."""
    return role == Role.LEAD


def may_view_design(*, role: str | None) -> bool:
    """The study design (splits, reads required, aided roles): reviewers read, leads change
    it (``may_change_settings``)."""
    return role in REVIEW_ROLES


def may_view_dashboard(*, role: str | None) -> bool:
    """The progress and agreement dashboards (read-only, so reviewers see exactly what
    leads see): they aggregate every read, which only those who see all reads may see."""
    return role in REVIEW_ROLES


def may_see_claims(*, role: str | None) -> bool:
    """Everybody's claims on the project's cases, and releasing or reassigning them."""
    return role == Role.LEAD


def may_claim(*, role: str | None) -> bool:
    """The "Next case" queue: every member has one (what it offers depends on the role)."""
    return role is not None


def may_prelabel_case(*, role: str | None) -> bool:
    return role in PRELABEL_ROLES


def may_prelabel_project(*, role: str | None) -> bool:
    return role in REVIEW_ROLES


def may_export(*, role: str | None) -> bool:
    """Exports of a project's reads (exports app): leads and reviewers, who see every read;
    what an export takes is still narrowed by ``visible_reads_q``."""
    return role in REVIEW_ROLES


def may_see_export(*, role: str | None, user_id: int | None, created_by_id: int) -> bool:
    """An export (its progress, details and download) is its requester's alone, while they
    may export: what it holds was chosen by their rights, not another member's."""
    return may_export(role=role) and user_id is not None and user_id == created_by_id


def may_join_case_group(*, role: str | None) -> bool:
    """A case socket; what it then receives is filtered by ``event_visible_to``."""
    return may_view_project(role=role)


def may_join_project_group(*, role: str | None) -> bool:
    return may_view_project(role=role)


# ----- review: gold, sign, return, comments -----


def may_review(*, role: str | None) -> bool:
    """The review page, composing and signing the gold standard, returning a case."""
    return role in REVIEW_ROLES


def may_comment(*, role: str | None) -> bool:
    """Every member comments; what each then sees is ``comment_visible_to``."""
    return role is not None


def comment_visible_to(
    *,
    author_id: int | None,
    read_kind: str | None,
    read_author_id: int | None,
    user_id: int | None,
    role: str | None,
    blinded: bool,
    unaided: bool = False,
) -> bool:
    """A comment is seen by its author and by whoever sees the read it was made on; one on
    no read only by its author and those who see every read (blinded readers never see
    others' comments)."""
    if role is None:
        return False
    if author_id is not None and author_id == user_id:
        return True
    if sees_all_reads(role=role, blinded=blinded):
        return True
    if read_kind is None:
        return False
    return _read_visible(
        kind=read_kind,
        author_id=read_author_id,
        user_id=user_id,
        role=role,
        blinded=blinded,
        unaided=unaided,
    )


def visible_comments_q(
    *, user: UserLike, role: str | None, blinded: bool, unaided: bool = False
) -> Q:
    """``comment_visible_to`` as a filter on Comment."""
    if role is None:
        return Q(pk__in=[])
    if sees_all_reads(role=role, blinded=blinded):
        return Q()
    machine = sorted(MACHINE_READ_KINDS - {ReadKind.MODEL} if unaided else MACHINE_READ_KINDS)
    return Q(author_id=user.pk) | Q(read__author_id=user.pk) | Q(read__kind__in=machine)


def may_resolve_comment(*, author_id: int, user: UserLike, role: str | None) -> bool:
    """A thread is resolved (or reopened) by whoever started it, or by a reviewer or lead."""
    return role is not None and (role in REVIEW_ROLES or author_id == user.pk)


# ----- reads: who sees them -----


def sees_all_reads(*, role: str | None, blinded: bool) -> bool:
    """Reviewers and leads see every read; with blinding off, every member does."""
    return role is not None and (role in REVIEW_ROLES or not blinded)


def _read_visible(
    *,
    kind: str,
    author_id: int | None,
    user_id: int | None,
    role: str | None,
    blinded: bool,
    unaided: bool = False,
) -> bool:
    if role is None:
        return False
    if unaided and kind == ReadKind.MODEL:
        # The study design keeps this role unaided: the model's pre-label is not theirs to see.
        return False
    if sees_all_reads(role=role, blinded=blinded) or kind in MACHINE_READ_KINDS:
        return True
    return author_id is not None and author_id == user_id


def read_visible_to(
    *, read: Read, user: UserLike, role: str | None, blinded: bool, unaided: bool = False
) -> bool:
    """With blinding, annotators and readers see only their own reads and machine reads; a
    role the study design keeps unaided (``role_unaided``) never sees model reads."""
    return _read_visible(
        kind=read.kind,
        author_id=read.author_id,
        user_id=user.pk,
        role=role,
        blinded=blinded,
        unaided=unaided,
    )


def may_request_report(*, role: str | None, blinded: bool, unaided: bool) -> bool:
    """The study report holds numbers from every read (each reader group's, the model's,
    gold): only a member who may see every read requests, lists or opens one. With blinding
    that is reviewers and leads; a role the design keeps unaided (no model reads) never."""
    return sees_all_reads(role=role, blinded=blinded) and not unaided


def visible_reads_q(
    *, user: UserLike, role: str | None, blinded: bool, prefix: str = "", unaided: bool = False
) -> Q:
    """``read_visible_to`` as a query filter (``prefix`` "reads__" from a case)."""
    if role is None:
        return Q(pk__in=[])
    visible = Q()
    if not sees_all_reads(role=role, blinded=blinded):
        visible = Q(**{f"{prefix}kind__in": sorted(MACHINE_READ_KINDS)}) | Q(
            **{f"{prefix}author_id": user.pk}
        )
    if unaided:
        people = sorted(set(ReadKind.values) - {ReadKind.MODEL})
        visible &= Q(**{f"{prefix}kind__in": people})
    return visible


def event_visible_to(
    *,
    event: Mapping[str, Any],
    user_id: int | None,
    role: str | None,
    blinded: bool,
    unaided: bool = False,
) -> bool:
    """May a live event reach this member's socket? Events about a read carry its author
    (``read_author``) and, where known, its kind; comment events also their author
    (``comment_author``: ``comment_visible_to``); export events their requester
    (``export_owner``: ``may_see_export``); others are for every member."""
    if role is None:
        return False
    if "export_owner" in event:
        return may_see_export(role=role, user_id=user_id, created_by_id=event["export_owner"])
    if "comment_author" in event:
        return comment_visible_to(
            author_id=event["comment_author"],
            read_kind=event.get("read_kind"),
            read_author_id=event.get("read_author"),
            user_id=user_id,
            role=role,
            blinded=blinded,
            unaided=unaided,
        )
    if "read_author" not in event and "read_kind" not in event:
        return True
    author = event.get("read_author")
    # An event without its read's kind: a read without an author is a machine's.
    kind = event.get("read_kind") or (ReadKind.MODEL if author is None else ReadKind.HUMAN)
    return _read_visible(
        kind=str(kind),
        author_id=author,
        user_id=user_id,
        role=role,
        blinded=blinded,
        unaided=unaided,
    )


# ----- reads: who writes them (the one write rule) -----

# A rule answers why the user may not append a revision to the read, or None if they may.
WriteRule = Callable[[Read, UserLike, "str | None"], "str | None"]


def _author_only(read: Read, user: UserLike, role: str | None) -> str | None:
    if read.author_id is not None and read.author_id == user.pk:
        return None
    return "a read belongs to its author: only they may change it; save your own read"


def _reviewers_only(read: Read, user: UserLike, role: str | None) -> str | None:
    if role in REVIEW_ROLES:
        return None
    return "only the project's reviewers and leads change the gold standard"


def _nobody(read: Read, user: UserLike, role: str | None) -> str | None:
    return f"{read.get_kind_display().lower()} reads are read-only; save your own read"


# Every route that appends a revision (save, restore, labelme import, and whatever comes
# next) asks write_refusal. The review workflow plugs its gold rule in here.
WRITE_RULES: dict[str, WriteRule] = {
    ReadKind.HUMAN: _author_only,
    ReadKind.GOLD: _reviewers_only,
    ReadKind.MODEL: _nobody,
    ReadKind.IMPORTED: _nobody,
}


def write_refusal(*, read: Read, user: UserLike, role: str | None) -> str | None:
    """Why the user may not append a revision to the read; None when they may."""
    if role is None or not user.is_authenticated:
        return "only members of the project change its reads"
    return WRITE_RULES.get(read.kind, _nobody)(read, user, role)


def may_append_revision(*, read: Read, user: UserLike, role: str | None) -> bool:
    """The ``editable`` flag of a read: the same rule the write routes enforce."""
    return write_refusal(read=read, user=user, role=role) is None


def require_append_revision(*, read: Read, user: UserLike, role: str | None) -> None:
    refusal = write_refusal(read=read, user=user, role=role)
    if refusal is not None:
        raise PermissionDenied(refusal)


def require(allowed: bool, message: str) -> None:
    """Turn a ``may_*`` answer into a 403 naming the rule."""
    if not allowed:
        raise PermissionDenied(message)
