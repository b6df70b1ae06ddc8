"""Production settings come from the environment: `check --deploy` is clean under the
variables the README documents, and the server refuses to start on the fallback secret
key when DEBUG is off (issue 11, row 7)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What the server runs at start-up (the lifespan event, or the first connection).
STARTUP = "import config.asgi; config.asgi.startup_checks()"

# The production variables of README.md's Configuration table.
PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "spine.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://spine.example.org",
    "HTTPS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    # DJANGO_ALLOW_ASYNC_UNSAFE: the browser tests set it in this process (ORM beside
    # Playwright); a deployment never has it, and `check --deploy` rightly refuses it.
    names = {
        "SECRET_KEY",
        "SECRET_KEY_FILE",
        "DEBUG",
        "HTTPS",
        "ADMIN_ENABLED",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    }
    env = {k: v for k, v in os.environ.items() if k not in names and not k.startswith("SECURE_")}
    env["DATA_DIR"] = str(tmp_path / "var")
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_under_the_documented_production_variables(tmp_path) -> None:
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        _env(tmp_path, **PRODUCTION),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_names_what_the_defaults_leave_open(tmp_path) -> None:
    result = _run(["manage.py", "check", "--deploy"], _env(tmp_path))

    for check in ("W004", "W008", "W009", "W012", "W016"):
        assert f"security.{check}" in result.stderr + result.stdout


def test_the_server_refuses_to_start_on_the_fallback_secret_key(tmp_path) -> None:
    result = _run(["-c", STARTUP], _env(tmp_path))

    assert result.returncode != 0
    assert "No secret key" in result.stderr
    assert "ensure_secret_key" in result.stderr


def test_the_server_starts_after_ensure_secret_key_as_make_demo_runs_it(tmp_path) -> None:
    env = _env(tmp_path)
    made = _run(["manage.py", "ensure_secret_key"], env)
    started = _run(["-c", STARTUP], env)

    assert made.returncode == 0, made.stderr
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o077 == 0
    assert started.returncode == 0, started.stderr


def test_debug_may_run_on_the_fallback_key(tmp_path) -> None:
    result = _run(["-c", STARTUP], _env(tmp_path, DEBUG="true"))

    assert result.returncode == 0, result.stderr
