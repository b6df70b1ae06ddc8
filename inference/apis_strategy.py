"""The project's case-selection strategy (active learning): read it, with how many cases
carry a score under it, and choose it (leads)."""

from __future__ import annotations

from django.db.models import Count, Max
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.apis.serializers import IsoDateTimeField
from annotation.auth import request_user
from annotation.models import Project
from annotation.permissions import may_change_settings, require
from annotation.selectors.access import access_project
from inference.models import CaseScore, Strategy
from inference.services.scores import project_strategy, strategy_set

STRATEGY_RULE = "only the project's leads choose how cases are selected"


class StrategyInputSerializer(serializers.Serializer[None]):
    strategy = serializers.ChoiceField(choices=Strategy.choices)


class StrategyChoiceSerializer(serializers.Serializer[dict[str, str]]):
    value = serializers.CharField()
    title = serializers.CharField()


class StrategyOutputSerializer(serializers.Serializer[dict[str, object]]):
    strategy = serializers.CharField()
    choices = StrategyChoiceSerializer(many=True)
    scored_cases = serializers.IntegerField()
    computed_at = IsoDateTimeField(allow_null=True)


def _state(project: Project) -> dict[str, object]:
    strategy = project_strategy(project)
    scored = CaseScore.objects.filter(case__project=project, strategy=strategy).aggregate(
        n=Count("id"), at=Max("computed_at")
    )
    return {
        "strategy": strategy,
        "choices": [{"value": value, "title": title} for value, title in Strategy.choices],
        "scored_cases": scored["n"],
        "computed_at": scored["at"],
    }


class ProjectStrategyApi(APIView):
    @extend_schema(request=None, responses={200: StrategyOutputSerializer})
    def get(self, request: Request, slug: str) -> Response:
        project, _ = access_project(user=request_user(request), slug=slug)
        return Response(StrategyOutputSerializer(_state(project)).data)

    @extend_schema(request=StrategyInputSerializer, responses={200: StrategyOutputSerializer})
    def put(self, request: Request, slug: str) -> Response:
        project, role = access_project(user=request_user(request), slug=slug)
        require(may_change_settings(role=role), STRATEGY_RULE)
        body = StrategyInputSerializer(data=request.data)
        if not body.is_valid():
            raise ValidationError(body.errors)
        strategy_set(project=project, strategy=body.validated_data["strategy"])
        return Response(StrategyOutputSerializer(_state(project)).data)
