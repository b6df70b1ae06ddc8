"""The review workflow's APIs share one error shape: a WorkflowError (annotation.services.cases)
answers its status with ``detail``, ``code`` and the fields it names."""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.services.cases import WorkflowError


def workflow_error_response(exc: WorkflowError) -> Response:
    return Response({"detail": exc.detail, "code": exc.code, **exc.extra}, status=exc.status)


class WorkflowApi(APIView):
    """An APIView whose WorkflowErrors become their 4xx JSON answer."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, WorkflowError):
            return workflow_error_response(exc)
        return super().handle_exception(exc)
