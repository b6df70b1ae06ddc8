"""The record of study-report jobs: who asked, how far it is, and where its files are."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ReportJob(models.Model):
    """One generation of a project's study report (HTML and CSV written atomically)."""

    project = models.ForeignKey(
        "annotation.Project", on_delete=models.CASCADE, related_name="report_jobs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The split Table 2 and the Bland-Altman plots are computed on ("test" as in seed 003,
    # or "all"); Table 1 always covers every split.
    split = models.CharField(max_length=16, default="test")
    status = models.CharField(
        max_length=16, choices=ReportStatus.choices, default=ReportStatus.QUEUED
    )
    progress = models.FloatField(default=0.0)  # 0..1
    stage = models.CharField(max_length=200, blank=True)
    # Why it failed, in words a lead can act on.
    reason = models.TextField(blank=True)
    # Relative to DATA_DIR; empty until the job succeeded.
    html_path = models.CharField(max_length=500, blank=True)
    csv_path = models.CharField(max_length=500, blank=True)
    # Counts shown in the list (gold cases, reads per group) once computed.
    summary = models.JSONField(default=dict, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["project", "-id"], name="reportjob_project_recent")]

    def __str__(self) -> str:
        return f"report {self.pk} of project {self.project_id} ({self.status})"
