"""The embedded default (SQLite under DATA_DIR, no servers) makes its key, migrates and
serves, as `make demo` runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.server import start_uvicorn, stop

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_embedded_sqlite_default_migrates_and_serves(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["DATA_DIR"] = str(tmp_path / "var")
    env["TASKS_BACKEND"] = "database"
    env.pop("SECRET_KEY", None)
    env.pop("SECRET_KEY_FILE", None)
    python = sys.executable
    for command in (["ensure_secret_key"], ["migrate", "--no-input", "-v", "0"]):  # as make demo
        subprocess.run([python, "manage.py", *command], cwd=ROOT, env=env, check=True, timeout=240)
    assert (tmp_path / "var" / "secret_key").exists()
    assert (tmp_path / "var" / "db.sqlite3").exists()
    server, url = start_uvicorn(env)
    try:
        with urllib.request.urlopen(f"{url}/accounts/login/", timeout=5) as response:
            assert response.status == 200
            assert b"Sign in" in response.read()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{url}/api/projects", timeout=5)
        assert refused.value.code == 403
    finally:
        stop(server)
