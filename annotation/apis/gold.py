"""The gold standard of a case: open it, compose it per structure, sign it, or return the
case to its annotators with comments (docs/API.md, "Review and gold standard")."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from annotation.apis.reads import conflict_response
from annotation.apis.review import SignatureSerializer
from annotation.apis.serializers import (
    IsoDateTimeField,
    ReadSerializer,
    RevisionFullSerializer,
)
from annotation.apis.workflow import WorkflowApi
from annotation.auth import request_user
from annotation.permissions import may_review, require
from annotation.selectors.access import access_case
from annotation.selectors.reads import read_with_head
from annotation.services.comments import Pin, comment_json
from annotation.services.gold import (
    ReturnComment,
    SignConflictError,
    case_return,
    gold_compose,
    gold_read_get_or_create,
    gold_sign,
)
from annotation.services.revisions import StaleParent

REVIEWERS_ONLY = "only the project's reviewers and leads adjudicate the gold standard"


class GoldRevisionSerializer(RevisionFullSerializer):
    provenance = serializers.JSONField()


class GoldApi(WorkflowApi):
    @extend_schema(request=None, responses={200: ReadSerializer, 201: ReadSerializer})
    def post(self, request: Request, case_id: int) -> Response:
        """The case's gold read, created by the first reviewer who opens it."""
        user = request_user(request)
        case, role = access_case(user=user, case_id=case_id)
        gold, created = gold_read_get_or_create(case=case, user=user, role=role)
        data = ReadSerializer(read_with_head(read_id=gold.pk), context={"user": user, "role": role})
        return Response(
            data.data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class GoldComposeApi(WorkflowApi):
    class InputSerializer(serializers.Serializer[Any]):
        parent = serializers.IntegerField(allow_null=True)  # type: ignore[assignment]
        structures = serializers.DictField(child=serializers.DictField())

    @extend_schema(request=InputSerializer, responses={201: GoldRevisionSerializer})
    def post(self, request: Request, case_id: int) -> Response:
        user = request_user(request)
        case, role = access_case(user=user, case_id=case_id)
        require(may_review(role=role), REVIEWERS_ONLY)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            revision = gold_compose(
                case=case,
                user=user,
                role=role,
                parent_id=payload.validated_data["parent"],
                request=payload.validated_data["structures"],
            )
        except StaleParent as exc:
            return conflict_response(exc)
        return Response(GoldRevisionSerializer(revision).data, status=status.HTTP_201_CREATED)


class GoldSignApi(WorkflowApi):
    class InputSerializer(serializers.Serializer[Any]):
        revision = serializers.IntegerField()

    class OutputSerializer(SignatureSerializer):
        read = serializers.IntegerField(source="read_id")
        case_state = serializers.CharField(source="read.case.state")

    class ConflictSerializer(serializers.Serializer[Any]):
        detail = serializers.CharField()
        code = serializers.CharField()
        head = GoldRevisionSerializer(allow_null=True)
        signature = SignatureSerializer(allow_null=True)

    @extend_schema(
        request=InputSerializer, responses={201: OutputSerializer, 409: ConflictSerializer}
    )
    def post(self, request: Request, case_id: int) -> Response:
        user = request_user(request)
        case, role = access_case(user=user, case_id=case_id)
        require(may_review(role=role), REVIEWERS_ONLY)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            signature = gold_sign(
                case=case, user=user, role=role, revision_id=payload.validated_data["revision"]
            )
        except SignConflictError as exc:
            # The loser sees the winner's gold: its head and who signed it when.
            reply = {
                "detail": exc.detail,
                "code": exc.code,
                "head": exc.head,
                "signature": exc.signature,
            }
            return Response(self.ConflictSerializer(reply).data, status=status.HTTP_409_CONFLICT)
        signature.read.case = case
        return Response(self.OutputSerializer(signature).data, status=status.HTTP_201_CREATED)


class CaseReturnApi(WorkflowApi):
    class InputSerializer(serializers.Serializer[Any]):
        class CommentSerializer(serializers.Serializer[Any]):
            body = serializers.CharField(max_length=10_000)
            read = serializers.IntegerField(required=False, allow_null=True)
            image = serializers.IntegerField(required=False, allow_null=True)
            x = serializers.FloatField(required=False, allow_null=True)
            y = serializers.FloatField(required=False, allow_null=True)

        reason = serializers.CharField(max_length=2000, allow_blank=True, default="")
        comments = CommentSerializer(many=True, required=False, default=list)

    class OutputSerializer(serializers.Serializer[Any]):
        transition = serializers.IntegerField(source="transition.pk")
        state = serializers.CharField(source="transition.to_state")
        at = IsoDateTimeField(source="transition.at")
        comments = serializers.ListField(child=serializers.JSONField())

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request, case_id: int) -> Response:
        user = request_user(request)
        case, role = access_case(user=user, case_id=case_id)
        require(may_review(role=role), REVIEWERS_ONLY)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        comments = [
            ReturnComment(body=c["body"], read_id=c.get("read"), pin=pin_of(c, "comments"))
            for c in payload.validated_data["comments"]
        ]
        transition, created = case_return(
            case=case,
            user=user,
            role=role,
            reason=payload.validated_data["reason"],
            comments=comments,
        )
        reply = {"transition": transition, "comments": [comment_json(c) for c in created]}
        return Response(self.OutputSerializer(reply).data)


def pin_of(data: dict[str, Any], field: str = "") -> Pin | None:
    """The pin of a comment's input: image, x and y all given, or none of them."""
    given = {k: data.get(k) for k in ("image", "x", "y")}
    if all(v is None for v in given.values()):
        return None
    missing = [k for k, v in given.items() if v is None]
    if missing:
        prefix = f"{field}." if field else ""
        raise serializers.ValidationError(
            {f"{prefix}{k}": ["a pin needs image, x and y together"] for k in missing}
        )
    return Pin(image=int(given["image"]), x=float(given["x"]), y=float(given["y"]))  # type: ignore[arg-type]
