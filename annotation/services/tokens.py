"""Create and revoke personal API tokens; note when one was last used."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from annotation.models import ApiToken, Membership
from annotation.tokens import PREFIX_CHARS, new_secret, secret_digest

# last_used_at is written at most this often per token (not one UPDATE per request).
LAST_USED_RESOLUTION = datetime.timedelta(seconds=60)
MAX_LIVE_TOKENS = 20


@transaction.atomic
def token_create(*, user: User, name: str, projects: list[str]) -> tuple[ApiToken, str]:
    """A new token for ``user`` limited to ``projects`` (slugs of their memberships; empty:
    all of them) and its secret, which is returned only here (only its digest is stored)."""
    User.objects.select_for_update().filter(pk=user.pk).first()  # serialise the count check
    if ApiToken.objects.filter(user_id=user.pk, revoked_at=None).count() >= MAX_LIVE_TOKENS:
        raise ValidationError(
            {"name": [f"At most {MAX_LIVE_TOKENS} live tokens: revoke one first."]}
        )
    slugs = sorted(set(projects))
    memberships = {
        row.project.slug: row.project
        for row in Membership.objects.filter(
            user_id=user.pk, project__slug__in=slugs
        ).select_related("project")
    }
    unknown = [slug for slug in slugs if slug not in memberships]
    if unknown:
        raise ValidationError({"projects": [f"not a project of yours: {', '.join(unknown)}"]})
    secret = new_secret()
    token = ApiToken.objects.create(
        user=user, name=name, prefix=secret[:PREFIX_CHARS], digest=secret_digest(secret)
    )
    token.projects.set(memberships.values())
    return token, secret


def token_revoke(*, user: User, token_id: int) -> None:
    """Revoke one of the user's live tokens (404 for anybody else's or a revoked one)."""
    revoked = ApiToken.objects.filter(pk=token_id, user_id=user.pk, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    if not revoked:
        raise Http404("no such token")


def token_mark_used(*, token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
