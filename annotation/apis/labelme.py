"""labelme JSON per image: export a revision's shapes of one image, import a file into my read."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.apis.reads import conflict_response
from annotation.apis.serializers import RevisionFullSerializer
from annotation.auth import request_user
from annotation.labelme_format import LabelmeFormatError, labelme_export, labelme_parse
from annotation.models import Image, Revision
from annotation.selectors.access import access_case, access_read, access_read_for_write
from annotation.selectors.reads import case_image_bounds
from annotation.services.revisions import StaleParent, revision_create
from annotation.shapes import shapes_validate


class ImageLabelmeExportApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("revision", int, required=False)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, image_id: int) -> Response:
        image = Image.objects.select_related("series").filter(pk=image_id).first()
        if image is None:
            raise Http404("no such image")
        access_case(user=request_user(request), case_id=image.series.case_id)
        revision_id = request.query_params.get("revision")
        if not revision_id or not revision_id.isdigit():
            raise serializers.ValidationError({"revision": ["give the revision to export"]})
        revision = Revision.objects.filter(pk=int(revision_id)).first()
        if revision is None:
            raise Http404("no such revision")
        read, _ = access_read(user=request_user(request), read_id=revision.read_id)
        if read.case_id != image.series.case_id:
            raise serializers.ValidationError({"revision": ["belongs to another case"]})
        key = str(image.pk)
        data = labelme_export(
            shapes=revision.shapes.get(key, []),
            meta=revision.image_meta.get(key),
            image_path=f"{read.case.pseudonym}_{image.series.orientation}_{image.index:03d}.png",
            rows=image.series.rows,
            columns=image.series.columns,
        )
        response = Response(data)
        response["Content-Disposition"] = (
            f'attachment; filename="{read.case.pseudonym}_{image.series.orientation}_'
            f'{image.index:03d}.json"'
        )
        return response


class ReadLabelmeImportApi(APIView):
    class InputSerializer(serializers.Serializer[Any]):
        image = serializers.IntegerField()
        parent = serializers.IntegerField(allow_null=True)  # type: ignore[assignment]
        data = serializers.JSONField()  # type: ignore[assignment]

    @extend_schema(request=InputSerializer, responses={201: RevisionFullSerializer})
    def post(self, request: Request, read_id: int) -> Response:
        read, _ = access_read_for_write(user=request_user(request), read_id=read_id)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        image = (
            Image.objects.select_related("series")
            .filter(pk=payload.validated_data["image"], series__case_id=read.case_id)
            .first()
        )
        if image is None:
            raise serializers.ValidationError({"image": ["not an image of this case"]})
        try:
            shapes, meta = labelme_parse(
                payload.validated_data["data"], rows=image.series.rows, columns=image.series.columns
            )
        except LabelmeFormatError as exc:
            raise serializers.ValidationError({"data": [str(exc)]}) from exc
        key = str(image.pk)
        errors = shapes_validate(
            shapes={key: shapes},
            template=read.case.project.template,
            images=case_image_bounds(case_id=read.case_id, image_ids=[key]),
        )
        if errors:
            return Response(
                {
                    "detail": f"{len(errors)} problem(s) in the file; nothing was saved",
                    "errors": [error.as_dict() for error in errors],
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        head = read.head
        merged_shapes = dict(head.shapes) if head else {}
        merged_shapes[key] = shapes
        merged_meta = dict(head.image_meta) if head else {}
        merged_meta[key] = meta
        try:
            revision = revision_create(
                read=read,
                parent_id=payload.validated_data["parent"],
                shapes=merged_shapes,
                case_fields=head.case_fields if head else {},
                author=request_user(request),
                message=(
                    f"labelme import into image {image.index + 1} of {image.series.orientation}"
                ),
                image_meta=merged_meta,
            )
        except StaleParent as exc:
            return conflict_response(exc)
        return Response(RevisionFullSerializer(revision).data, status=status.HTTP_201_CREATED)
