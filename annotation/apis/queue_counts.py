"""The project's work waiting: cases per state and live claims per purpose; the case list
shows them and follows `queue.changed` live events (docs/API.md, "Queue counts")."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.auth import request_user
from annotation.selectors.access import access_project
from annotation.selectors.queue_counts import queue_counts


class QueueCountsApi(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, slug: str) -> Response:
        project, _ = access_project(user=request_user(request), slug=slug)
        return Response(queue_counts(project_id=project.pk))
