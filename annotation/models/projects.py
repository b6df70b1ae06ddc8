"""Projects with their label template, and who may do what in them."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models


def _new_salt() -> str:
    return secrets.token_hex(32)


class Project(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # Labels (name, colour, shape types, hotkey), named keypoint sets and case-level
    # fields; validated by annotation.templates.template_validate.
    template = models.JSONField(default=dict)
    # Secret used to derive pseudonyms and replacement UIDs; never shown to users.
    pseudonym_salt = models.CharField(max_length=64, default=_new_salt, editable=False)
    pseudonym_prefix = models.CharField(max_length=16, default="CASE")
    keep_original_files = models.BooleanField(default=False)
    prelabel_on_import = models.BooleanField(default=True)
    blinded = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.slug


class Role(models.TextChoices):
    ANNOTATOR = "annotator", "Annotator"
    READER = "reader", "Reader"
    REVIEWER = "reviewer", "Reviewer"
    LEAD = "lead", "Lead"


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.project_id}:{self.role}"
