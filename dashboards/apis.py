"""The progress and agreement dashboards' JSON (docs/API.md, "Dashboards"): reviewers and
leads; filters `split`, `from` and `to` (dates, inclusive) checked field by field. The JSON
comes rendered from the dashboards' cache (dashboards/selectors/cached.py)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from annotation.auth import request_user
from annotation.models import Split
from annotation.permissions import may_view_dashboard, require
from annotation.selectors.access import access_project
from dashboards.selectors.agreement import agreement_summary
from dashboards.selectors.cached import cached_answer
from dashboards.selectors.progress import progress_summary_until


class FiltersSerializer(serializers.Serializer[Any]):
    split = serializers.ChoiceField(choices=Split.choices, required=False)
    # "from" is a Python keyword: the field is named in the serializer's fields mapping.
    to = serializers.DateField(required=False)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False)
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("from"), attrs.get("to")
        if start is not None and end is not None and end < start:
            raise serializers.ValidationError({"to": ["must not be before 'from'"]})
        return attrs


class _DashboardApi(APIView):
    def _filters(self, request: Request, slug: str) -> tuple[Any, dict[str, Any]]:
        project, role = access_project(user=request_user(request), slug=slug)
        require(may_view_dashboard(role=role), "only reviewers and leads see the dashboards")
        data = FiltersSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        return project, {
            "split": values.get("split"),
            "date_from": values.get("from"),
            "date_to": values.get("to"),
        }


class ProgressApi(_DashboardApi):
    @extend_schema(parameters=[FiltersSerializer], responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, slug: str) -> HttpResponse:
        project, filters = self._filters(request, slug)
        answer = cached_answer(
            part="progress",
            project=project,
            filters=filters,
            compute=lambda: progress_summary_until(project=project, **filters),
        )
        return HttpResponse(answer, content_type="application/json")


class AgreementApi(_DashboardApi):
    @extend_schema(parameters=[FiltersSerializer], responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, slug: str) -> HttpResponse:
        project, filters = self._filters(request, slug)
        answer = cached_answer(
            part="agreement",
            project=project,
            filters=filters,
            compute=lambda: (agreement_summary(project=project, **filters), None),
        )
        return HttpResponse(answer, content_type="application/json")
