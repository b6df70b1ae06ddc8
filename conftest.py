"""Test-wide defaults: the suite runs against PostgreSQL, never the embedded SQLite.

pytest-django imports the settings before this file, so the database entry is switched
in place here, before any connection is opened. DATABASE_URL (or the default below) names
the server; DATABASE_TEST_NAME lets parallel runs use separate test databases.
"""

import contextlib
import os

from django.conf import settings
from django.db import connections

from config.env import database_settings

DEFAULT_TEST_DATABASE_URL = "postgres://spinelabel@127.0.0.1:5432/spinelabel"
os.environ.setdefault("DATABASE_URL", DEFAULT_TEST_DATABASE_URL)
_default = settings.DATABASES["default"]
_default.clear()
_default.update(database_settings(os.environ["DATABASE_URL"], pool=False))
connections.configure_settings(settings.DATABASES)
# The sqlite wrapper may already exist (pytest-django touches it while setting up).
with contextlib.suppress(AttributeError):
    del connections["default"]
