"""Case lists and case details."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.apis.serializers import CaseDetailSerializer, CaseRowSerializer
from annotation.auth import request_user
from annotation.models import CaseState, Split
from annotation.selectors.access import access_case, access_project
from annotation.selectors.cases import CASE_VIEWS, case_detail, case_page


class CasePageSerializer(serializers.Serializer[Any]):
    """The case list's page object (it predates limit/offset; see docs/API.md)."""

    count = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    results = CaseRowSerializer(many=True)


class CaseListApi(APIView):
    class FilterSerializer(serializers.Serializer[object]):
        page = serializers.IntegerField(min_value=1, default=1)
        page_size = serializers.IntegerField(min_value=1, max_value=500, default=100)
        state = serializers.ChoiceField(choices=CaseState.choices, required=False, allow_blank=True)
        split = serializers.ChoiceField(choices=Split.choices, required=False, allow_blank=True)
        view = serializers.ChoiceField(choices=CASE_VIEWS, required=False, allow_blank=True)

    @extend_schema(parameters=[FilterSerializer], responses={200: CasePageSerializer})
    def get(self, request: Request, slug: str) -> Response:
        user = request_user(request)
        project, role = access_project(user=user, slug=slug)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        params = filters.validated_data
        count, cases = case_page(
            project=project,
            user=user,
            role=role,
            page=params["page"],
            page_size=params["page_size"],
            state=params.get("state") or None,
            view=params.get("view") or None,
            split=params.get("split") or None,
        )
        return Response(
            {
                "count": count,
                "page": params["page"],
                "page_size": params["page_size"],
                "results": CaseRowSerializer(cases, many=True).data,
            }
        )


class CaseDetailApi(APIView):
    @extend_schema(responses={200: CaseDetailSerializer})
    def get(self, request: Request, case_id: int) -> Response:
        case, role = access_case(user=request_user(request), case_id=case_id)
        context = {"role": role, "series": case_detail(case=case)}
        return Response(CaseDetailSerializer(case, context=context).data)
