"""Moving a case through its states (CaseState); every move publishes CaseStateChanged."""

from __future__ import annotations

from django.db import transaction

from annotation.domain_events import CaseStateChanged, publish
from annotation.models import Case


def case_state_move(*, case: Case, from_state: str, to_state: str) -> bool:
    """Move the case from `from_state` to `to_state`; False (and nothing published) when the
    case is no longer in `from_state`. A conditional UPDATE, so two movers cannot both win."""
    with transaction.atomic():
        moved = Case.objects.filter(pk=case.pk, state=from_state).update(state=to_state)
        if not moved:
            return False
        case.state = to_state
        publish(
            CaseStateChanged(
                case_id=case.pk, project_id=case.project_id, previous=from_state, state=to_state
            )
        )
    return True
