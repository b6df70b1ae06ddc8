"""Case moves that are nobody else's route: reopening a gold case (docs/API.md)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from annotation.apis.serializers import IsoDateTimeField
from annotation.apis.workflow import WorkflowApi
from annotation.auth import request_user
from annotation.permissions import may_review, require
from annotation.selectors.access import access_case
from annotation.services.cases import case_reopen


class CaseReopenApi(WorkflowApi):
    """A reviewer or lead reopens a gold case for review, with a written reason."""

    class InputSerializer(serializers.Serializer[Any]):
        reason = serializers.CharField(max_length=2000, allow_blank=True, default="")

    class OutputSerializer(serializers.Serializer[Any]):
        transition = serializers.IntegerField(source="pk")
        state = serializers.CharField(source="to_state")
        previous = serializers.CharField(source="from_state")
        reason = serializers.CharField()
        at = IsoDateTimeField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request, case_id: int) -> Response:
        user = request_user(request)
        case, role = access_case(user=user, case_id=case_id)
        require(may_review(role=role), "only reviewers and leads reopen a gold case")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        transition = case_reopen(case=case, actor=user, reason=data.validated_data["reason"])
        return Response(self.OutputSerializer(transition).data)
