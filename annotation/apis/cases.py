"""Case lists and case details."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.auth import request_user
from annotation.models import Case, Series
from annotation.selectors.access import access_case, access_project
from annotation.selectors.cases import case_detail, case_page


def _series_summary(series: Series) -> dict[str, Any]:
    return {
        "id": series.pk,
        "orientation": series.orientation,
        "description": series.description,
        "num_slices": getattr(series, "num_slices", None),
    }


def case_row(case: Case) -> dict[str, Any]:
    series = list(case.series.all())
    thumb = series[0] if series else None
    return {
        "id": case.pk,
        "pseudonym": case.pseudonym,
        "state": case.state,
        "split": case.split,
        "series": [_series_summary(s) for s in series],
        "thumbnail": reverse("api-series-thumbnail", args=[thumb.pk]) if thumb else None,
        "read_count": getattr(case, "read_count", 0),
        "updated_at": case.updated_at.isoformat(),
    }


class CaseListApi(APIView):
    class FilterSerializer(serializers.Serializer[object]):
        page = serializers.IntegerField(min_value=1, default=1)
        page_size = serializers.IntegerField(min_value=1, max_value=500, default=100)
        state = serializers.CharField(required=False, allow_blank=True)

    def get(self, request: Request, slug: str) -> Response:
        project, _ = access_project(user=request_user(request), slug=slug)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        params = filters.validated_data
        count, cases = case_page(
            project=project,
            page=params["page"],
            page_size=params["page_size"],
            state=params.get("state") or None,
        )
        return Response(
            {
                "count": count,
                "page": params["page"],
                "page_size": params["page_size"],
                "results": [case_row(case) for case in cases],
            }
        )


def series_payload(series: Series) -> dict[str, Any]:
    return {
        "id": series.pk,
        "uid": series.uid,
        "number": series.number,
        "description": series.description,
        "orientation": series.orientation,
        "modality": series.modality,
        "source": series.source,
        "rows": series.rows,
        "columns": series.columns,
        "pixel_spacing": [series.pixel_spacing_row, series.pixel_spacing_col],
        "spacing_known": series.spacing_known,
        "slice_thickness": series.slice_thickness,
        "slice_spacing": series.slice_spacing,
        "dtype": series.dtype,
        "window": {"center": series.window_center, "width": series.window_width},
        "row_direction": series.row_direction,
        "column_direction": series.column_direction,
        "images": [
            {"id": image.pk, "index": image.index, "position": image.position}
            for image in series.images.all()
        ],
    }


def case_payload(case: Case, *, role: str) -> dict[str, Any]:
    """What the case page needs to open: the API answer, also embedded in the page."""
    project = case.project
    return {
        "id": case.pk,
        "pseudonym": case.pseudonym,
        "state": case.state,
        "split": case.split,
        "project": {
            "slug": project.slug,
            "name": project.name,
            "role": role,
            "template": project.template,
            "blinded": project.blinded,
        },
        "series": [series_payload(s) for s in case_detail(case=case)],
    }


class CaseDetailApi(APIView):
    def get(self, request: Request, case_id: int) -> Response:
        case, role = access_case(user=request_user(request), case_id=case_id)
        return Response(case_payload(case, role=role))
