"""What a user's "Next case" may offer: the cases they still owe under the study design, by
split priority, then by the project's ordering (a registry the active-learning work fills)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import Case as SqlCase
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce

from annotation.models import (
    Case,
    CaseState,
    Claim,
    ClaimPurpose,
    Project,
    Read,
    ReadKind,
    ReleaseReason,
    Role,
    Split,
    StudyDesign,
)
from annotation.selectors.design import reads_owed

# The purpose of each role's queue; roles not listed review.
PURPOSE_OF_ROLE: dict[str, str] = {
    Role.ANNOTATOR: ClaimPurpose.ANNOTATE,
    Role.READER: ClaimPurpose.READ,
    Role.REVIEWER: ClaimPurpose.REVIEW,
    Role.LEAD: ClaimPurpose.REVIEW,
}
# Whose reads fill a purpose's slots (the design counts reads per role).
ROLE_OF_PURPOSE: dict[str, str] = {
    ClaimPurpose.ANNOTATE: Role.ANNOTATOR,
    ClaimPurpose.READ: Role.READER,
}
# Test cases first: the gold standard of the test set is what the study stands on.
SPLIT_PRIORITY: tuple[str, ...] = (Split.TEST, Split.TUNE, Split.TRAIN, "")
# States in which a case takes annotate/read claims, and review claims.
OPEN_FOR_READS = (CaseState.NEW, CaseState.PRELABELLED, CaseState.IN_ANNOTATION)
OPEN_FOR_REVIEW = (CaseState.SUBMITTED, CaseState.IN_REVIEW)

# An ordering takes the candidate cases and the project and returns order_by expressions
# (after split priority). Registered by name; settings.QUEUE_ORDERING picks one.
Ordering = Callable[[QuerySet[Case], Project], list[Combinable | str]]
QUEUE_ORDERINGS: dict[str, Ordering] = {}


def queue_ordering_register(name: str) -> Callable[[Ordering], Ordering]:
    """Decorator: make an ordering available as settings.QUEUE_ORDERING = name."""

    def register(function: Ordering) -> Ordering:
        QUEUE_ORDERINGS[name] = function
        return function

    return register


@queue_ordering_register("oldest_first")
def oldest_first(cases: QuerySet[Case], project: Project) -> list[Combinable | str]:
    return ["created_at", "id"]


def queue_ordering() -> Ordering:
    name = getattr(settings, "QUEUE_ORDERING", "oldest_first")
    return QUEUE_ORDERINGS[name]


def claim_holds_slot_q(prefix: str = "") -> Q:
    """A claim that holds its slot: live, or ended by its read's submission."""
    return Q(**{f"{prefix}released_at__isnull": True}) | Q(
        **{f"{prefix}release_reason": ReleaseReason.SUBMITTED}
    )


def _slots_expression(*, design: StudyDesign, purpose: str) -> Any:
    """How many slots of the purpose each case has, as a CASE over split and overlap."""
    if purpose == ClaimPurpose.REVIEW:
        return Value(1)
    role = ROLE_OF_PURPOSE[purpose]
    whens = [
        When(
            split=split,
            overlap=overlap,
            then=Value(reads_owed(design=design, split=split, overlap=overlap).get(role, 0)),
        )
        for split in SPLIT_PRIORITY
        for overlap in (False, True)
    ]
    return SqlCase(*whens, default=Value(0), output_field=IntegerField())


def queue_candidates(
    *, project: Project, design: StudyDesign, user_id: int, purpose: str, split: str
) -> QuerySet[Case]:
    """Cases of one split the user may claim for the purpose, best first (one query): open
    for it, with a free slot, and no claim or read of theirs holding one already. Callers
    go through SPLIT_PRIORITY split by split: each query walks the case_queue_order index in
    the ordering and stops at the first free case instead of sorting the project."""
    holders = (
        Claim.objects.filter(claim_holds_slot_q(), case=OuterRef("pk"), purpose=purpose)
        .order_by()
        .values("case")
        .annotate(n=Count("user", distinct=True))
        .values("n")
    )
    mine = Claim.objects.filter(case=OuterRef("pk"), user_id=user_id)
    states = OPEN_FOR_REVIEW if purpose == ClaimPurpose.REVIEW else OPEN_FOR_READS
    cases = (
        Case.objects.filter(project=project, split=split, state__in=states)
        .annotate(
            slots=_slots_expression(design=design, purpose=purpose),
            holders=Coalesce(Subquery(holders, output_field=IntegerField()), Value(0)),
        )
        .filter(holders__lt=F("slots"))
        .exclude(Exists(mine.filter(released_at__isnull=True)))
    )
    if purpose == ClaimPurpose.REVIEW:
        # The annotators and readers of a case do not review it.
        cases = cases.exclude(Exists(Read.objects.filter(case=OuterRef("pk"), author_id=user_id)))
    else:
        cases = cases.exclude(Exists(mine.filter(claim_holds_slot_q())))
    return cases.order_by(*queue_ordering()(cases, project))


def returned_reads(*, project: Project, user_id: int) -> QuerySet[Read]:
    """The user's reads a reviewer returned (submitted once, not now), oldest case first."""
    return (
        Read.objects.filter(
            case__project=project,
            case__state__in=(CaseState.RETURNED, CaseState.IN_ANNOTATION),
            kind=ReadKind.HUMAN,
            author_id=user_id,
            submitted_at__isnull=True,
            submissions__isnull=False,
        )
        .distinct()
        .order_by("case__created_at", "case_id")
    )


def live_claims(*, project: Project) -> QuerySet[Claim]:
    """Every unreleased claim of the project, with case and user, newest first."""
    return (
        Claim.objects.filter(case__project=project, released_at__isnull=True)
        .select_related("case", "user")
        .order_by("-claimed_at", "-id")
    )


def my_claim_on_case(*, case_id: int, user_id: int | None) -> int | None:
    """The id of the user's unreleased claim on the case (the case page keeps it alive)."""
    if user_id is None:
        return None
    live = Claim.objects.filter(case_id=case_id, user_id=user_id, released_at__isnull=True)
    return live.values_list("id", flat=True).first()


def my_live_claim(*, project: Project, user_id: int) -> Claim | None:
    return (
        Claim.objects.filter(case__project=project, user_id=user_id, released_at__isnull=True)
        .select_related("case")
        .order_by("claimed_at", "id")
        .first()
    )
