"""Study-report requests, their status, and the generated HTML and CSV files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.apis.pagination import page_params, page_response, page_slice, paginated
from annotation.apis.serializers import IsoDateTimeField
from annotation.auth import request_user
from annotation.models import Project
from annotation.permissions import may_request_report, require
from annotation.selectors.access import access_project, membership_role
from annotation.selectors.design import role_unaided
from reports.models import ReportJob, ReportStatus
from reports.services import SPLITS, report_request

REPORT_RULE = (
    "the study report holds every read's numbers: only members who may see every read "
    "(reviewers and leads while the project is blinded) request or open it"
)
# The served HTML needs its inline <style> and data: images, and nothing else.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


class ReportOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    project = serializers.CharField(source="project.slug")
    split = serializers.CharField()
    status = serializers.CharField()
    progress = serializers.SerializerMethodField()
    stage = serializers.CharField()
    reason = serializers.CharField()
    summary = serializers.JSONField()
    requested_by = serializers.CharField(source="requested_by.username", allow_null=True)
    created_at = IsoDateTimeField()
    finished_at = IsoDateTimeField(allow_null=True)
    html_url = serializers.SerializerMethodField()
    csv_url = serializers.SerializerMethodField()

    def get_progress(self, job: ReportJob) -> float:
        return round(job.progress, 3)

    def get_html_url(self, job: ReportJob) -> str | None:
        return f"/api/reports/{job.pk}/report.html" if job.html_path else None

    def get_csv_url(self, job: ReportJob) -> str | None:
        return f"/api/reports/{job.pk}/report.csv" if job.csv_path else None


def _require_report_right(*, project: Project, role: str | None) -> None:
    unaided = role_unaided(project_id=project.pk, role=role)
    require(may_request_report(role=role, blinded=project.blinded, unaided=unaided), REPORT_RULE)


def access_report(request: Request, report_id: int) -> ReportJob:
    """The job, for members allowed reports (outsiders: 404; other members: 403)."""
    job = ReportJob.objects.select_related("project", "requested_by").filter(pk=report_id).first()
    role = (
        membership_role(user=request_user(request), project_id=job.project_id)
        if job is not None
        else None
    )
    if job is None or role is None:
        raise Http404("no such report")
    _require_report_right(project=job.project, role=role)
    return job


class ProjectReportListApi(APIView):
    class InputSerializer(serializers.Serializer[Any]):
        split = serializers.ChoiceField(choices=SPLITS, default="test")

    @paginated(ReportOutputSerializer)
    def get(self, request: Request, slug: str) -> Response:
        project, role = access_project(user=request_user(request), slug=slug)
        _require_report_right(project=project, role=role)
        params = page_params(request)
        jobs = ReportJob.objects.filter(project=project).select_related("project", "requested_by")
        rows, total = page_slice(jobs, limit=params["limit"], offset=params["offset"])
        data = ReportOutputSerializer(rows, many=True).data
        return page_response(request, data, total=total, **params)

    @extend_schema(request=InputSerializer, responses={202: ReportOutputSerializer})
    def post(self, request: Request, slug: str) -> Response:
        project, role = access_project(user=request_user(request), slug=slug)
        _require_report_right(project=project, role=role)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        job = report_request(
            project=project,
            requested_by=request_user(request),
            split=payload.validated_data["split"],
        )
        job = ReportJob.objects.select_related("project", "requested_by").get(pk=job.pk)
        return Response(ReportOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ReportDetailApi(APIView):
    @extend_schema(responses={200: ReportOutputSerializer})
    def get(self, request: Request, report_id: int) -> Response:
        return Response(ReportOutputSerializer(access_report(request, report_id)).data)


def _file(job: ReportJob, relative: str) -> Path:
    if job.status != ReportStatus.SUCCEEDED or not relative:
        raise Http404(f"the report is not ready ({job.status})")
    path = Path(settings.DATA_DIR) / relative
    if not path.is_file():
        raise Http404("the report's file is gone")
    return path


class ReportHtmlApi(APIView):
    @extend_schema(responses={(200, "text/html"): OpenApiTypes.STR})
    def get(self, request: Request, report_id: int) -> FileResponse:
        job = access_report(request, report_id)
        path = _file(job, job.html_path)
        response = FileResponse(path.open("rb"), content_type="text/html; charset=utf-8")
        response["Content-Security-Policy"] = REPORT_CSP
        response["Content-Disposition"] = f'inline; filename="report-{job.pk}.html"'
        return response


class ReportCsvApi(APIView):
    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: Request, report_id: int) -> FileResponse:
        job = access_report(request, report_id)
        path = _file(job, job.csv_path)
        return FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=f"report-{job.pk}.csv",
            content_type="text/csv; charset=utf-8",
        )
