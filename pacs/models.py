"""A project's PACS connection and its import jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from annotation.models import Project


class PacsConnection(models.Model):
    """Where the project's DICOMweb server is and how to log in; the password is kept
    encrypted (pacs.crypto) and never sent back."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, related_name="pacs_connection"
    )
    base_url = models.URLField(max_length=500)
    username = models.CharField(max_length=200, blank=True)
    password_encrypted = models.TextField(blank=True)
    timeout_s = models.FloatField(default=30.0)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"pacs@{self.project_id}"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Partly imported"
    FAILED = "failed", "Failed"


class PacsImport(models.Model):
    """One request to import studies; ``studies`` holds the StudyInstanceUIDs the lead
    picked (never shown to anyone but leads). A retry runs the same row again."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="pacs_imports")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    studies = models.JSONField(default=list)
    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    instances_total = models.IntegerField(default=0)
    instances_done = models.IntegerField(default=0)
    # The ingest summary (cases by pseudonym, series, images, refused files, notes) and
    # one message per study that failed, naming the cause; never a header value.
    summary = models.JSONField(default=dict)
    errors = models.JSONField(default=list)
    attempts = models.IntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"pacs-import {self.pk} ({self.status})"
