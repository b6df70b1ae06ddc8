"""Sign-in is throttled per account and per address, and the Django admin is off unless
ADMIN_ENABLED is set (issue 11, row 6)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import clear_url_caches

from annotation.auth import _key

pytestmark = pytest.mark.django_db

PASSWORD = "the-right-password-1"
ADDRESSES = ("10.9.0.1", "10.9.0.2")


@pytest.fixture
def people(settings) -> Iterator[list[User]]:
    settings.LOGIN_FAILURE_LIMIT_ACCOUNT = 5
    settings.LOGIN_FAILURE_LIMIT_ADDRESS = 20
    # Each sign-in checks a password: a fast hasher keeps thirty of them quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    users = [User.objects.create_user(f"throttled-{n}", password=PASSWORD) for n in range(8)]
    yield users
    # The counters live in the cache, which outlives the test database's rollback.
    for user in users:
        cache.delete(_key("account", user.username))
    for address in ADDRESSES:
        cache.delete(_key("address", address))


def _sign_in(username: str, password: str, address: str = ADDRESSES[0]):
    client = Client(REMOTE_ADDR=address)
    response = client.post("/accounts/login/", {"username": username, "password": password})
    return response, client


def test_the_right_password_is_refused_after_repeated_failures_on_the_account(people) -> None:
    user = people[0]
    for _ in range(5):
        wrong, _ = _sign_in(user.username, "wrong")
        assert wrong.status_code == 200

    right, client = _sign_in(user.username, PASSWORD, address=ADDRESSES[1])

    assert right.status_code == 429
    assert b"Too many failed sign-ins" in right.content
    assert b"Try again in 15 minute(s)" in right.content
    assert "_auth_user_id" not in client.session


def test_failures_from_one_address_lock_every_account_there_but_not_elsewhere(
    people, settings
) -> None:
    settings.LOGIN_FAILURE_LIMIT_ADDRESS = 6
    for user in people[:3]:
        for _ in range(2):
            _sign_in(user.username, "wrong")

    here, _ = _sign_in(people[5].username, PASSWORD)
    elsewhere, client = _sign_in(people[5].username, PASSWORD, address=ADDRESSES[1])

    assert here.status_code == 429
    assert elsewhere.status_code == 302
    assert client.session["_auth_user_id"] == str(people[5].pk)


def test_a_success_clears_the_accounts_count(people) -> None:
    user = people[0]
    for _ in range(4):
        _sign_in(user.username, "wrong")
    assert _sign_in(user.username, PASSWORD)[0].status_code == 302
    for _ in range(4):
        _sign_in(user.username, "wrong")

    response, _ = _sign_in(user.username, PASSWORD)

    assert response.status_code == 302


def test_the_username_is_counted_case_insensitively(people) -> None:
    user = people[1]
    for index in range(5):
        name = user.username.upper() if index % 2 else user.username
        _sign_in(name, "wrong", address=ADDRESSES[index % 2])

    response, _ = _sign_in(user.username, PASSWORD, address=ADDRESSES[1])

    assert response.status_code == 429


def _reload_urls() -> None:
    import config.urls

    importlib.reload(config.urls)
    clear_url_caches()


def test_the_admin_is_off_by_default() -> None:
    client = Client()

    assert client.get("/admin/login/").status_code == 404
    assert client.get("/admin/").status_code == 404


def test_the_admin_answers_when_enabled(settings) -> None:
    settings.ADMIN_ENABLED = True
    _reload_urls()
    try:
        response = Client().get("/admin/login/")
    finally:
        settings.ADMIN_ENABLED = False
        _reload_urls()

    assert response.status_code == 200


UNREACHABLE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
    }
}


def test_sign_in_still_works_when_the_cache_is_down(people) -> None:
    sessions = "django.contrib.sessions.backends.db"
    with override_settings(CACHES=UNREACHABLE_CACHE, SESSION_ENGINE=sessions):
        wrong, _ = _sign_in(people[2].username, "wrong")
        right, client = _sign_in(people[2].username, PASSWORD)
        signed_in = client.session["_auth_user_id"]

    assert wrong.status_code == 200
    assert right.status_code == 302
    assert signed_in == str(people[2].pk)
