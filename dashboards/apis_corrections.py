"""What the model gets wrong: the project's corrections of pre-labels (leads, reviewers)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.auth import request_user
from annotation.permissions import may_view_dashboard, require
from annotation.selectors.access import access_project
from dashboards.selectors.corrections import corrections_summary

CORRECTIONS_RULE = "the corrections compare every read with the pre-label: leads and reviewers"


class CorrectionRowSerializer(serializers.Serializer[dict[str, Any]]):
    case = serializers.IntegerField()
    pseudonym = serializers.CharField()
    kind = serializers.ChoiceField(choices=["human", "gold"])
    magnitude = serializers.FloatField(allow_null=True, help_text="mean of 1 - Dice")
    areas = serializers.DictField(help_text="{structure: {dice, hd95_mm}}")
    keypoints = serializers.DictField(help_text="{corner: displacement mm}")
    measurements = serializers.DictField(help_text="{measurement: {model, human, delta}}")
    model_versions = serializers.ListField(child=serializers.IntegerField())
    created_at = serializers.CharField()


class CorrectionsSummarySerializer(serializers.Serializer[dict[str, Any]]):
    project = serializers.CharField()
    n = serializers.IntegerField()
    worst = CorrectionRowSerializer(many=True)
    by_structure = serializers.DictField(help_text="{structure: {n, mean_dice, mean_hd95_mm}}")
    by_corner = serializers.DictField(help_text="{corner: {n, mean_mm, max_mm}}")


class ProjectCorrectionsApi(APIView):
    @extend_schema(request=None, responses={200: CorrectionsSummarySerializer})
    def get(self, request: Request, slug: str) -> Response:
        project, role = access_project(user=request_user(request), slug=slug)
        require(may_view_dashboard(role=role), CORRECTIONS_RULE)
        summary = corrections_summary(project=project)
        return Response(CorrectionsSummarySerializer(summary).data)
