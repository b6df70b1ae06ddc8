"""Work queues: "Next case" claims a slot of work for the user; claims expire unless renewed,
and leads release or reassign them. Two concurrent `next` calls never get the same slot:
candidate rows are locked with SKIP LOCKED and the live-claim constraints have the last word.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotation.domain_events import ClaimChanged, publish
from annotation.models import Case, CaseState, Claim, ClaimPurpose, Project, ReleaseReason
from annotation.selectors.access import membership_role
from annotation.selectors.design import design_of
from annotation.selectors.queue import (
    PURPOSE_OF_ROLE,
    SPLIT_PRIORITY,
    claim_holds_slot_q,
    my_live_claim,
    queue_candidates,
    returned_reads,
)
from annotation.services.cases import WorkflowError, case_transition, case_transitions_along

CLAIM_TTL_S_DEFAULT = 30 * 60
# Concurrent `next` calls that lose a slot to another caller try the next candidate.
CLAIM_ATTEMPTS = 8


class ClaimNotFoundError(WorkflowError):
    status = 404
    code = "no_such_claim"


class StaleClaimError(WorkflowError):
    """The claim ended (expired, released, reassigned, submitted): take the case again."""

    status = 409
    code = "stale_claim"

    def __init__(self, claim: Claim) -> None:
        why = claim.release_reason or ReleaseReason.EXPIRED
        super().__init__(
            f"Claim {claim.pk} on {claim.case.pseudonym} has ended ({why}); "
            "ask for the next case again.",
            claim=claim.pk,
            release_reason=why,
        )


class ReassignError(WorkflowError):
    status = 400
    code = "cannot_reassign"


def claim_ttl() -> datetime.timedelta:
    return datetime.timedelta(seconds=getattr(settings, "CLAIM_TTL_S", CLAIM_TTL_S_DEFAULT))


def claim_announce(claim: Claim, action: str) -> None:
    publish(
        ClaimChanged(
            claim_id=claim.pk,
            case_id=claim.case_id,
            project_id=claim.case.project_id,
            user_id=claim.user_id,
            purpose=claim.purpose,
            action=action,
        )
    )


def claims_expire(*, project: Project) -> int:
    """Release the project's claims whose time ran out (they return to the queue)."""
    now = timezone.now()
    with transaction.atomic():
        expired = list(
            Claim.objects.select_for_update(skip_locked=True)
            .filter(case__project=project, released_at__isnull=True, expires_at__lte=now)
            .select_related("case")
        )
        for claim in expired:
            claim.released_at, claim.release_reason = now, ReleaseReason.EXPIRED
            claim_announce(claim, "expired")
        Claim.objects.bulk_update(expired, ["released_at", "release_reason"])
    return len(expired)


def claim_free_slot(*, case: Case, purpose: str, slots: int | None = None) -> int | None:
    """The lowest slot of the purpose no claim holds; None when all `slots` are held."""
    held = set(
        Claim.objects.filter(claim_holds_slot_q(), case=case, purpose=purpose).values_list(
            "slot", flat=True
        )
    )
    free = next(slot for slot in range(1, len(held) + 2) if slot not in held)
    return free if slots is None or free <= slots else None


def _start_work(*, case: Case, purpose: str, actor: User) -> None:
    """A claim moves the case on: reads start annotation, a review starts review."""
    if purpose == ClaimPurpose.REVIEW:
        if case.state == CaseState.SUBMITTED:
            case_transition(case=case, to_state=CaseState.IN_REVIEW, actor=actor)
    elif case.state in (CaseState.NEW, CaseState.PRELABELLED, CaseState.RETURNED):
        case_transitions_along(case=case, path=(case.state, CaseState.IN_ANNOTATION), actor=actor)


def _claim_create(*, case: Case, user: User, purpose: str, slot: int) -> Claim:
    now = timezone.now()
    claim = Claim.objects.create(
        case=case,
        user=user,
        purpose=purpose,
        slot=slot,
        claimed_at=now,
        expires_at=now + claim_ttl(),
    )
    claim_announce(claim, "claimed")
    return claim


def _claim_returned(*, project: Project, user: User, purpose: str) -> Claim | None:
    read = returned_reads(project=project, user_id=user.pk).select_related("case").first()
    if read is None:
        return None
    slot = claim_free_slot(case=read.case, purpose=purpose) or 1
    claim = _claim_create(case=read.case, user=user, purpose=purpose, slot=slot)
    claim.read = read
    claim.save(update_fields=["read"])
    _start_work(case=read.case, purpose=purpose, actor=user)
    return claim


class _SlotLostError(Exception):
    """Others took every slot of the locked case meanwhile (rolls the attempt back)."""


def _try_claim(*, case: Case, user: User, purpose: str) -> Claim:
    """Claim a free slot of the locked case, or raise _SlotLostError / IntegrityError."""
    slot = claim_free_slot(case=case, purpose=purpose, slots=getattr(case, "slots", None))
    if slot is None:
        raise _SlotLostError
    claim = _claim_create(case=case, user=user, purpose=purpose, slot=slot)
    _start_work(case=case, purpose=purpose, actor=user)
    return claim


def _best_case(*, project: Project, user: User, purpose: str, skip_locked: bool) -> Case | None:
    """Lock the best case the user may claim: test before tune before train (SPLIT_PRIORITY)."""
    design = design_of(project=project)
    for split in SPLIT_PRIORITY:
        candidates = queue_candidates(
            project=project, design=design, user_id=user.pk, purpose=purpose, split=split
        )
        case = candidates.select_for_update(skip_locked=skip_locked, of=("self",)).first()
        if case is not None:
            return case
    return None


def _claim_next_candidate(*, project: Project, user: User, purpose: str) -> Claim | None:
    """Lock the best candidate others have not locked (SKIP LOCKED) and claim it; when all
    are locked, wait for the best one instead, so that a free slot behind a lock is not
    missed (a second slot of an overlap case). Each attempt is a savepoint: a lost one
    lets go of its row lock, so two callers never wait on each other's locks."""
    for attempt in range(CLAIM_ATTEMPTS):
        skip_locked = attempt % 2 == 0
        try:
            with transaction.atomic():
                case = _best_case(
                    project=project, user=user, purpose=purpose, skip_locked=skip_locked
                )
                if case is None:
                    if skip_locked:
                        continue
                    return None
                return _try_claim(case=case, user=user, purpose=purpose)
        except (_SlotLostError, IntegrityError):
            continue
    return None


def queue_next(*, project: Project, user: User, role: str) -> Claim | None:
    """The user's claim on their next case: the one they hold (renewed), else a read a
    reviewer returned to them, else the best case they still owe; None when none is left."""
    purpose = PURPOSE_OF_ROLE[role]
    claims_expire(project=project)
    with transaction.atomic():
        held = my_live_claim(project=project, user_id=user.pk)
        if held is not None:
            held.expires_at = timezone.now() + claim_ttl()
            held.save(update_fields=["expires_at"])
            return held
        if purpose != ClaimPurpose.REVIEW:
            returned = _claim_returned(project=project, user=user, purpose=purpose)
            if returned is not None:
                return returned
        return _claim_next_candidate(project=project, user=user, purpose=purpose)


def _locked_claim(*, claim_id: int, **filters: Any) -> Claim:
    claim = (
        Claim.objects.select_for_update(of=("self",))
        .select_related("case")
        .filter(pk=claim_id, **filters)
        .first()
    )
    if claim is None:
        raise ClaimNotFoundError(f"No claim {claim_id} of yours.", claim=claim_id)
    return claim


def _live_or_stale(claim: Claim) -> None:
    """Refuse (409, nothing written) a claim that ended or ran out of time."""
    if claim.released_at is not None or claim.expires_at <= timezone.now():
        raise StaleClaimError(claim)


def claim_renew(*, claim_id: int, user: User) -> Claim:
    """Push the user's live claim's expiry a full term on (while its case is open)."""
    with transaction.atomic():
        claim = _locked_claim(claim_id=claim_id, user_id=user.pk)
        _live_or_stale(claim)
        claim.expires_at = timezone.now() + claim_ttl()
        claim.save(update_fields=["expires_at"])
        claim_announce(claim, "renewed")
        return claim


def _end(claim: Claim, *, reason: str, actor: User) -> None:
    claim.released_at, claim.release_reason, claim.released_by = timezone.now(), reason, actor
    claim.save(update_fields=["released_at", "release_reason", "released_by"])
    claim_announce(claim, reason)
    if claim.purpose == ClaimPurpose.REVIEW and reason == ReleaseReason.RELEASED:
        state = Case.objects.values_list("state", flat=True).get(pk=claim.case_id)
        if state == CaseState.IN_REVIEW:
            # The reviewer let go: the case waits in the review queue again.
            case_transition(case=claim.case, to_state=CaseState.SUBMITTED, actor=actor)


def claim_release(*, claim: Claim, actor: User) -> Claim:
    """End a live claim (its holder or a lead); its slot returns to the queue."""
    with transaction.atomic():
        locked = _locked_claim(claim_id=claim.pk)
        _live_or_stale(locked)
        _end(locked, reason=ReleaseReason.RELEASED, actor=actor)
        return locked


def claim_reassign(*, claim: Claim, to_user_id: int, actor: User) -> Claim:
    """A lead hands a live claim's slot to another member whose queue has that purpose."""
    role = membership_role(user=User(pk=to_user_id), project_id=claim.case.project_id)
    if role is None:
        raise ReassignError(
            f"User {to_user_id} is not a member of this project.", user=["not a member"]
        )
    if PURPOSE_OF_ROLE[role] != claim.purpose:
        raise ReassignError(
            f"A {role} does not take {claim.purpose} claims.",
            user=[f"a {role} does not take {claim.purpose} claims"],
        )
    target = User.objects.get(pk=to_user_id)
    with transaction.atomic():
        locked = _locked_claim(claim_id=claim.pk)
        _live_or_stale(locked)
        if locked.user_id == to_user_id:
            return locked
        _end(locked, reason=ReleaseReason.REASSIGNED, actor=actor)
        try:
            with transaction.atomic():
                return _claim_create(
                    case=locked.case,
                    user=target,
                    purpose=locked.purpose,
                    slot=locked.slot,
                )
        except IntegrityError as exc:
            raise ReassignError(
                f"User {to_user_id} already holds a claim on {locked.case.pseudonym}.",
                user=["already holds a claim on this case"],
            ) from exc
