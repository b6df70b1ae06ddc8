"""Who is signed in: the typed user of an API request, and sign-in with throttling.

Failed sign-ins are counted in the cache per account and per address (REMOTE_ADDR); past
LOGIN_FAILURE_LIMIT_ACCOUNT or LOGIN_FAILURE_LIMIT_ADDRESS failures within
LOGIN_LOCKOUT_S, sign-in is refused (HTTP 429, with the wait) even with the right
password. A success clears the account's count, not the address's.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

logger = logging.getLogger(__name__)


def request_user(request: Request) -> User:
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise NotAuthenticated()
    return user


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"login-failures:{kind}:{digest}"


def _keys(request: HttpRequest | None, username: str) -> list[tuple[str, int]]:
    """(cache key, failure limit) of the account and of the client's address."""
    keys = [(_key("account", username.strip().lower()), settings.LOGIN_FAILURE_LIMIT_ACCOUNT)]
    address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    if address:
        keys.append((_key("address", address), settings.LOGIN_FAILURE_LIMIT_ADDRESS))
    return keys


def login_locked_for(request: HttpRequest | None, username: str) -> int:
    """Seconds until sign-in may be tried again for this account and address; 0 if now
    (also when the cache is down: an outage must not lock everybody out)."""
    wait = 0
    try:
        for key, limit in _keys(request, username):
            if int(cache.get(key) or 0) >= limit:
                latest = float(cache.get(f"{key}:at") or time.time())
                wait = max(wait, math.ceil(latest + settings.LOGIN_LOCKOUT_S - time.time()))
    except Exception:
        logger.warning("sign-in throttle: the cache failed; not checked", exc_info=True)
        return 0
    return max(wait, 0)


def login_failure_record(request: HttpRequest | None, username: str) -> None:
    """Count one failed sign-in (atomically: parallel guesses all count); the lockout
    window runs from the latest failure."""
    timeout = settings.LOGIN_LOCKOUT_S
    try:
        for key, _limit in _keys(request, username):
            if not cache.add(key, 1, timeout=timeout):
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.add(key, 1, timeout=timeout)
                cache.touch(key, timeout=timeout)
            cache.set(f"{key}:at", time.time(), timeout=timeout)
    except Exception:
        logger.warning("sign-in throttle: the cache failed; failure not counted", exc_info=True)


def login_success_record(request: HttpRequest | None, username: str) -> None:
    try:
        cache.delete(_key("account", username.strip().lower()))
    except Exception:
        logger.warning("sign-in throttle: the cache failed; count not cleared", exc_info=True)


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": (
            "Too many failed sign-ins for this account or from this address. "
            "Try again in %(minutes)s minute(s)."
        ),
    }

    def clean(self) -> dict[str, Any]:
        username = str(self.cleaned_data.get("username") or "")
        wait = login_locked_for(self.request, username)
        if wait:
            raise ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"minutes": max(1, math.ceil(wait / 60))},
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            login_failure_record(self.request, username)
            raise
        login_success_record(self.request, username)
        return cleaned


class LoginView(auth_views.LoginView):
    """Django's sign-in page with the throttled form; a lockout answers 429."""

    authentication_form = ThrottledAuthenticationForm

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.has_error("__all__", code="locked"):
            response.status_code = 429
        return response
