"""Moving a case through its states (CaseState): one table of legal moves; every move is
logged (CaseTransition) and publishes CaseStateChanged."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

from django.contrib.auth.models import User
from django.db import transaction

from annotation.domain_events import CaseStateChanged, publish
from annotation.models import Case, CaseState, CaseTransition

S = CaseState
# Which states a case may move to from each state (issue 9 §2). Who may ask for a move is
# the calling service's rule (submit, claim, review, sign); this table is only the order.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    S.NEW: frozenset({S.PRELABELLED, S.IN_ANNOTATION}),
    S.PRELABELLED: frozenset({S.IN_ANNOTATION}),
    S.IN_ANNOTATION: frozenset({S.SUBMITTED}),
    # A submitted case waits for a reviewer; a reviewer who lets go puts it back.
    S.SUBMITTED: frozenset({S.IN_REVIEW}),
    S.IN_REVIEW: frozenset({S.RETURNED, S.GOLD, S.SUBMITTED}),
    S.RETURNED: frozenset({S.IN_ANNOTATION}),
    # Reopening gold needs a reason.
    S.GOLD: frozenset({S.IN_REVIEW}),
}
REASON_REQUIRED: frozenset[tuple[str, str]] = frozenset({(S.GOLD, S.IN_REVIEW)})


class WorkflowError(Exception):
    """A review-workflow request the domain refuses; APIs answer `status` with `detail`,
    `code` and the extra fields."""

    status = 400
    code = "workflow_error"

    def __init__(self, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class IllegalTransitionError(WorkflowError):
    """The case is not in a state from which the move is allowed (409)."""

    status = 409
    code = "illegal_transition"

    def __init__(self, *, current: str, requested: str) -> None:
        allowed = sorted(TRANSITIONS.get(current, frozenset()))
        super().__init__(
            f"The case is {current}; it cannot move to {requested}. "
            f"From {current} it may move to: {', '.join(allowed) or 'nothing'}.",
            state=current,
            requested=requested,
            allowed=allowed,
        )


class ReasonRequiredError(WorkflowError):
    status = 400
    code = "reason_required"

    def __init__(self, *, current: str, requested: str) -> None:
        super().__init__(
            f"Moving a case from {current} to {requested} needs a written reason.",
            reason=["This field is required."],
        )


def transition_allowed(*, from_state: str, to_state: str) -> bool:
    return to_state in TRANSITIONS.get(from_state, frozenset())


def _check(*, from_state: str, to_state: str, reason: str) -> None:
    if not transition_allowed(from_state=from_state, to_state=to_state):
        raise IllegalTransitionError(current=from_state, requested=to_state)
    if (from_state, to_state) in REASON_REQUIRED and not reason.strip():
        raise ReasonRequiredError(current=from_state, requested=to_state)


def _log_and_publish(
    *, case: Case, from_state: str, to_state: str, actor: User | None, reason: str
) -> CaseTransition:
    transition = CaseTransition.objects.create(
        case=case, from_state=from_state, to_state=to_state, actor=actor, reason=reason.strip()
    )
    case.state = to_state
    publish(
        CaseStateChanged(
            case_id=case.pk,
            project_id=case.project_id,
            previous=from_state,
            state=to_state,
            actor_id=None if actor is None else actor.pk,
            reason=transition.reason,
            transition_id=transition.pk,
        )
    )
    return transition


def case_state_move(
    *,
    case: Case,
    from_state: str,
    to_state: str,
    actor: User | None = None,
    reason: str = "",
) -> bool:
    """Move the case from `from_state` to `to_state`; False (nothing logged or published)
    when the case is no longer in `from_state`. A conditional UPDATE, so two movers cannot
    both win. A move the table does not allow raises IllegalTransitionError."""
    _check(from_state=from_state, to_state=to_state, reason=reason)
    with transaction.atomic():
        moved = Case.objects.filter(pk=case.pk, state=from_state).update(state=to_state)
        if not moved:
            return False
        _log_and_publish(
            case=case, from_state=from_state, to_state=to_state, actor=actor, reason=reason
        )
    return True


def case_transition(
    *, case: Case, to_state: str, actor: User | None, reason: str = ""
) -> CaseTransition:
    """Move the case from whatever state it is in now to `to_state` (locking its row);
    IllegalTransitionError (409) names the current state and the allowed ones."""
    with transaction.atomic():
        current = Case.objects.select_for_update().values_list("state", flat=True).get(pk=case.pk)
        _check(from_state=current, to_state=to_state, reason=reason)
        Case.objects.filter(pk=case.pk).update(state=to_state)
        return _log_and_publish(
            case=case, from_state=current, to_state=to_state, actor=actor, reason=reason
        )


def case_transitions_along(
    *, case: Case, path: tuple[str, ...], actor: User | None, reason: str = ""
) -> list[CaseTransition]:
    """Move through `path` in order, starting wherever the case is in it: a submit from a
    returned case goes returned -> in_annotation -> submitted. A state not on the path
    raises IllegalTransitionError towards the path's end."""
    with transaction.atomic():
        current = Case.objects.select_for_update().values_list("state", flat=True).get(pk=case.pk)
        if current not in path[:-1]:
            raise IllegalTransitionError(current=current, requested=path[-1])
        steps = path[path.index(current) :]
        moves = []
        for from_state, to_state in itertools.pairwise(steps):
            _check(from_state=from_state, to_state=to_state, reason=reason)
            moves.append(
                _log_and_publish(
                    case=case, from_state=from_state, to_state=to_state, actor=actor, reason=reason
                )
            )
        Case.objects.filter(pk=case.pk).update(state=path[-1])
        return moves


class NotGoldError(WorkflowError):
    status = 409
    code = "not_gold"

    def __init__(self, *, current: str) -> None:
        super().__init__(
            f"Only a gold case is reopened; the case is {current}.", state=current, requested=S.GOLD
        )


def case_reopen(*, case: Case, actor: User, reason: str) -> CaseTransition:
    """gold -> in_review with a written reason (a reviewer's or lead's, checked by the API)."""
    with transaction.atomic():
        current = Case.objects.select_for_update().values_list("state", flat=True).get(pk=case.pk)
        if current != S.GOLD:
            raise NotGoldError(current=current)
        return case_transition(case=case, to_state=S.IN_REVIEW, actor=actor, reason=reason)
