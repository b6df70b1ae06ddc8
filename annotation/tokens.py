"""The secret format of personal API tokens and the project scope a token carries.

A token is ``sl_`` + 43 URL-safe characters (256 random bits); only its SHA-256 is stored.
A request authenticated by a token carries the token's project limit on its user object
(``token_project_ids``); the access selectors apply it, so a limited token acts as its user
in those projects only and as an outsider everywhere else.
"""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AnonymousUser, User

from annotation.models import ApiToken

TOKEN_PREFIX = "sl_"  # noqa: S105 (the format's marker, not a secret)
PREFIX_CHARS = len(TOKEN_PREFIX) + 8
_SCOPE_ATTRIBUTE = "_api_token_project_ids"
_VIA_ATTRIBUTE = "_api_via"


def new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def scope_user_to_token(token: ApiToken) -> User:
    """The token's user, marked with the projects the token is limited to (None: all)."""
    user = token.user
    limited = frozenset(project.pk for project in token.projects.all())
    setattr(user, _SCOPE_ATTRIBUTE, limited or None)
    setattr(user, _VIA_ATTRIBUTE, token.pk)
    return user


def token_project_ids(user: User | AnonymousUser) -> frozenset[int] | None:
    """The projects a token-authenticated request may reach; None: no limit."""
    scope = getattr(user, _SCOPE_ATTRIBUTE, None)
    return scope if isinstance(scope, frozenset) else None


def via_token(user: User | AnonymousUser) -> bool:
    return getattr(user, _VIA_ATTRIBUTE, None) is not None
