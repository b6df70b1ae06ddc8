"""The named cast of the test suite and shared fixtures.

Every endpoint is tried by an annotator, a reader, a reviewer, a lead and an outsider
(a user of no project): the outsider must always be refused.
"""

from __future__ import annotations

import functools
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
