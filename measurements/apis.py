"""Measurement results of a revision, and a live preview on unsaved shapes."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.auth import request_user
from annotation.models import Revision
from annotation.selectors.access import access_case, access_read
from measurements.models import MeasurementResult
from measurements.services import measure_shapes_by_image


def _row(result: MeasurementResult) -> dict[str, Any]:
    return {
        "image": result.image_id,
        "view": result.view,
        "values": result.values,
        "chords": result.chords,
        "warnings": result.warnings,
        "missing": result.missing,
        "algorithm_version": result.algorithm_version,
        "parameters": result.parameters,
    }


class RevisionMeasurementsApi(APIView):
    def get(self, request: Request, revision_id: int) -> Response:
        read_id = Revision.objects.filter(pk=revision_id).values_list("read_id", flat=True).first()
        if read_id is None:
            raise Http404("no such revision")
        access_read(user=request_user(request), read_id=read_id)
        rows = MeasurementResult.objects.filter(revision_id=revision_id).order_by("image_id")
        return Response({"revision": revision_id, "results": [_row(row) for row in rows]})


class CaseMeasurePreviewApi(APIView):
    class InputSerializer(serializers.Serializer[Any]):
        shapes = serializers.DictField(child=serializers.ListField(child=serializers.JSONField()))
        reference = serializers.ChoiceField(choices=["C3C7", "adjacent"], default="C3C7")

    def post(self, request: Request, case_id: int) -> Response:
        case, _ = access_case(user=request_user(request), case_id=case_id)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        results = measure_shapes_by_image(
            shapes=payload.validated_data["shapes"],
            case_id=case.pk,
            reference=payload.validated_data["reference"],
        )
        return Response({"results": results})
