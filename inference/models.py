"""The model registry and the record of pre-label jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ModelTask(models.TextChoices):
    SAGITTAL = "sagittal", "Sagittal cord, canal and vertebral corners"
    AXIAL = "axial", "Axial cord (and canal)"


class ModelStatus(models.TextChoices):
    CANDIDATE = "candidate", "Candidate"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class ModelVersion(models.Model):
    task = models.CharField(max_length=16, choices=ModelTask.choices)
    name = models.CharField(max_length=200)
    # Path relative to MODEL_DIR, or absolute for shipped models inside the repository.
    file = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField(default=0)
    # Input contract: size, normalisation, labels, keypoint names (inference/contract.py).
    contract = models.JSONField(default=dict)
    training_manifest = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=ModelStatus.choices, default=ModelStatus.CANDIDATE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task"],
                condition=models.Q(status="active"),
                name="modelversion_one_active_per_task",
            ),
            models.UniqueConstraint(fields=["task", "sha256"], name="modelversion_unique_file"),
        ]

    def __str__(self) -> str:
        return f"{self.task}:{self.name}"
