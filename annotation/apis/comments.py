"""Comments of a case: list (blinding applied), post (pinned or not, a reply to a thread),
resolve or reopen a thread (docs/API.md, "Comments")."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from annotation.apis.gold import pin_of
from annotation.apis.pagination import (
    PAGE_HEADERS,
    DateRangeParams,
    in_date_range,
    list_response,
    page_params,
)
from annotation.apis.workflow import WorkflowApi
from annotation.auth import request_user
from annotation.models import Comment
from annotation.selectors.access import access_case
from annotation.selectors.comments import comment_list_for_case
from annotation.services.comments import comment_json, comment_post, comment_resolve


def _matches(comment: Comment, params: dict[str, Any]) -> bool:
    """The filters of the comment list ("resolved" as the reply's ``resolved`` says)."""
    resolved = params.get("resolved")
    if resolved is not None and (comment.resolved_at is not None) != resolved:
        return False
    return params.get("read") in (None, comment.read_id) and params.get("author") in (
        None,
        comment.author_id,
    )


class CaseCommentsApi(WorkflowApi):
    class InputSerializer(serializers.Serializer[Any]):
        body = serializers.CharField(max_length=10_000)
        read = serializers.IntegerField(required=False, allow_null=True)
        parent = serializers.IntegerField(required=False, allow_null=True)  # type: ignore[assignment]
        image = serializers.IntegerField(required=False, allow_null=True)
        x = serializers.FloatField(required=False, allow_null=True)
        y = serializers.FloatField(required=False, allow_null=True)

    class FilterSerializer(DateRangeParams):
        resolved = serializers.BooleanField(required=False, allow_null=True, default=None)
        read = serializers.IntegerField(required=False, min_value=1)
        author = serializers.IntegerField(required=False, min_value=1, help_text="user id")

    @extend_schema(
        parameters=[FilterSerializer, *PAGE_HEADERS],
        responses={200: {"type": "array", "items": {"type": "object"}}},
        description="The comments (docs/API.md, Comments), oldest first.",
    )
    def get(self, request: Request, case_id: int) -> Response:
        user = request_user(request)
        case, role = access_case(user=user, case_id=case_id)
        params = page_params(request, self.FilterSerializer)
        comments = [
            comment
            for comment in comment_list_for_case(case=case, user=user, role=role)
            if in_date_range(comment.created_at, params) and _matches(comment, params)
        ]
        return list_response(
            request, comments, params=params, serialize=lambda rows: [comment_json(c) for c in rows]
        )

    @extend_schema(request=InputSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, case_id: int) -> Response:
        user = request_user(request)
        case, role = access_case(user=user, case_id=case_id)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        comment = comment_post(
            case=case,
            user=user,
            role=role,
            body=data["body"],
            read_id=data.get("read"),
            pin=pin_of(data),
            parent_id=data.get("parent"),
        )
        return Response(comment_json(comment), status=status.HTTP_201_CREATED)


class CommentResolveApi(WorkflowApi):
    class InputSerializer(serializers.Serializer[Any]):
        resolved = serializers.BooleanField(default=True)

    @extend_schema(request=InputSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, case_id: int, comment_id: int) -> Response:
        user = request_user(request)
        case, role = access_case(user=user, case_id=case_id)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        root = comment_resolve(
            case=case,
            user=user,
            role=role,
            comment_id=comment_id,
            resolved=payload.validated_data["resolved"],
        )
        return Response(comment_json(root))
