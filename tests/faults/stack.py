"""A private at-scale layout for fault tests and the load benchmark.

Its own PostgreSQL cluster and Redis server on free loopback ports (the machine's shared
instances are never touched, so they can be stopped and restarted freely), two ASGI
processes (uvicorn, one port each, as behind a load balancer) and an RQ worker.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.server import ROOT, free_port, start_uvicorn, stop

PG_USER = "spinelabel"
PG_DATABASE = "spinelabel"


def _postgres_bin() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql")
    return candidates[-1].parent


def wait_until(predicate: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll a condition (never a fixed sleep); fail naming what did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what}: not reached within {timeout:.0f} s")


class PrivatePostgres:
    """A throwaway cluster in a temporary folder, run as a non-root user when we are root."""

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self.root = Path(tempfile.mkdtemp(prefix="spl-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root.
            shutil.chown(self.root, user="postgres", group="postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self._as_user, *args], capture_output=True, text=True, check=check, timeout=120
        )

    def url(self, database: str = PG_DATABASE) -> str:
        return f"postgres://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            PG_USER,
            "--auth=trust",
            "--no-sync",
            "--encoding=UTF8",
        )
        self.start()
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=on -c max_connections=200"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            *("-D", str(self.data), "-l", str(self.log), "-w", "-o", options, "start"),
        )

    def stop(self, *, mode: str = "fast") -> None:
        """`immediate` is a crash as far as clients and recovery are concerned."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop", check=False
        )
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """redis-server without persistence: a restart comes back empty, as a lost node does."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis.from_url(self.url)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_until(answers, timeout=20, what="private Redis answering")
        client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@dataclass
class Stack:
    """The services and processes of one at-scale layout, and what the seed created."""

    postgres: PrivatePostgres
    redis: PrivateRedis
    data_dir: Path
    env: dict[str, str]
    servers: list[tuple[subprocess.Popen[bytes], str]] = field(default_factory=list)
    worker: subprocess.Popen[bytes] | None = None
    seed: dict[str, Any] = field(default_factory=dict)

    @property
    def urls(self) -> list[str]:
        return [url for _, url in self.servers]

    def manage(self, *args: str, timeout: float = 300) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed: {result.stderr[-3000:]}")
        return result.stdout

    def run_seed(self, **options: int) -> dict[str, Any]:
        """Create users, sessions and cases in the private database (tests/faults/seed.py)."""
        result = subprocess.run(
            [sys.executable, "-m", "tests.faults.seed", json.dumps(options)],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"seeding failed: {result.stderr[-3000:]}")
        self.seed = json.loads(result.stdout.strip().splitlines()[-1])
        return self.seed

    def start_servers(self, count: int = 2) -> None:
        for index in range(count):
            log = self.data_dir / f"server-{index}.log"
            self.servers.append(start_uvicorn(self.env, log=log, quiet=True, timeout=180))

    def start_worker(self) -> None:
        log = (self.data_dir / "worker.log").open("wb")
        try:
            self.worker = subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "rqworker",
                    "default",
                    "--job-class",
                    "django_tasks_rq.Job",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            log.close()

    def logs(self, *, tail: int = 2000) -> str:
        """The tail of every process log, for a failing assertion's message."""
        parts = []
        for path in sorted(self.data_dir.glob("*.log")):
            parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-tail:]}")
        return "\n".join(parts)

    def errors(self, *, context: int = 30) -> str:
        """Every traceback and 500 of the ASGI and worker logs, with what follows it (the 503s
        of an outage are expected and left out)."""
        parts = []
        for path in sorted(self.data_dir.glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()
            marks = [
                i
                for i, line in enumerate(lines)
                if "Traceback" in line or "Internal Server Error" in line or " CRITICAL " in line
            ]
            shown: set[int] = set()
            for i in marks:
                shown.update(range(i, min(i + context, len(lines))))
            if shown:
                parts.append(f"--- {path.name}\n" + "\n".join(lines[i] for i in sorted(shown)))
        return "\n".join(parts) or "(no traceback or 500 in the logs)"

    def close(self) -> None:
        for process, _ in self.servers:
            stop(process)
        self.servers.clear()
        if self.worker is not None:
            stop(self.worker)
            self.worker = None
        self.redis.stop()
        self.postgres.destroy()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def stack_start(*, servers: int = 2, worker: bool = True, **seed: int) -> Stack:
    """Private PostgreSQL and Redis, migrated and seeded, then the ASGI processes and worker."""
    postgres = PrivatePostgres()
    redis_server = PrivateRedis()
    data_dir = Path(tempfile.mkdtemp(prefix="spl-stack-"))
    env = {
        **os.environ,
        "DATABASE_URL": postgres.url(),
        "REDIS_URL": redis_server.url,
        "TASKS_BACKEND": "rq",
        "DATA_DIR": str(data_dir),
        "SECRET_KEY": secrets.token_urlsafe(40),
        "PRELABEL_ON_IMPORT": "false",
        # An outage must answer within seconds, not after the pool's default 30 s.
        "DATABASE_POOL_TIMEOUT": os.environ.get("DATABASE_POOL_TIMEOUT", "3"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    stack = Stack(postgres=postgres, redis=redis_server, data_dir=data_dir, env=env)
    try:
        postgres.init()
        redis_server.start()
        stack.manage("migrate", "--no-input", "-v", "0")
        stack.run_seed(**seed)
        stack.start_servers(servers)
        if worker:
            stack.start_worker()
    except BaseException:
        stack.close()
        raise
    return stack
