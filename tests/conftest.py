"""The named cast of the test suite and shared fixtures.

Every endpoint is tried by an annotator, a reader, a reviewer, a lead and an outsider
(a user of no project): the outsider must always be refused.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.test import Client

from annotation.models import Case, Project
from annotation.selectors.geometry import image_geometry_cache_clear
from annotation.services.projects import membership_set, project_create
from tests.factories import make_case

PASSWORD = "correct-horse-battery"
# Live-event tests on Redis: their keys carry a prefix of this process (see channel_layer).
REDIS_URL_FOR_TESTS = os.environ.get("REDIS_URL_FOR_TESTS", "redis://127.0.0.1:6379/9")


@pytest.fixture(autouse=True)
def _isolated_data_dir(settings, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Pixel files of one test never leak into another or into var/."""
    root = tmp_path_factory.mktemp("data")
    settings.DATA_DIR = root
    settings.PIXEL_ROOT = root / "pixels"
    settings.MEDIA_ROOT = root / "media"
    settings.MODEL_DIR = root / "models"
    settings.LIVE_OUTBOX_ENABLED = False
    settings.PRELABEL_ON_IMPORT = False
    image_geometry_cache_clear()


@functools.cache
def _password_hash() -> str:
    # Hashing costs about 0.25 s (PBKDF2, as shipped): once per process, not five times a test.
    return make_password(PASSWORD)


def _user(username: str) -> User:
    return User.objects.create(username=username, password=_password_hash())


@pytest.fixture
def project(db: None) -> Project:
    return project_create(slug="cervical", name="Cervical study")


@pytest.fixture
def cast(project: Project) -> dict[str, User]:
    people = {name: _user(name) for name in ("annotator", "reader", "reviewer", "lead", "outsider")}
    for role in ("annotator", "reader", "reviewer", "lead"):
        membership_set(project=project, user=people[role], role=role)
    return people


@pytest.fixture
def clients(cast: dict[str, User]) -> dict[str, Client]:
    result = {}
    for name, user in cast.items():
        client = Client()
        client.force_login(user)
        result[name] = client
    result["anonymous"] = Client()
    return result


@pytest.fixture
def case(project: Project) -> Case:
    return make_case(project=project)


@pytest.fixture
def fixtures_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "fixtures"


def _redis_layer(prefix: str) -> dict[str, object]:
    # socket_timeout None: redis-py 8's default 5 s timeout kills idle sockets (PITFALLS.md).
    hosts = [{"address": REDIS_URL_FOR_TESTS, "socket_timeout": None}]
    return {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": hosts, "prefix": prefix},
    }


@pytest.fixture(params=["memory", "redis"])
def channel_layer(request: pytest.FixtureRequest, settings) -> Iterator[str]:
    """Runs a live-event test on the embedded in-memory layer and on Redis (at scale);
    yields "memory" or "redis". Redis keys are prefixed by this process (xdist workers and
    parallel runs never share a group) and deleted afterwards."""
    from channels.layers import channel_layers

    prefix = f"tests-{os.getpid()}-"
    if request.param == "redis":
        import redis

        client = redis.Redis.from_url(REDIS_URL_FOR_TESTS)
        try:
            client.ping()
        except redis.ConnectionError as exc:
            pytest.fail(f"Redis at {REDIS_URL_FOR_TESTS} does not answer ({exc})")
        settings.CHANNEL_LAYERS = {"default": _redis_layer(prefix)}
    else:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield request.param
    channel_layers.backends.clear()
    if request.param == "redis":
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
