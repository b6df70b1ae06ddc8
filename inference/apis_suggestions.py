"""The pre-labels a model read withheld (calibrated confidence under the model's threshold),
offered as suggestions: whoever may see the model read may see them, nobody else (blinding
and the study design's unaided roles apply through `access_read`)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.auth import request_user
from annotation.models import ReadKind
from annotation.selectors.access import access_read
from inference.models import JobStatus, PrelabelJob


class SuggestionSerializer(serializers.Serializer[dict[str, Any]]):
    image = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]  # the field, not Field.label
    shape_type = serializers.CharField()
    points = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2)
    )
    confidence = serializers.FloatField(help_text="calibrated probability of being right")
    raw_confidence = serializers.FloatField(help_text="the network's own score")
    threshold = serializers.FloatField(help_text="the model's threshold for this kind")
    reason = serializers.CharField()


class SuggestionsOutputSerializer(serializers.Serializer[dict[str, Any]]):
    read = serializers.IntegerField()
    job = serializers.IntegerField(allow_null=True)
    items = SuggestionSerializer(many=True)


def read_suggestions(*, read_id: int, job: PrelabelJob | None) -> dict[str, Any]:
    """The reply: every withheld pre-label of the job that wrote the read, by image id."""
    withheld = job.withheld if job is not None else {}
    items = [
        {"image": int(image), **item}
        for image, entries in sorted(withheld.items(), key=lambda kv: int(kv[0]))
        for item in entries
    ]
    return {"read": read_id, "job": None if job is None else job.pk, "items": items}


class ReadSuggestionsApi(APIView):
    """GET: the suggestions withheld from a model read (none for other reads)."""

    @extend_schema(responses={200: SuggestionsOutputSerializer})
    def get(self, request: Request, read_id: int) -> Response:
        read, _ = access_read(user=request_user(request), read_id=read_id)
        job = None
        if read.kind == ReadKind.MODEL:
            job = (
                PrelabelJob.objects.filter(read=read, status=JobStatus.SUCCEEDED)
                .only("id", "withheld")
                .first()
            )
        return Response(
            SuggestionsOutputSerializer(read_suggestions(read_id=read.pk, job=job)).data
        )
