"""Submitting a read: its author hands it in once the template's required shapes are there
(or with a written reason for what is not); the case moves to submitted once every read the
study design asks of it is in."""

from __future__ import annotations

from collections import Counter

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from annotation.domain_events import ReadSubmitted, publish
from annotation.models import (
    Case,
    CaseState,
    Claim,
    Image,
    Membership,
    Read,
    ReadKind,
    ReadSubmission,
    ReleaseReason,
)
from annotation.selectors.design import design_of, reads_owed
from annotation.selectors.queue import PURPOSE_OF_ROLE, claim_holds_slot_q
from annotation.services.cases import (
    IllegalTransitionError,
    WorkflowError,
    case_transitions_along,
)
from annotation.services.queue import StaleClaimError, claim_announce, claim_free_slot
from annotation.services.submit_check import ImageRef, Problem, submit_problems

SUBMITTABLE_STATES = (
    CaseState.NEW,
    CaseState.PRELABELLED,
    CaseState.IN_ANNOTATION,
    CaseState.RETURNED,
)


class SubmitRefusedError(WorkflowError):
    status = 403
    code = "not_your_read"


class AlreadySubmittedError(WorkflowError):
    status = 409
    code = "already_submitted"


class MissingShapesError(WorkflowError):
    """The read lacks required shapes or has implausible keypoints (422, listed)."""

    status = 422
    code = "missing_shapes"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(
            "The read is not complete: "
            + "; ".join(p.message for p in problems)
            + ". Add them, or submit with an override_reason.",
            missing=[p.as_dict() for p in problems],
        )


def read_problems(*, read: Read) -> list[Problem]:
    """What the read's head lacks (two queries: the case's images, the head's shapes)."""
    images = [
        ImageRef(id=row[0], series_id=row[1], orientation=row[2], index=row[3])
        for row in Image.objects.filter(series__case_id=read.case_id).values_list(
            "id", "series_id", "series__orientation", "index"
        )
    ]
    shapes = {} if read.head_id is None else read.revisions.get(pk=read.head_id).shapes
    return submit_problems(template=read.case.project.template, images=images, shapes=shapes)


def _author_role(read: Read) -> str:
    role = (
        Membership.objects.filter(project_id=read.case.project_id, user_id=read.author_id or 0)
        .values_list("role", flat=True)
        .first()
    )
    if role is None or read.kind != ReadKind.HUMAN:
        raise SubmitRefusedError("Only the project's members submit their own reads.")
    return role


def _end_claim(*, read: Read, user: User, role: str, claim_id: int | None) -> None:
    """End the user's live claim on the case as submitted, or record one that holds the slot
    (a read made without the queue). A named claim that is no longer live is refused."""
    purpose = PURPOSE_OF_ROLE[role]
    claims = Claim.objects.select_for_update(of=("self",)).select_related("case")
    live = claims.filter(case_id=read.case_id, user_id=user.pk, released_at__isnull=True).first()
    if claim_id is not None and (live is None or live.pk != claim_id):
        named = claims.filter(pk=claim_id, user_id=user.pk).first()
        if named is None:
            raise WorkflowError(f"No claim {claim_id} of yours.", claim=claim_id)
        raise StaleClaimError(named)
    now = timezone.now()
    if live is not None and live.expires_at <= now:
        raise StaleClaimError(live)
    if live is None:
        if Claim.objects.filter(
            claim_holds_slot_q(), case_id=read.case_id, user_id=user.pk, purpose=purpose
        ).exists():
            return  # a returned read handed in again: its slot is still the user's
        live = Claim(
            case_id=read.case_id,
            user=user,
            purpose=purpose,
            slot=claim_free_slot(case=read.case, purpose=purpose) or 1,
            claimed_at=now,
            expires_at=now,
        )
    live.read, live.released_at, live.release_reason = read, now, ReleaseReason.SUBMITTED
    live.released_by = user
    live.save()
    claim_announce(live, "submitted")


def _all_reads_in(case: Case) -> bool:
    """Every read the design asks of this case is submitted (three queries)."""
    design = design_of(project=case.project)
    needed = reads_owed(design=design, split=case.split, overlap=case.overlap)
    authors = Read.objects.filter(
        case=case, kind=ReadKind.HUMAN, submitted_at__isnull=False
    ).values_list("author_id", flat=True)
    roles = Counter(
        Membership.objects.filter(
            project_id=case.project_id, user_id__in=list(authors)
        ).values_list("role", flat=True)
    )
    return all(roles[role] >= count for role, count in needed.items())


def read_submit(
    *, read: Read, user: User, override_reason: str = "", claim_id: int | None = None
) -> ReadSubmission:
    """Hand the read in (its author only). Missing shapes refuse it (422 listing them) unless
    `override_reason` says why; the case moves to submitted when all its reads are in."""
    with transaction.atomic():
        read = (
            Read.objects.select_for_update(of=("self",))
            .select_related("case__project")
            .get(pk=read.pk)
        )
        if read.author_id != user.pk or read.kind != ReadKind.HUMAN:
            raise SubmitRefusedError(
                "A read is submitted by its author only; this one is not yours."
            )
        role = _author_role(read)
        if read.submitted_at is not None:
            raise AlreadySubmittedError(
                "This read is already submitted.", submitted_at=read.submitted_at.isoformat()
            )
        state = Case.objects.values_list("state", flat=True).get(pk=read.case_id)
        if state not in SUBMITTABLE_STATES:
            raise IllegalTransitionError(current=state, requested=CaseState.SUBMITTED)
        problems = read_problems(read=read)
        if problems and not override_reason.strip():
            raise MissingShapesError(problems)
        _end_claim(read=read, user=user, role=role, claim_id=claim_id)
        now = timezone.now()
        submission = ReadSubmission.objects.create(
            read=read,
            revision_id=read.head_id,
            submitted_by=user,
            submitted_at=now,
            override_reason=override_reason.strip() if problems else "",
            missing=[p.as_dict() for p in problems],
        )
        Read.objects.filter(pk=read.pk).update(submitted_at=now)
        read.submitted_at = now
        publish(
            ReadSubmitted(
                read_id=read.pk,
                case_id=read.case_id,
                project_id=read.case.project_id,
                author_id=user.pk,
                overridden=bool(problems),
            )
        )
        steps = [state] if state == CaseState.IN_ANNOTATION else [state, CaseState.IN_ANNOTATION]
        if _all_reads_in(read.case):
            steps.append(CaseState.SUBMITTED)
        if len(steps) > 1:
            reason = override_reason.strip() if problems else ""
            case_transitions_along(case=read.case, path=tuple(steps), actor=user, reason=reason)
        return submission
