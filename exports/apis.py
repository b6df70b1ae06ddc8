"""Exports: request one, list and follow them, download the archive until its link expires."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.apis.pagination import PageParams, list_response, page_params, paginated
from annotation.auth import request_user
from annotation.models import Split
from annotation.permissions import may_export, may_see_export, require
from annotation.selectors.access import access_project, membership_role
from exports.archive import archive_expired, archive_path
from exports.formats import formats_registered
from exports.models import ExportJob, ExportStatus, SelectionKind
from exports.services import EXPORT_RULE, ExportRequest, ExportRequestError, export_request


class ExportOutputSerializer(serializers.ModelSerializer[ExportJob]):
    selection = serializers.SerializerMethodField()
    download = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username")

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "split",
            "selection",
            "formats",
            "status",
            "progress",
            "cases_total",
            "cases_done",
            "reason",
            "size_bytes",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "expires_at",
            "download",
        ]

    def get_selection(self, job: ExportJob) -> dict[str, str]:
        return {"kind": job.selection_kind, "value": job.selection_value}

    def get_download(self, job: ExportJob) -> str | None:
        """The archive's URL while it can be downloaded; null before and after."""
        if job.status != ExportStatus.SUCCEEDED or archive_expired(job):
            return None
        return f"/api/exports/{job.pk}/download"


class SelectionSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=SelectionKind.choices)
    # group: a role; annotator: a user id; model: a model version id; gold: empty.
    value = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)


def _job_for(request: Request, export_id: int) -> ExportJob:
    """The export if the user may see it (its requester, still a lead or reviewer); 404."""
    user = request_user(request)
    job = ExportJob.objects.select_related("created_by").filter(pk=export_id).first()
    if job is None:
        raise Http404("no such export")
    role = membership_role(user=user, project_id=job.project_id)
    if not may_see_export(role=role, user_id=user.pk, created_by_id=job.created_by_id):
        raise Http404("no such export")
    return job


class ProjectExportListApi(APIView):
    class InputSerializer(serializers.Serializer[Any]):
        split = serializers.ChoiceField(
            choices=[("", "every split"), *Split.choices], required=False, default=""
        )
        selection = SelectionSerializer()
        formats = serializers.ListField(child=serializers.CharField(max_length=32), max_length=16)

    class FilterSerializer(PageParams):
        status = serializers.ChoiceField(choices=ExportStatus.choices, required=False)

    @paginated(ExportOutputSerializer, params=FilterSerializer)
    def get(self, request: Request, slug: str) -> Response:
        """The requester's own exports of the project, newest first."""
        user = request_user(request)
        project, role = access_project(user=user, slug=slug)
        require(may_export(role=role), EXPORT_RULE)
        params = page_params(request, self.FilterSerializer)
        jobs = ExportJob.objects.filter(project=project, created_by=user).select_related(
            "created_by"
        )
        if params.get("status"):
            jobs = jobs.filter(status=params["status"])
        return list_response(
            request,
            jobs.order_by("-id"),
            params=params,
            serialize=lambda rows: ExportOutputSerializer(rows, many=True).data,
        )

    @extend_schema(
        request=InputSerializer, responses={202: ExportOutputSerializer, 400: OpenApiTypes.OBJECT}
    )
    def post(self, request: Request, slug: str) -> Response:
        user = request_user(request)
        project, role = access_project(user=user, slug=slug)
        require(may_export(role=role), EXPORT_RULE)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        asked = ExportRequest(
            split=data["split"],
            selection_kind=data["selection"]["kind"],
            selection_value=data["selection"]["value"].strip(),
            formats=tuple(data["formats"]),
        )
        try:
            job = export_request(project=project, user=user, role=role, request=asked)
        except ExportRequestError as exc:
            return Response({exc.field: [exc.message]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(ExportOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ProjectExportFormatsApi(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, slug: str) -> Response:
        """The formats this server writes ({name, title}), for the exports page."""
        _, role = access_project(user=request_user(request), slug=slug)
        require(may_export(role=role), EXPORT_RULE)
        return Response(
            [{"name": spec.name, "title": spec.title} for spec in formats_registered().values()]
        )


class ExportDetailApi(APIView):
    @extend_schema(responses={200: ExportOutputSerializer})
    def get(self, request: Request, export_id: int) -> Response:
        return Response(ExportOutputSerializer(_job_for(request, export_id)).data)


class ExportDownloadApi(APIView):
    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            409: OpenApiTypes.OBJECT,
            410: OpenApiTypes.OBJECT,
        }
    )
    def get(self, request: Request, export_id: int) -> Response | FileResponse:
        job = _job_for(request, export_id)
        if job.status != ExportStatus.SUCCEEDED:
            detail = (
                f"this export failed: {job.reason}"
                if job.status == ExportStatus.FAILED
                else f"this export is {job.status}: download it once it succeeded"
            )
            return Response({"detail": detail}, status=status.HTTP_409_CONFLICT)
        path = archive_path(job)
        if archive_expired(job) or path is None:
            expired = job.expires_at.isoformat() if job.expires_at else "earlier"
            return Response(
                {"detail": f"this download link expired at {expired}; request the export again"},
                status=status.HTTP_410_GONE,
            )
        name = f"{job.project.slug}-export-{job.pk}.zip"
        return FileResponse(
            path.open("rb"), as_attachment=True, filename=name, content_type="application/zip"
        )
