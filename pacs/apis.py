"""PACS routes under /api/projects/{slug}/pacs/ (see docs/API.md): leads only."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.apis.pagination import (
    MAX_LIMIT,
    DateRangeParams,
    list_response,
    page_params,
    paginated,
)
from annotation.auth import request_user
from annotation.models import Project
from annotation.permissions import may_use_pacs, require
from annotation.selectors.access import access_project
from pacs.client import PacsError
from pacs.models import ImportStatus, PacsConnection, PacsImport
from pacs.selectors import (
    StudyQuery,
    connection_get,
    pacs_import_get,
    pacs_imports_list,
    pacs_study_search,
)
from pacs.serializers import IMPORT_SCHEMA, import_data
from pacs.services.connection import connection_set
from pacs.services.imports import pacs_import_create, pacs_import_retry

RULE = "only the project's leads use its PACS"
MAX_STUDIES = 200


def _lead_project(request: Request, slug: str) -> Project:
    project, role = access_project(user=request_user(request), slug=slug)
    require(may_use_pacs(role=role), RULE)
    return project


def _fault(exc: PacsError) -> Response:
    code = status.HTTP_504_GATEWAY_TIMEOUT if "(timeout)" in exc.message else 502
    return Response({"detail": exc.message}, status=code)


def _connection_data(connection: PacsConnection | None) -> dict[str, Any]:
    if connection is None:
        return {"configured": False}
    return {
        "configured": True,
        "base_url": connection.base_url,
        "username": connection.username,
        "has_password": bool(connection.password_encrypted),
        "timeout_s": connection.timeout_s,
        "updated_at": connection.updated_at.isoformat(),
    }


class ConnectionApi(APIView):
    class InputSerializer(serializers.Serializer[object]):
        base_url = serializers.URLField(max_length=500)
        username = serializers.CharField(max_length=200, allow_blank=True, default="")
        # Omitted: the stored password is kept. Never sent back.
        password = serializers.CharField(
            max_length=500, allow_blank=True, required=False, trim_whitespace=False
        )
        timeout_s = serializers.FloatField(min_value=0.5, max_value=600, default=30.0)

        def validate_base_url(self, value: str) -> str:
            parsed = urlparse(value)
            if parsed.scheme not in {"http", "https"}:
                raise serializers.ValidationError("use an http:// or https:// URL")
            if parsed.username or parsed.password:
                raise serializers.ValidationError(
                    "put the user name and password in their own fields, not in the URL"
                )
            if parsed.query or parsed.fragment:
                raise serializers.ValidationError("the URL may not have a query or fragment")
            return value

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, slug: str) -> Response:
        project = _lead_project(request, slug)
        return Response(_connection_data(connection_get(project=project)))

    @extend_schema(request=InputSerializer, responses={200: OpenApiTypes.OBJECT})
    def put(self, request: Request, slug: str) -> Response:
        project = _lead_project(request, slug)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        connection = connection_set(
            project=project,
            user=request_user(request),
            base_url=data["base_url"],
            username=data["username"],
            password=data.get("password"),
            timeout_s=data["timeout_s"],
        )
        return Response(_connection_data(connection))


class StudySearchApi(APIView):
    class QuerySerializer(serializers.Serializer[object]):
        accession_number = serializers.CharField(max_length=64, required=False, default="")
        date_from = serializers.DateField(required=False, default=None)
        date_to = serializers.DateField(required=False, default=None)
        modality = serializers.RegexField(
            r"^[A-Za-z]{0,16}$", max_length=16, required=False, default=""
        )
        series_description = serializers.CharField(max_length=64, required=False, default="")

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            start, end = attrs.get("date_from"), attrs.get("date_to")
            if start and end and start > end:
                raise serializers.ValidationError({"date_to": "is before date_from"})
            for name in ("accession_number", "series_description"):
                if any(ch in attrs.get(name, "") for ch in "\\*?"):
                    raise serializers.ValidationError({name: "may not contain \\, * or ?"})
            if not any(attrs.get(k) for k in ("accession_number", "date_from", "date_to")) and not (
                attrs.get("modality") or attrs.get("series_description")
            ):
                raise serializers.ValidationError(
                    {"accession_number": "give at least one of the search fields"}
                )
            return attrs

    @extend_schema(parameters=[QuerySerializer], responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, slug: str) -> Response:
        project = _lead_project(request, slug)
        payload = self.QuerySerializer(data=request.query_params)
        payload.is_valid(raise_exception=True)
        query = StudyQuery(**payload.validated_data)
        try:
            studies = pacs_study_search(project=project, query=query)
        except PacsError as exc:
            return _fault(exc)
        return Response({"studies": studies})


class ImportListApi(APIView):
    class InputSerializer(serializers.Serializer[object]):
        studies = serializers.ListField(
            child=serializers.RegexField(r"^[0-9]+(\.[0-9]+)*$", max_length=64),
            allow_empty=False,
            max_length=MAX_STUDIES,
        )

    class FilterSerializer(DateRangeParams):
        limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=50)
        status = serializers.ChoiceField(choices=ImportStatus.choices, required=False)

    @paginated(IMPORT_SCHEMA, params=FilterSerializer)
    def get(self, request: Request, slug: str) -> Response:
        """The project's import jobs, newest first (50 unless ``limit`` asks for more)."""
        project = _lead_project(request, slug)
        params = page_params(request, self.FilterSerializer)
        jobs = pacs_imports_list(project=project)
        if params.get("status"):
            jobs = jobs.filter(status=params["status"])
        if params.get("created_after"):
            jobs = jobs.filter(created_at__gte=params["created_after"])
        if params.get("created_before"):
            jobs = jobs.filter(created_at__lt=params["created_before"])
        return list_response(
            request, jobs, params=params, serialize=lambda rows: [import_data(j) for j in rows]
        )

    @extend_schema(request=InputSerializer, responses={202: OpenApiTypes.OBJECT})
    def post(self, request: Request, slug: str) -> Response:
        project = _lead_project(request, slug)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        studies = list(dict.fromkeys(payload.validated_data["studies"]))
        if connection_get(project=project) is None:
            return Response(
                {"detail": "the project has no PACS connection: set it first"},
                status=status.HTTP_409_CONFLICT,
            )
        job = pacs_import_create(project=project, user=request_user(request), studies=studies)
        return Response(import_data(job), status=status.HTTP_202_ACCEPTED)


def _job(request: Request, slug: str, import_id: int) -> PacsImport:
    project = _lead_project(request, slug)
    job = pacs_import_get(project=project, import_id=import_id)
    if job is None:
        raise Http404("no such import in this project")
    return job


class ImportDetailApi(APIView):
    @extend_schema(
        operation_id="projects_pacs_import_retrieve", responses={200: OpenApiTypes.OBJECT}
    )
    def get(self, request: Request, slug: str, import_id: int) -> Response:
        return Response(import_data(_job(request, slug, import_id)))


class ImportRetryApi(APIView):
    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT})
    def post(self, request: Request, slug: str, import_id: int) -> Response:
        job = _job(request, slug, import_id)
        try:
            job = pacs_import_retry(job=job)
        except PacsError as exc:
            return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
        return Response(import_data(job), status=status.HTTP_202_ACCEPTED)
