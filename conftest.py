"""Test-wide defaults: the suite runs against PostgreSQL (never the embedded SQLite)."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://spinelabel@127.0.0.1:5432/spinelabel")
os.environ.setdefault("DATA_DIR", os.path.join(os.path.dirname(__file__), "var", "test-data"))
os.environ.setdefault("PRELABEL_ON_IMPORT", "false")
