"""The per-case measurement page's data: every read of a case the user may see (annotator,
reader, model, gold; blinding as everywhere), each with its head's stored results side by side.

Each read also carries the disc level of its axial images (seed 000's per-level table):
a labelme image flag where one is set, else the level its own sagittal vertebral corners
place the image at, else the gold read's corners when the user may see the gold read
(measurements.levels), with where each level came from.

A fixed number of queries whatever the number of reads and results: the case (one), the
reads with heads and authors (one), the authors' roles (one), the results (one), the
signatures of the heads (one), the heads' shapes and flags (one), the case's image
geometry (one).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.apis.serializers import AuthorSerializer, IsoDateTimeField
from annotation.auth import request_user
from annotation.models import GoldSignature
from annotation.selectors.access import access_case
from annotation.selectors.reads import read_list_for_case
from annotation.selectors.review import colour_key
from measurements.apis import RevisionMeasurementsApi
from measurements.levels import ReadLevels, case_read_levels
from measurements.models import MeasurementResult


def _levels_json(found: ReadLevels | None) -> list[dict[str, Any]]:
    if found is None:
        return []
    return [
        {
            "image": image,
            "level": lvl.level,
            "origin": lvl.source,
            "corners_read": found.corners_read_id if lvl.source == "corners" else None,
            "distance_mm": lvl.distance_mm,
            "estimated": lvl.estimated,
        }
        for image, lvl in sorted(found.levels.items())
    ]


class LevelSerializer(serializers.Serializer[Any]):
    """An axial image's disc level: origin "flag" (a labelme image flag) or "corners" (the
    sagittal corners of read `corners_read`, `distance_mm` from the disc centre)."""

    image = serializers.IntegerField()
    level = serializers.CharField()
    origin = serializers.ChoiceField(choices=["flag", "corners"])
    corners_read = serializers.IntegerField(allow_null=True)
    distance_mm = serializers.FloatField(allow_null=True)
    estimated = serializers.BooleanField()


class CaseMeasurementsApi(APIView):
    """``GET /api/cases/{id}/measurements``: any member; the reads are those the user sees."""

    class ReadSerializer(serializers.Serializer[Any]):
        id = serializers.IntegerField(source="read.pk")
        kind = serializers.CharField(source="read.kind")
        key = serializers.CharField()
        colour = serializers.CharField()
        title = serializers.CharField()
        name = serializers.CharField(source="read.name")
        author = AuthorSerializer(source="read.author", allow_null=True)
        revision = serializers.IntegerField(source="read.head_id", allow_null=True)
        revision_number = serializers.IntegerField(source="read.head.number", allow_null=True)
        submitted_at = IsoDateTimeField(source="read.submitted_at", allow_null=True)
        signed = serializers.BooleanField()
        results = RevisionMeasurementsApi.OutputSerializer.ResultSerializer(many=True)
        levels = LevelSerializer(many=True)
        level_notes = serializers.ListField(child=serializers.CharField())

    class OutputSerializer(serializers.Serializer[Any]):
        case = serializers.IntegerField()
        role = serializers.CharField()
        reads = serializers.ListField(child=serializers.DictField())

    @extend_schema(request=None, responses={200: OutputSerializer})
    def get(self, request: Request, case_id: int) -> Response:
        user = request_user(request)
        case, role = access_case(user=user, case_id=case_id)
        reads = read_list_for_case(case=case, user=user, role=role)
        heads = [r.head_id for r in reads if r.head_id is not None]
        by_revision: dict[int, list[MeasurementResult]] = {}
        if heads:
            rows = MeasurementResult.objects.filter(revision_id__in=heads).order_by("image_id")
            for row in rows:
                by_revision.setdefault(row.revision_id, []).append(row)
        signed = (
            set(
                GoldSignature.objects.filter(revision_id__in=heads).values_list(
                    "revision_id", flat=True
                )
            )
            if heads
            else set()
        )
        levels = case_read_levels(case_id=case.pk, reads=reads)
        out = [
            {
                "read": r.read,
                "key": r.key,
                "colour": r.colour,
                "title": r.title,
                "signed": r.read.head_id in signed,
                "results": by_revision.get(r.read.head_id or 0, []),
                "levels": _levels_json(levels.get(r.read.pk)),
                "level_notes": list(levels[r.read.pk].notes) if r.read.pk in levels else [],
            }
            for r in colour_key(case=case, reads=reads)
        ]
        reads_out = self.ReadSerializer(out, many=True).data
        return Response(
            self.OutputSerializer({"case": case.pk, "role": role, "reads": reads_out}).data
        )
