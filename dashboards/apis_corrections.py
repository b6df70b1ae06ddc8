"""What the model gets wrong: the project's corrections of pre-labels (leads, reviewers)."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.auth import request_user
from annotation.permissions import may_view_dashboard, require
from annotation.selectors.access import access_project
from dashboards.selectors.corrections import corrections_summary

CORRECTIONS_RULE = "the corrections compare every read with the pre-label: leads and reviewers"


class ProjectCorrectionsApi(APIView):
    def get(self, request: Request, slug: str) -> Response:
        project, role = access_project(user=request_user(request), slug=slug)
        require(may_view_dashboard(role=role), CORRECTIONS_RULE)
        return Response(corrections_summary(project=project))
