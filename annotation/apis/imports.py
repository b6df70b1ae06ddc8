"""Uploading files into a project: POST /api/projects/{slug}/imports (see docs/API.md)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.auth import request_user
from annotation.domain_events import CasesImported, publish
from annotation.ingest import ingest_uploaded_files
from annotation.permissions import may_import, require
from annotation.selectors.access import access_project


class ImportCreateApi(APIView):
    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer[object]):
        # Empty files pass here so that ingest can name them in the refused list.
        files = serializers.ListField(
            child=serializers.FileField(allow_empty_file=True), allow_empty=False
        )

    class OutputSerializer(serializers.Serializer[object]):
        class CaseSerializer(serializers.Serializer[object]):
            id = serializers.IntegerField()
            pseudonym = serializers.CharField()
            created = serializers.BooleanField()
            outcome = serializers.CharField(required=False)
            series = serializers.IntegerField(required=False)
            images = serializers.IntegerField(required=False)
            reads = serializers.IntegerField(required=False)

        class SkippedSerializer(serializers.Serializer[object]):
            file = serializers.CharField()
            reason = serializers.CharField()

        cases = CaseSerializer(many=True)
        series = serializers.IntegerField()
        images = serializers.IntegerField()
        skipped = SkippedSerializer(many=True)
        notes = serializers.ListField(child=serializers.CharField())

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={201: OutputSerializer, 400: OutputSerializer},
    )
    def post(self, request: Request, slug: str) -> Response:
        project, role = access_project(user=request_user(request), slug=slug)
        require(may_import(role=role), "only the project's leads and reviewers may import cases")
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        summary = ingest_uploaded_files(project=project, files=payload.validated_data["files"])
        data = dict(self.OutputSerializer(summary.as_dict()).data)
        if not summary.cases:
            data["detail"] = "nothing could be imported"
            return Response(data, status=status.HTTP_400_BAD_REQUEST)
        # Pre-labelling of the new cases, if on, subscribes to this (config/subscribers.py).
        publish(
            CasesImported(
                project_id=project.pk,
                case_ids=tuple(c.id for c in summary.cases if c.created),
                requested_by=request_user(request),
            )
        )
        return Response(data, status=status.HTTP_201_CREATED)
