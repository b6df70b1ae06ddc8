"""Measurement results of a revision, and a live preview on unsaved shapes."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from annotation.auth import request_user
from annotation.models import Revision
from annotation.permissions import may_review, require
from annotation.selectors.access import access_case, access_read
from annotation.selectors.reads import read_list_for_case
from measurements.models import MeasurementResult
from measurements.preview import PreviewBusyError, PreviewInvalidError, PreviewTimeoutError
from measurements.services import measure_preview

logger = logging.getLogger(__name__)


class RevisionMeasurementsApi(APIView):
    class OutputSerializer(serializers.Serializer[Any]):
        class ResultSerializer(serializers.Serializer[MeasurementResult]):
            image = serializers.IntegerField(source="image_id")
            view = serializers.CharField()
            values = serializers.JSONField()
            chords = serializers.JSONField()
            warnings = serializers.JSONField()
            missing = serializers.JSONField()
            algorithm_version = serializers.CharField()
            parameters = serializers.JSONField()

        revision = serializers.IntegerField()
        results = ResultSerializer(many=True)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request, revision_id: int) -> Response:
        read_id = Revision.objects.filter(pk=revision_id).values_list("read_id", flat=True).first()
        if read_id is None:
            raise Http404("no such revision")
        access_read(user=request_user(request), read_id=read_id)
        rows = MeasurementResult.objects.filter(revision_id=revision_id).order_by("image_id")
        return Response(self.OutputSerializer({"revision": revision_id, "results": rows}).data)


class MeasurePreviewThrottle(UserRateThrottle):
    """MEASURE_PREVIEW_RATE per user: every member, readers included, may preview."""

    scope = "measure_preview"

    def get_rate(self) -> str:
        return str(settings.MEASURE_PREVIEW_RATE)

    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception:  # the cache (Redis) is down: a preview is not worth a 500
            logger.warning("measure preview throttle: the cache failed", exc_info=True)
            return True


class PreviewUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE

    def __init__(self, *, busy: bool) -> None:
        budget = settings.MEASURE_PREVIEW_TIME_BUDGET_S
        if busy:
            super().__init__("The measurement preview is busy; try again shortly.", "busy")
        else:
            message = f"The preview took longer than {budget:g} s and was stopped."
            super().__init__(message, "preview_timeout")


class CaseMeasurePreviewApi(APIView):
    """The body is parsed and checked in the preview's child process, not here: a 5 MB
    preview parsed in the server held the GIL for a second (measurements/preview.py)."""

    class OutputSerializer(serializers.Serializer[Any]):
        # The child returns plain rows in the stored results' shape.
        results = serializers.ListField(child=serializers.JSONField())

    throttle_classes = [MeasurePreviewThrottle]

    @extend_schema(
        request=OpenApiTypes.OBJECT, responses={200: OutputSerializer, 400: OpenApiTypes.OBJECT}
    )
    def post(self, request: Request, case_id: int) -> Response:
        case, _ = access_case(user=request_user(request), case_id=case_id)
        try:
            results = measure_preview(case_id=case.pk, body=request.body)
        except PreviewInvalidError as exc:
            return Response(exc.payload, status=status.HTTP_400_BAD_REQUEST)
        except (PreviewBusyError, PreviewTimeoutError) as exc:
            raise PreviewUnavailable(busy=isinstance(exc, PreviewBusyError)) from exc
        return Response(self.OutputSerializer({"results": results}).data)


class CaseReviewMeasurementsApi(APIView):
    """The review page's measurements side by side: the stored results of the head of every
    read of the case the reviewer may see (the reads as ``GET /api/cases/{id}/review``)."""

    class OutputSerializer(serializers.Serializer[Any]):
        read = serializers.IntegerField(source="pk")
        revision = serializers.IntegerField(source="head_id", allow_null=True)
        results = RevisionMeasurementsApi.OutputSerializer.ResultSerializer(many=True)

    @extend_schema(
        responses={
            200: inline_serializer("CaseReviewMeasurements", {"reads": OutputSerializer(many=True)})
        }
    )
    def get(self, request: Request, case_id: int) -> Response:
        user = request_user(request)
        case, role = access_case(user=user, case_id=case_id)
        require(may_review(role=role), "only the project's reviewers and leads review cases")
        reads = read_list_for_case(case=case, user=user, role=role)
        by_revision: dict[int, list[MeasurementResult]] = {}
        heads = [r.head_id for r in reads if r.head_id is not None]
        for row in MeasurementResult.objects.filter(revision_id__in=heads).order_by("image_id"):
            by_revision.setdefault(row.revision_id, []).append(row)
        for read in reads:
            read.results = by_revision.get(read.head_id or 0, [])  # type: ignore[attr-defined]
        return Response({"reads": self.OutputSerializer(reads, many=True).data})
