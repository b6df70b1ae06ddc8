"""Personal API tokens: a secret a user creates on their profile page and sends as
``Authorization: Bearer <token>``. Only its SHA-256 is stored (tokens are 256-bit random,
so a fast hash is enough); the token acts as its user, optionally limited to projects."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from annotation.models.projects import Project


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    # The first characters of the token ("sl_" + 8), shown in lists to tell tokens apart.
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)  # SHA-256 hex of the whole token
    # Empty: every project the user is a member of; else only these (still as a member).
    projects = models.ManyToManyField(Project, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="apitoken_user_live")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"
