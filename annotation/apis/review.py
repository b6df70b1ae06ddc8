"""The review payload: every read of a case the reviewer may see, with its head's shapes,
its colour in the legend, the gold's signature state and the agreement of every pair.

The measurements of the same heads come from the measurements app
(``GET /api/cases/{id}/review/measurements``): annotation never imports it.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from annotation.apis.serializers import (
    AuthorSerializer,
    IsoDateTimeField,
    ReadSerializer,
    RevisionFullSerializer,
)
from annotation.apis.workflow import WorkflowApi
from annotation.auth import request_user
from annotation.models import GoldSignature, Read, ReadKind
from annotation.permissions import may_review, require
from annotation.selectors.access import access_case
from annotation.selectors.review import (
    ReviewRead,
    colour_key,
    review_agreement,
    review_reads,
)


class SignatureSerializer(serializers.Serializer[GoldSignature]):
    revision = serializers.IntegerField(source="revision_id")
    signed_by = AuthorSerializer()
    signed_at = IsoDateTimeField()


def gold_state(reads: list[Read]) -> dict[str, Any]:
    """The gold read, its head and the newest signature (of the head or an older revision:
    a gold changed since it was signed needs signing again)."""
    gold = next((r for r in reads if r.kind == ReadKind.GOLD), None)
    signature = (
        GoldSignature.objects.select_related("signed_by").filter(read=gold).order_by("-id").first()
        if gold is not None
        else None
    )
    head = gold.head_id if gold is not None else None
    return {
        "read": None if gold is None else gold.pk,
        "head": head,
        "signed": signature is not None and signature.revision_id == head,
        "signature": None if signature is None else SignatureSerializer(signature).data,
    }


class CaseReviewApi(WorkflowApi):
    class OutputSerializer(serializers.Serializer[Any]):
        class ReviewReadSerializer(serializers.Serializer[ReviewRead]):
            read = ReadSerializer()
            key = serializers.CharField()
            colour = serializers.CharField()
            title = serializers.CharField()
            submitted_at = IsoDateTimeField(source="read.submitted_at", allow_null=True)
            revision = RevisionFullSerializer(source="read.head", allow_null=True)
            provenance = serializers.JSONField(source="read.head.provenance", default=None)

            def to_representation(self, instance: ReviewRead) -> dict[str, Any]:
                # The read's own fields at the top level, beside its place in the legend.
                data = dict(super().to_representation(instance))
                return {**data.pop("read"), **data}

        class CaseSerializer(serializers.Serializer[Any]):
            id = serializers.IntegerField()
            pseudonym = serializers.CharField()
            state = serializers.CharField()
            project = serializers.CharField(source="project.slug")

        case = CaseSerializer()
        role = serializers.CharField()
        structures = serializers.ListField(child=serializers.CharField())
        reads = ReviewReadSerializer(many=True)
        gold = serializers.JSONField()
        agreement = serializers.JSONField()

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request, case_id: int) -> Response:
        user = request_user(request)
        case, role = access_case(user=user, case_id=case_id)
        require(may_review(role=role), "only the project's reviewers and leads review cases")
        reads = review_reads(case=case, user=user, role=role)
        structures, agreement = review_agreement(case=case, reads=reads)
        payload = {
            "case": case,
            "role": role,
            "structures": structures.names(),
            "reads": colour_key(case=case, reads=reads),
            "gold": gold_state(reads),
            "agreement": agreement,
        }
        context = {"user": user, "role": role}
        return Response(self.OutputSerializer(payload, context=context).data)
