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


class Correction(models.Model):
    """What a person changed of a model's pre-label: one row per (human or gold read, the
    revision that counted: its submission or its signature) and the case's model read.

    Active learning learns from these (which cases the model gets wrong, and how), and the
    dashboards show the worst. Rows are append-only, like the revisions they compare."""

    project = models.ForeignKey("annotation.Project", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey("annotation.Case", on_delete=models.CASCADE, related_name="+")
    model_read = models.ForeignKey("annotation.Read", on_delete=models.CASCADE, related_name="+")
    model_revision_id = models.BigIntegerField()
    # The versions that made the model read (one per task: sagittal, axial).
    model_version_ids = models.JSONField(default=list)
    read = models.ForeignKey("annotation.Read", on_delete=models.CASCADE, related_name="+")
    revision_id = models.BigIntegerField()
    # "human" (an annotator's or reader's submitted read) or "gold" (a signed gold read).
    kind = models.CharField(max_length=8)
    # {structure: {"dice": x, "hd95_mm": x}} (None where undefined).
    areas = models.JSONField(default=dict)
    # {corner label: displacement in mm} for every corner both reads placed.
    keypoints = models.JSONField(default=dict)
    # {measurement: {"model": x, "human": x, "delta": human - model}} (None where missing).
    measurements = models.JSONField(default=dict)
    # One number to rank by: mean over the structures of (1 - Dice), in [0, 1].
    magnitude = models.FloatField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["read", "revision_id"], name="correction_unique_read_revision"
            )
        ]
        indexes = [models.Index(fields=["project", "-magnitude"], name="correction_worst")]

    def __str__(self) -> str:
        return f"correction of model read {self.model_read_id} by read {self.read_id}"
