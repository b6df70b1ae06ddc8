"""A case's history: one timeline of its transitions, claims, submissions, comments,
revisions and signatures, as the user may see them (docs/API.md, "Case history")."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from annotation.apis.serializers import ReadSerializer, RevisionSummarySerializer
from annotation.apis.workflow import WorkflowApi
from annotation.auth import request_user
from annotation.selectors.access import access_case
from annotation.selectors.history import CaseHistory, case_history
from annotation.services.comments import comment_json

Entry = tuple[datetime, int, dict[str, Any]]


def _who(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "username": user.get_username()}


def _transitions(history: CaseHistory) -> Iterator[Entry]:
    for t in history.transitions:
        yield (
            t.at,
            t.pk,
            {
                "type": "transition",
                "actor": _who(t.actor),
                "from": t.from_state,
                "to": t.to_state,
                # null: withheld (a blinded member, someone else's move).
                "reason": history.reason_of(t),
            },
        )


def _claims(history: CaseHistory) -> Iterator[Entry]:
    for c in history.claims:
        claim = {"id": c.pk, "purpose": c.purpose, "slot": c.slot, "read": c.read_id}
        yield c.claimed_at, c.pk, {"type": "claim", "actor": _who(c.user), "claim": claim}
        if c.released_at is not None:
            yield (
                c.released_at,
                c.pk,
                {
                    "type": "claim_released",
                    "actor": _who(c.released_by),
                    "claim": {**claim, "user": _who(c.user), "reason": c.release_reason},
                },
            )


def _reads(history: CaseHistory) -> Iterator[Entry]:
    for r in history.revisions:
        summary = dict(RevisionSummarySerializer(r).data)
        yield (
            r.created_at,
            r.pk,
            {
                "type": "revision",
                "actor": summary["author"],
                "read": r.read_id,
                "revision": summary,
            },
        )
    for s in history.submissions:
        yield (
            s.submitted_at,
            s.pk,
            {
                "type": "submission",
                "actor": _who(s.submitted_by),
                "read": s.read_id,
                "revision": s.revision_id,
                "override_reason": s.override_reason,
                "missing": s.missing,
            },
        )
    for g in history.signatures:
        yield (
            g.signed_at,
            g.pk,
            {
                "type": "signature",
                "actor": _who(g.signed_by),
                "read": g.read_id,
                "revision": g.revision_id,
            },
        )


def _comments(history: CaseHistory) -> Iterator[Entry]:
    for c in history.comments:
        yield (
            c.created_at,
            c.pk,
            {"type": "comment", "actor": _who(c.author), "comment": comment_json(c)},
        )


def history_events(history: CaseHistory) -> list[dict[str, Any]]:
    """Every record as one event, oldest first (ties: by kind, then by id)."""
    kinds = (_transitions, _claims, _reads, _comments)
    entries = [
        (at, rank, pk, body) for rank, kind in enumerate(kinds) for at, pk, body in kind(history)
    ]
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    return [{"at": at.isoformat(), **body} for at, _, _, body in entries]


class CaseHistoryApi(WorkflowApi):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, case_id: int) -> Response:
        user = request_user(request)
        case, role = access_case(user=user, case_id=case_id)
        history = case_history(case=case, user=user, role=role)
        reads = ReadSerializer(history.reads, many=True, context={"user": user, "role": role})
        return Response(
            {
                "case": {"id": case.pk, "pseudonym": case.pseudonym, "state": case.state},
                "reads": reads.data,
                "events": history_events(history),
            }
        )
