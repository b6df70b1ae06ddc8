"""Start the real ASGI server (uvicorn, as `make demo` runs it) for tests and benchmarks."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url(settings_dict: dict[str, Any]) -> str:
    """A DATABASE_URL for a subprocess that must use this process's (test) database."""
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


def start_uvicorn(
    env: dict[str, str],
    *,
    log: Path | None = None,
    quiet: bool = False,
    workers: int = 1,
    timeout: float = 60.0,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server on a free loopback port and wait until it answers the login page."""
    key_file = Path(env.get("DATA_DIR") or ROOT / "var") / "secret_key"
    if not (env.get("SECRET_KEY") or env.get("SECRET_KEY_FILE") or key_file.exists()):
        # The server refuses to start without a key; share this process's, so that sessions
        # made here (force_login) are valid there.
        from django.conf import settings

        env = {**env, "SECRET_KEY": settings.SECRET_KEY}
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "uvicorn"),
        "config.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--lifespan",
        "on",
    ]
    if quiet:
        command += ["--no-access-log", "--log-level", "warning"]
    if workers > 1:
        command += ["--workers", str(workers)]
    output: Any = log.open("wb") if log is not None else None
    try:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT if output else None
        )
    finally:
        if output is not None:
            output.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/accounts/login/", timeout=3):
                return process, url
        except OSError:
            # Not answering yet: wait a moment, or less if the server exits meanwhile.
            try:
                process.wait(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                pass
    process.kill()
    tail = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
    raise RuntimeError(f"the server did not start: {tail}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
