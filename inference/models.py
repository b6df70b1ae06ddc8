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


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class PrelabelJob(models.Model):
    """One pre-label run of one case; its task result lives in the task backend."""

    case = models.ForeignKey(
        "annotation.Case", on_delete=models.CASCADE, related_name="prelabel_jobs"
    )
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.FloatField(default=0.0)
    message = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    read = models.ForeignKey(
        "annotation.Read", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    model_versions = models.ManyToManyField(ModelVersion, blank=True, related_name="jobs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Moved forward while the job runs: a RUNNING job whose heartbeat is old lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Per-image uncertainty of the prediction ({image id: score}) for active learning.
    uncertainty = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat")]

    def __str__(self) -> str:
        return f"prelabel job {self.pk} ({self.status})"
