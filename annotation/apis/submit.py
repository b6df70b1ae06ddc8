"""Submitting a read, and checking what it still lacks (docs/API.md)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from annotation.apis.serializers import IsoDateTimeField
from annotation.apis.workflow import WorkflowApi
from annotation.auth import request_user
from annotation.models import Case
from annotation.selectors.access import access_read
from annotation.services.submit import read_problems, read_submit


class ReadCheckApi(WorkflowApi):
    """What the read lacks before it may be submitted (anyone who sees the read)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, read_id: int) -> Response:
        read, _role = access_read(user=request_user(request), read_id=read_id)
        problems = read_problems(read=read)
        return Response({"ready": not problems, "missing": [p.as_dict() for p in problems]})


class ReadSubmitApi(WorkflowApi):
    class InputSerializer(serializers.Serializer[Any]):
        override_reason = serializers.CharField(
            required=False, allow_blank=True, max_length=2000, default=""
        )
        claim = serializers.IntegerField(required=False, allow_null=True, default=None)

    class OutputSerializer(serializers.Serializer[Any]):
        id = serializers.IntegerField()
        read = serializers.IntegerField(source="read_id")
        revision = serializers.IntegerField(source="revision_id", allow_null=True)
        submitted_at = IsoDateTimeField()
        override_reason = serializers.CharField()
        missing = serializers.JSONField()
        case_state = serializers.SerializerMethodField()

        def get_case_state(self, _submission: Any) -> str:
            return str(self.context["case_state"])

    @extend_schema(
        request=InputSerializer, responses={201: OutputSerializer, 422: OpenApiTypes.OBJECT}
    )
    def post(self, request: Request, read_id: int) -> Response:
        user = request_user(request)
        read, _role = access_read(user=user, read_id=read_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        submission = read_submit(
            read=read,
            user=user,
            override_reason=data.validated_data["override_reason"],
            claim_id=data.validated_data["claim"],
        )
        state = Case.objects.values_list("state", flat=True).get(pk=read.case_id)
        reply = self.OutputSerializer(submission, context={"case_state": state})
        return Response(reply.data, status=status.HTTP_201_CREATED)
