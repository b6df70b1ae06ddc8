"""The gold read of a case: created by the first reviewer action, composed per structure
from other reads, edited like any read (append-only revisions), signed, or the case
returned to its annotators with comments.

Every write checks the one write rule (annotation.permissions) and runs in one transaction:
a refused request changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotation.domain_events import GoldSigned, RevisionSaved, publish
from annotation.live import case_group, event_publish, project_group
from annotation.models import (
    Case,
    CaseState,
    CaseTransition,
    Claim,
    ClaimPurpose,
    Comment,
    GoldSignature,
    Read,
    ReadKind,
    ReleaseReason,
    Revision,
    Role,
)
from annotation.permissions import (
    may_review,
    require,
    require_append_revision,
    visible_reads_q,
)
from annotation.selectors.agreement import KEYPOINTS, Grid, template_structures
from annotation.selectors.design import role_unaided
from annotation.selectors.geometry import image_geometries
from annotation.services.cases import IllegalTransitionError, WorkflowError, case_transition
from annotation.services.comments import Pin, comment_post
from annotation.services.gold_compose import (
    FUSE_METHODS,
    ComposeError,
    StructureSpec,
    compose,
)
from annotation.services.queue import claim_announce
from annotation.services.revisions import revision_create

GOLD_NAME = "Gold standard"
SIGNABLE_STATES = (CaseState.IN_REVIEW, CaseState.GOLD)


class ReadNotVisibleError(WorkflowError):
    """A request names a read the user may not see, or not of this case: nothing changed."""

    status = 404
    code = "read_not_visible"

    def __init__(self, field: str, read_id: object) -> None:
        message = f"read {read_id} is not a read of this case that you may see"
        super().__init__(message, **{field: [message]})


class SignConflictError(WorkflowError):
    """Signing lost: the gold is signed already, or changed, or the case cannot be signed.
    Carries the gold's head and its signature (the winner's, when there is one)."""

    status = 409
    code = "sign_conflict"

    def __init__(
        self, message: str, *, head: Revision | None, signature: GoldSignature | None
    ) -> None:
        super().__init__(message)
        self.head = head
        self.signature = signature


# ----- the gold read -----


def gold_read_get_or_create(*, case: Case, user: User, role: str | None) -> tuple[Read, bool]:
    """The case's one gold read, created by the first reviewer who acts on it."""
    require(may_review(role=role), "only the project's reviewers and leads make the gold standard")
    existing = Read.objects.filter(case=case, kind=ReadKind.GOLD).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return Read.objects.create(case=case, kind=ReadKind.GOLD, name=GOLD_NAME), True
    except IntegrityError:
        # Another reviewer created it at the same moment (one gold per case).
        return Read.objects.get(case=case, kind=ReadKind.GOLD), False


# ----- compose -----


def _source_reads(*, case: Case, user: User, role: str, ids: set[int]) -> dict[int, Read]:
    visible = visible_reads_q(
        user=user,
        role=role,
        blinded=case.project.blinded,
        unaided=role_unaided(project_id=case.project_id, role=role),
    )
    return {
        r.pk: r
        for r in Read.objects.filter(visible, case=case, pk__in=ids)
        .exclude(kind=ReadKind.GOLD)
        .select_related("head")
    }


def _ids(structure: str, body: Mapping[str, Any]) -> list[Any]:
    if "from" in body:
        return [body["from"]]
    reads = body.get("reads")
    if not isinstance(reads, list) or not reads:
        raise ComposeError(f"structures.{structure}.reads", "name at least one read to fuse")
    return reads


def _method(structure: str, body: Mapping[str, Any]) -> str:
    if "from" in body:
        return "copy"
    fuse = body.get("fuse")
    if fuse not in FUSE_METHODS:
        raise ComposeError(
            f"structures.{structure}.fuse",
            f"give 'from': <read id> or 'fuse': one of {sorted(FUSE_METHODS)}",
        )
    method = FUSE_METHODS[str(fuse)]
    if (structure == KEYPOINTS) != (method == "mean"):
        what = (
            "keypoints fuse by 'mean'"
            if structure == KEYPOINTS
            else "areas fuse by 'majority' or 'staple'"
        )
        raise ComposeError(f"structures.{structure}.fuse", f"{structure}: {what}")
    return method


def compose_specs(
    *, case: Case, user: User, role: str, request: Mapping[str, Any]
) -> list[StructureSpec]:
    """Check a compose request ({structure: {"from": id} | {"fuse": m, "reads": [ids]}})
    and fetch its reads: ComposeError (400) or ReadNotVisibleError (404) naming the field."""
    if not isinstance(request, Mapping) or not request:
        raise ComposeError("structures", "name at least one structure to compose")
    plan: list[tuple[str, str, list[Any]]] = []
    for structure, body in request.items():
        if not isinstance(body, Mapping):
            raise ComposeError(f"structures.{structure}", "give an object")
        method = _method(structure, body)
        plan.append((str(structure), method, _ids(structure, body)))
    wanted = {int(i) for _, _, ids in plan for i in ids if isinstance(i, int)}
    found = _source_reads(case=case, user=user, role=role, ids=wanted)
    specs = []
    for structure, method, ids in plan:
        field = f"structures.{structure}"
        for read_id in ids:
            if not isinstance(read_id, int) or read_id not in found:
                raise ReadNotVisibleError(field, read_id)
            if found[read_id].head is None:
                raise ComposeError(field, f"read {read_id} has no revision yet")
        specs.append(StructureSpec(structure, tuple(found[i] for i in ids), method))
    return specs


def _grids(case: Case, specs: Sequence[StructureSpec]) -> dict[str, Grid]:
    ids = {key for s in specs for r in s.reads for key in r.head.shapes}  # type: ignore[union-attr]
    return {
        k: Grid(rows=g.rows, columns=g.columns, spacing=g.spacing)
        for k, g in image_geometries(case_id=case.pk, image_ids=ids).items()
    }


def _describe(specs: Sequence[StructureSpec]) -> str:
    parts = []
    for spec in specs:
        names = ", ".join(str(r.pk) for r in spec.reads)
        how = "from read" if spec.method == "copy" else f"{spec.method} of reads"
        parts.append(f"{spec.structure} {how} {names}")
    return ("composed: " + "; ".join(parts))[:500]


def gold_compose(
    *, case: Case, user: User, role: str, parent_id: int | None, request: Mapping[str, Any]
) -> Revision:
    """Append a gold revision with the requested structures taken or fused from other
    reads (the others kept from the gold's head), recording each shape's provenance.
    StaleParent (409) when the gold moved since ``parent_id``."""
    require(may_review(role=role), "only the project's reviewers and leads make the gold standard")
    specs = compose_specs(case=case, user=user, role=role, request=request)
    with transaction.atomic():
        gold, _ = gold_read_get_or_create(case=case, user=user, role=role)
        require_append_revision(read=gold, user=user, role=role)
        head = Revision.objects.filter(pk=gold.head_id).first() if gold.head_id else None
        result = compose(
            base=head.shapes if head else {},
            base_provenance=head.provenance if head else {},
            specs=specs,
            structures=template_structures(case.project.template),
            grids=_grids(case, specs),
        )
        revision = revision_create(
            read=gold,
            parent_id=parent_id,
            shapes=result.shapes,
            case_fields=head.case_fields if head else {},
            author=user,
            message=_describe(specs),
        )
        Revision.objects.filter(pk=revision.pk).update(provenance=result.provenance)
        revision.provenance = result.provenance
    return revision


def gold_provenance_on_save(event: RevisionSaved) -> None:
    """Subscriber of RevisionSaved (in the save's transaction): a gold revision saved from
    the editor keeps the provenance of every shape unchanged since its parent; a new or
    changed shape is recorded as edited in this revision."""
    revision = event.revision
    if revision.read.kind != ReadKind.GOLD or revision.provenance:
        return
    parent = (
        Revision.objects.only("shapes", "provenance").filter(pk=revision.parent_id).first()
        if revision.parent_id is not None
        else None
    )
    provenance: dict[str, list[dict[str, Any] | None]] = {}
    for image, items in revision.shapes.items():
        before = parent.shapes.get(image, []) if parent else []
        marks = parent.provenance.get(image, []) if parent else []
        entries: list[dict[str, Any] | None] = []
        for shape in items:
            index = next((i for i, old in enumerate(before) if old == shape), None)
            if index is not None and index < len(marks) and marks[index] is not None:
                entries.append(marks[index])
            else:
                entries.append(_edited(shape, revision))
        provenance[image] = entries
    Revision.objects.filter(pk=revision.pk).update(provenance=provenance)
    revision.provenance = provenance


def _edited(shape: Mapping[str, Any], revision: Revision) -> dict[str, Any]:
    return {
        "label": str(shape.get("label") or ""),
        "method": "edit",
        "sources": [{"read": revision.read_id, "revision": revision.pk}],
        "parameters": {},
    }


# ----- sign -----


def _conflict(message: str, gold: Read | None) -> SignConflictError:
    head = (
        Revision.objects.select_related("author").filter(pk=gold.head_id).first()
        if gold is not None and gold.head_id
        else None
    )
    signature = (
        GoldSignature.objects.select_related("signed_by").filter(revision=head).first()
        if head
        else None
    )
    return SignConflictError(message, head=head, signature=signature)


def gold_sign(*, case: Case, user: User, role: str, revision_id: int) -> GoldSignature:
    """Sign the gold head ``revision_id``: record signer and time, move the case to gold,
    publish GoldSigned. Of two reviewers signing at once one wins; the other gets
    SignConflictError with the winner's signature. A gold changed since signing signs again."""
    require(may_review(role=role), "only the project's reviewers and leads sign the gold standard")
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        gold = Read.objects.filter(case=case, kind=ReadKind.GOLD).first()
        if gold is None or gold.head_id is None:
            raise _conflict("this case has no gold standard yet: compose or edit it first", gold)
        if GoldSignature.objects.filter(revision_id=gold.head_id).exists():
            raise _conflict("the gold standard is signed already", gold)
        if gold.head_id != revision_id:
            raise _conflict(
                f"revision {revision_id} is not the gold's newest: review revision "
                f"{gold.head_id} and sign it",
                gold,
            )
        if locked.state not in SIGNABLE_STATES:
            raise IllegalTransitionError(current=locked.state, requested=CaseState.GOLD)
        signature = GoldSignature.objects.create(
            read=gold, revision_id=gold.head_id, signed_by=user
        )
        _end_review_claims(case=case, actor=user)
        if locked.state == CaseState.IN_REVIEW:
            case_transition(
                case=locked, to_state=CaseState.GOLD, actor=user, reason="gold standard signed"
            )
        publish(
            GoldSigned(
                read_id=gold.pk,
                case_id=case.pk,
                project_id=case.project_id,
                signed_by=user,
                revision_id=signature.revision_id,
                signed_at=signature.signed_at,
            )
        )
    case.state = locked.state
    return signature


def gold_signed_announce(event: GoldSigned) -> None:
    """Subscriber, after commit: `gold.signed` to the case's viewers and the project's case
    list (no read content: every member may know that a case was signed)."""
    payload = {
        "case": event.case_id,
        "read": event.read_id,
        "revision": event.revision_id,
        "signed_by": {"id": event.signed_by.pk, "username": event.signed_by.get_username()},
        "signed_at": None if event.signed_at is None else event.signed_at.isoformat(),
    }
    for group in (case_group(event.case_id), project_group(event.project_id)):
        event_publish(group=group, type="gold.signed", payload=payload)


def _end_review_claims(*, case: Case, actor: User) -> None:
    """The review is decided (signed or returned): its live claims end."""
    claims = Claim.objects.select_for_update().filter(
        case=case, purpose=ClaimPurpose.REVIEW, released_at__isnull=True
    )
    for claim in claims.select_related("case"):
        claim.released_at = timezone.now()
        claim.release_reason = ReleaseReason.DECIDED
        claim.released_by = actor
        claim.save(update_fields=["released_at", "release_reason", "released_by"])
        claim_announce(claim, ReleaseReason.DECIDED)


# ----- return -----


@dataclass(frozen=True)
class ReturnComment:
    """A comment handed to the annotators with a return (on their read, pinned or not)."""

    body: object
    read_id: int | None = None
    pin: Pin | None = None


def case_return(
    *,
    case: Case,
    user: User,
    role: str,
    reason: str,
    comments: Sequence[ReturnComment] = (),
) -> tuple[CaseTransition, list[Comment]]:
    """Return a case in review to its annotators (it reappears in their queue). The new
    comments and the review's open threads not yet handed over are attached to this
    return. A bad comment refuses the whole return: nothing changes."""
    require(may_review(role=role), "only the project's reviewers and leads return cases")
    with transaction.atomic():
        transition = case_transition(
            case=case, to_state=CaseState.RETURNED, actor=user, reason=reason
        )
        created = [
            comment_post(case=case, user=user, role=role, body=c.body, read_id=c.read_id, pin=c.pin)
            for c in comments
        ]
        Comment.objects.filter(
            case=case, parent__isnull=True, returned_with__isnull=True, resolved_at__isnull=True
        ).update(returned_with=transition)
        # The annotators' reads are theirs to fix again: each reappears in its author's queue.
        Read.objects.filter(
            case=case,
            kind=ReadKind.HUMAN,
            submitted_at__isnull=False,
            author__memberships__project_id=case.project_id,
            author__memberships__role=Role.ANNOTATOR,
        ).update(submitted_at=None)
        _end_review_claims(case=case, actor=user)
    for comment in created:
        comment.returned_with = transition
    return transition, created
