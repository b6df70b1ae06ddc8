"""A case's history as one user may see it: transitions, claims, submissions, comments,
revisions and gold signatures of the reads visible to them (blinding, unaided roles).

One query per kind of record, whatever the number of rows (the history page and its API).
"""

from __future__ import annotations

from dataclasses import dataclass

from annotation.models import (
    Case,
    CaseTransition,
    Claim,
    Comment,
    GoldSignature,
    Read,
    ReadSubmission,
    Revision,
)
from annotation.permissions import UserLike, sees_all_reads, visible_comments_q, visible_reads_q
from annotation.selectors.design import role_unaided


@dataclass(frozen=True)
class CaseHistory:
    """Every record of the case the user may see, each list oldest first."""

    reads: list[Read]
    revisions: list[Revision]
    transitions: list[CaseTransition]
    claims: list[Claim]
    submissions: list[ReadSubmission]
    comments: list[Comment]
    signatures: list[GoldSignature]
    # Whether the user sees every read: a transition's reason (a return's, a reopen's) may
    # speak of other people's reads, so others see only the reasons of their own moves.
    sees_all: bool = True
    user_id: int | None = None

    def reason_of(self, transition: CaseTransition) -> str | None:
        """The transition's reason, or None where it is withheld from this user."""
        if self.sees_all or (self.user_id is not None and transition.actor_id == self.user_id):
            return transition.reason
        return None


def _visible_claims(*, case: Case, user: UserLike, sees_all: bool) -> list[Claim]:
    # Who works on a case is the reviewers' business; others see their own claims only.
    claims = Claim.objects.filter(case=case).select_related("user", "released_by")
    if not sees_all:
        claims = claims.filter(user_id=user.pk or 0)
    return list(claims.order_by("claimed_at", "id"))


def case_history(*, case: Case, user: UserLike, role: str) -> CaseHistory:
    """The case's records this user may see (``case.project`` loaded)."""
    blinded = case.project.blinded
    unaided = role_unaided(project_id=case.project_id, role=role)
    visible = visible_reads_q(user=user, role=role, blinded=blinded, unaided=unaided)
    reads = list(
        Read.objects.filter(visible, case=case)
        .select_related("author", "head__author")
        .order_by("id")
    )
    read_ids = [read.pk for read in reads]
    revisions = list(
        Revision.objects.filter(read_id__in=read_ids)
        .select_related("author")
        .defer("shapes", "case_fields", "image_meta", "provenance")
        .order_by("created_at", "id")
    )
    submissions = list(
        ReadSubmission.objects.filter(read_id__in=read_ids)
        .select_related("submitted_by")
        .order_by("submitted_at", "id")
    )
    signatures = list(
        GoldSignature.objects.filter(read_id__in=read_ids)
        .select_related("signed_by")
        .order_by("signed_at", "id")
    )
    shown = set(read_ids)
    comments = [
        comment
        for comment in Comment.objects.filter(
            visible_comments_q(user=user, role=role, blinded=blinded), case=case
        )
        .select_related("author", "resolved_by", "read")
        .order_by("created_at", "id")
        # A comment on a read hidden from this user (an unaided role and the model's read)
        # stays hidden, unless they wrote it.
        if comment.read_id is None or comment.read_id in shown or comment.author_id == user.pk
    ]
    transitions = list(
        CaseTransition.objects.filter(case=case).select_related("actor").order_by("at", "id")
    )
    sees_all = sees_all_reads(role=role, blinded=blinded)
    claims = _visible_claims(case=case, user=user, sees_all=sees_all)
    return CaseHistory(
        reads=reads,
        revisions=revisions,
        transitions=transitions,
        claims=claims,
        submissions=submissions,
        comments=comments,
        signatures=signatures,
        sees_all=sees_all,
        user_id=user.pk,
    )
