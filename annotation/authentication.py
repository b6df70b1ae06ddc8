"""``Authorization: Bearer <token>``: a personal API token (annotation.models.ApiToken)
acts as its user, limited to the token's projects when it names some.

Without the header the next authenticator (the session) decides, so an anonymous request
still gets 403; a header with an unknown or revoked token gets 401 with
``WWW-Authenticate: Bearer``.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from annotation.models import ApiToken
from annotation.selectors.tokens import token_for_secret
from annotation.services.tokens import token_mark_used
from annotation.tokens import scope_user_to_token

_SCHEME = "bearer"


def _bearer(request: Request | HttpRequest) -> str | None:
    header = str(request.META.get("HTTP_AUTHORIZATION", ""))
    scheme, _, value = header.partition(" ")
    if scheme.lower() != _SCHEME:
        return None
    return value.strip()


def _live_token(secret: str) -> ApiToken:
    token = token_for_secret(secret=secret) if secret else None
    if token is None or not token.user.is_active:
        raise AuthenticationFailed("Invalid or revoked API token.", code="invalid_token")
    token_mark_used(token=token)
    return token


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        secret = _bearer(request)
        if secret is None:
            return None
        token = _live_token(secret)
        return scope_user_to_token(token), token

    def authenticate_header(self, request: Request) -> str | None:
        # Only a request that tried a token is told to send one (the others keep 403).
        return 'Bearer realm="api"' if _bearer(request) is not None else None


def plain_view_user(request: HttpRequest) -> User | AnonymousUser:
    """The user of a plain Django view (the pixel routes, which skip DRF for speed): the
    token's when the request sends one (AuthenticationFailed becomes the caller's 401),
    else the session's."""
    secret = _bearer(request)
    if secret is None:
        return request.user
    return scope_user_to_token(_live_token(secret))
