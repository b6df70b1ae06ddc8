"""Measurement results, one row per (revision, image), with their provenance."""

from __future__ import annotations

from django.db import models


class MeasurementResult(models.Model):
    revision = models.ForeignKey(
        "annotation.Revision", on_delete=models.CASCADE, related_name="measurements"
    )
    image = models.ForeignKey("annotation.Image", on_delete=models.CASCADE, related_name="+")
    view = models.CharField(max_length=16)
    values = models.JSONField(default=dict)
    chords = models.JSONField(default=list)
    warnings = models.JSONField(default=list)
    missing = models.JSONField(default=list)
    algorithm_version = models.CharField(max_length=32)
    parameters = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["revision_id", "image_id"]
        constraints = [
            models.UniqueConstraint(fields=["revision", "image"], name="measurement_unique_image")
        ]

    def __str__(self) -> str:
        return f"measurements of revision {self.revision_id} image {self.image_id}"
