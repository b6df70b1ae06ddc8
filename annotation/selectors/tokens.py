"""Personal API tokens: a user's live tokens, and the token a secret names."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from annotation.models import ApiToken
from annotation.tokens import TOKEN_PREFIX, secret_digest

MAX_SECRET_CHARS = 128


def token_list(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens not revoked, newest first, with their projects (two queries)."""
    return (
        ApiToken.objects.filter(user_id=user.pk, revoked_at=None)
        .only("id", "name", "prefix", "created_at", "last_used_at", "user_id")
        .prefetch_related("projects")
        .order_by("-created_at", "-id")
    )


def token_for_secret(*, secret: str) -> ApiToken | None:
    """The live token whose digest matches, with its user and projects (the lookup is by
    digest, a unique index: no timing difference between tokens)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > MAX_SECRET_CHARS:
        return None
    return (
        ApiToken.objects.select_related("user")
        .prefetch_related("projects")
        .filter(digest=secret_digest(secret), revoked_at=None)
        .first()
    )
