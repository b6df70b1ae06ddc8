"""An import job as replies and live `pacs.progress` events show it (one shape for both).

It carries pseudonyms, counts and messages only: never the study UIDs the lead picked, so
the project socket may forward it to every member."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from pacs.models import PacsImport


def import_data(job: PacsImport) -> dict[str, Any]:
    summary = job.summary or {}
    return {
        "id": job.pk,
        "status": job.status,
        "studies": len(job.studies),
        "instances_total": job.instances_total,
        "instances_done": job.instances_done,
        "cases": [c["pseudonym"] for c in summary.get("cases", [])],
        "series": int(summary.get("series", 0)),
        "images": int(summary.get("images", 0)),
        "skipped": list(summary.get("skipped", [])),
        "notes": list(summary.get("notes", [])),
        "errors": list(job.errors),
        "attempts": job.attempts,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


# The schema of `import_data` (the list and the live events carry the same shape); inline,
# because a declared Serializer may not have a field named "errors".
IMPORT_SCHEMA = inline_serializer(
    name="PacsImport",
    fields={
        "id": serializers.IntegerField(),
        "status": serializers.CharField(),
        "studies": serializers.IntegerField(help_text="how many studies the job imports"),
        "instances_total": serializers.IntegerField(),
        "instances_done": serializers.IntegerField(),
        "cases": serializers.ListField(child=serializers.CharField(), help_text="pseudonyms"),
        "series": serializers.IntegerField(),
        "images": serializers.IntegerField(),
        "skipped": serializers.ListField(child=serializers.JSONField()),
        "notes": serializers.ListField(child=serializers.JSONField()),
        "errors": serializers.ListField(child=serializers.JSONField()),
        "attempts": serializers.IntegerField(),
        "created_at": serializers.CharField(allow_null=True),
        "finished_at": serializers.CharField(allow_null=True),
    },
    many=True,
)
