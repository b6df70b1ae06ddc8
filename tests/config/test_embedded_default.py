"""The embedded default (SQLite under DATA_DIR, no servers) migrates and serves."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_the_embedded_sqlite_default_migrates_and_serves(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["DATA_DIR"] = str(tmp_path / "var")
    env["TASKS_BACKEND"] = "database"
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=240,
    )
    assert (tmp_path / "var" / "db.sqlite3").exists()
    port = _free_port()
    server = subprocess.Popen(
        [
            str(Path(python).parent / "uvicorn"),
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "on",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        body = b""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/accounts/login/", timeout=5
                ) as r:
                    assert r.status == 200
                    body = r.read()
                    break
            except OSError:
                time.sleep(0.3)
        assert b"Sign in" in body
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/projects", timeout=5)
        assert refused.value.code == 403
    finally:
        server.terminate()
        server.wait(timeout=20)
