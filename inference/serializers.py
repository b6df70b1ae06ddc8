"""The pre-label job as replies and live `job.progress` events show it (one shape for both)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from annotation.apis.serializers import IsoDateTimeField
from inference.models import PrelabelJob


class JobOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    status = serializers.CharField()
    progress = serializers.SerializerMethodField()
    message = serializers.CharField()
    error = serializers.CharField()
    read = serializers.IntegerField(source="read_id", allow_null=True)
    attempts = serializers.IntegerField()
    created_at = IsoDateTimeField()
    finished_at = IsoDateTimeField(allow_null=True)

    def get_progress(self, job: PrelabelJob) -> float:
        # Three decimals: enough for a progress bar, and stable across announcements.
        return round(job.progress, 3)


def job_data(job: PrelabelJob) -> dict[str, Any]:
    """One job's reply (and live event) payload."""
    return dict(JobOutputSerializer(job).data)
