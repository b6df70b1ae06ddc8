"""Reads and revisions: list, create my read, save (append) a revision, history, restore."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.apis.pagination import (
    DateRangeParams,
    PageParams,
    in_date_range,
    list_response,
    page_params,
    paginated,
)
from annotation.apis.serializers import (
    ReadSerializer,
    RevisionFullSerializer,
    RevisionSummarySerializer,
)
from annotation.auth import request_user
from annotation.models import ReadKind, Revision
from annotation.selectors.access import access_case, access_read, access_read_for_write
from annotation.selectors.reads import (
    case_image_bounds,
    read_list_for_case,
    read_with_head,
    revision_history,
)
from annotation.services.reads import read_get_or_create_human
from annotation.services.revisions import StaleParent, revision_create, revision_restore
from annotation.shapes import case_fields_validate, shapes_validate


class ConflictSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
    head = RevisionFullSerializer(allow_null=True)


def conflict_response(exc: StaleParent) -> Response:
    """The 409 of every write route: the save was based on an old head; here is the new one."""
    reply = {
        "detail": "This read has a newer revision than the one your changes are based on.",
        "head": exc.head,
    }
    return Response(ConflictSerializer(reply).data, status=status.HTTP_409_CONFLICT)


class CaseReadListApi(APIView):
    class FilterSerializer(PageParams):
        kind = serializers.ChoiceField(choices=ReadKind.choices, required=False)

    @paginated(ReadSerializer, params=FilterSerializer)
    def get(self, request: Request, case_id: int) -> Response:
        user = request_user(request)
        case, role = access_case(user=user, case_id=case_id)
        params = page_params(request, self.FilterSerializer)
        reads = read_list_for_case(case=case, user=user, role=role)
        if params.get("kind"):
            reads = [read for read in reads if read.kind == params["kind"]]
        context = {"user": user, "role": role}
        return list_response(
            request,
            reads,
            params=params,
            serialize=lambda rows: ReadSerializer(rows, many=True, context=context).data,
        )

    @extend_schema(request=None, responses={200: ReadSerializer, 201: ReadSerializer})
    def post(self, request: Request, case_id: int) -> Response:
        user = request_user(request)
        case, role = access_case(user=user, case_id=case_id)
        read, created = read_get_or_create_human(case=case, author=user)
        return Response(
            ReadSerializer(
                read_with_head(read_id=read.pk), context={"user": user, "role": role}
            ).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ReadDetailApi(APIView):
    class OutputSerializer(ReadSerializer):
        revision = RevisionFullSerializer(source="head", allow_null=True)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request, read_id: int) -> Response:
        user = request_user(request)
        read, role = access_read(user=user, read_id=read_id)
        context = {"user": user, "role": role}
        return Response(
            self.OutputSerializer(read_with_head(read_id=read.pk), context=context).data
        )


class RevisionCreateApi(APIView):
    class InputSerializer(serializers.Serializer[Any]):
        parent = serializers.IntegerField(allow_null=True)  # type: ignore[assignment]
        shapes = serializers.JSONField()
        case_fields = serializers.JSONField(required=False, default=dict)
        message = serializers.CharField(required=False, allow_blank=True, max_length=500)

    class OutputSerializer(RevisionSummarySerializer):
        # The client has the shapes it sent: answer with the summary, not a 10 kB echo.
        read = serializers.IntegerField(source="read_id")

    class FilterSerializer(DateRangeParams):
        author = serializers.IntegerField(required=False, min_value=1, help_text="user id")

    @paginated(RevisionSummarySerializer, params=FilterSerializer)
    def get(self, request: Request, read_id: int) -> Response:
        read, _ = access_read(user=request_user(request), read_id=read_id)
        params = page_params(request, self.FilterSerializer)
        revisions = [
            revision
            for revision in revision_history(read=read)
            if in_date_range(revision.created_at, params)
            and params.get("author") in (None, revision.author_id)
        ]
        return list_response(
            request,
            revisions,
            params=params,
            serialize=lambda rows: RevisionSummarySerializer(rows, many=True).data,
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer, 400: OpenApiTypes.OBJECT, 409: ConflictSerializer},
    )
    def post(self, request: Request, read_id: int) -> Response:
        read, _ = access_read_for_write(user=request_user(request), read_id=read_id)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        template = read.case.project.template
        errors = shapes_validate(
            shapes=data["shapes"],
            template=template,
            images=case_image_bounds(
                case_id=read.case_id,
                image_ids=data["shapes"].keys() if isinstance(data["shapes"], dict) else (),
            ),
        )
        field_problems = case_fields_validate(fields=data["case_fields"], template=template)
        if errors or field_problems:
            return Response(
                {
                    "detail": f"{len(errors) + len(field_problems)} problem(s); nothing was saved",
                    "errors": [error.as_dict() for error in errors],
                    "case_fields": field_problems,
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            revision = revision_create(
                read=read,
                parent_id=data["parent"],
                shapes={str(k): v for k, v in data["shapes"].items()},
                case_fields=data["case_fields"],
                author=request_user(request),
                message=data.get("message", ""),
            )
        except StaleParent as exc:
            return conflict_response(exc)
        return Response(self.OutputSerializer(revision).data, status=status.HTTP_201_CREATED)


class RevisionDetailApi(APIView):
    @extend_schema(responses={200: RevisionFullSerializer})
    def get(self, request: Request, revision_id: int) -> Response:
        revision = Revision.objects.select_related("author").filter(pk=revision_id).first()
        if revision is None:
            raise Http404("no such revision")
        access_read(user=request_user(request), read_id=revision.read_id)
        return Response(RevisionFullSerializer(revision).data)


class RevisionRestoreApi(APIView):
    class InputSerializer(serializers.Serializer[Any]):
        revision = serializers.IntegerField()
        parent = serializers.IntegerField(allow_null=True)  # type: ignore[assignment]

    @extend_schema(
        request=InputSerializer, responses={201: RevisionFullSerializer, 409: ConflictSerializer}
    )
    def post(self, request: Request, read_id: int) -> Response:
        read, _ = access_read_for_write(user=request_user(request), read_id=read_id)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        old = Revision.objects.filter(pk=payload.validated_data["revision"], read=read).first()
        if old is None:
            raise serializers.ValidationError({"revision": ["not a revision of this read"]})
        try:
            revision = revision_restore(
                read=read,
                revision=old,
                parent_id=payload.validated_data["parent"],
                author=request_user(request),
            )
        except StaleParent as exc:
            return conflict_response(exc)
        return Response(RevisionFullSerializer(revision).data, status=status.HTTP_201_CREATED)
