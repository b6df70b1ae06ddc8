"""Export jobs: what a lead asked to export, how far the task got, and the archive it made."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class SelectionKind(models.TextChoices):
    GOLD = "gold", "Gold standard (signed)"
    GROUP = "group", "A reader group (every read of one role)"
    ANNOTATOR = "annotator", "One annotator's reads"
    MODEL = "model", "One model version's reads"


class ExportJob(models.Model):
    project = models.ForeignKey(
        "annotation.Project", on_delete=models.CASCADE, related_name="export_jobs"
    )
    # "" exports every split.
    split = models.CharField(max_length=16, blank=True, default="")
    selection_kind = models.CharField(max_length=16, choices=SelectionKind.choices)
    # group: the role; annotator: the user id; model: the model version id; gold: "".
    selection_value = models.CharField(max_length=64, blank=True, default="")
    formats = models.JSONField(default=list)
    status = models.CharField(
        max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    progress = models.FloatField(default=0.0)  # 0..1
    cases_total = models.PositiveIntegerField(default=0)
    cases_done = models.PositiveIntegerField(default=0)
    # Why it failed, in words for the lead.
    reason = models.TextField(blank=True)
    # The zip, relative to EXPORT_ROOT; "" until the task succeeded.
    file = models.CharField(max_length=255, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The download link stops working then (410); set when the archive is written.
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["project", "-id"], name="exportjob_project_recent")]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.status})"
