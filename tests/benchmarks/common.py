"""Shared helpers of the benchmark scripts: Django set-up, percentiles, JSON-line output."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.server import start_uvicorn

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "bench-output"
BENCH_DATABASE = "spinelabel_bench"


def django_setup(*, database: str | None = BENCH_DATABASE, data_dir: Path | None = None) -> None:
    """Point Django at a throwaway PostgreSQL database (or the env's), then set it up."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if database is not None:
        base = os.environ.get("BENCH_DATABASE_SERVER", "postgres://spinelabel@127.0.0.1:5432")
        _ensure_database(base, database)
        os.environ["DATABASE_URL"] = f"{base}/{database}"
    if data_dir is not None:
        os.environ["DATA_DIR"] = str(data_dir)
    os.environ.setdefault("PRELABEL_ON_IMPORT", "false")
    import django

    django.setup()


def _ensure_database(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if exists:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100.0
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def emit(name: str, value: float, unit: str, target: str = "", **extra: Any) -> None:
    row = {"name": name, "value": round(value, 3), "unit": unit, "target": target, **extra}
    line = json.dumps(row)
    print(line, flush=True)
    OUTPUT.mkdir(exist_ok=True)
    with (OUTPUT / "results.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def summary(samples_ms: Sequence[float]) -> dict[str, float]:
    return {
        "p50": percentile(samples_ms, 50),
        "p95": percentile(samples_ms, 95),
        "mean": statistics.fmean(samples_ms),
    }


def start_server(env: dict[str, str], *, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    return start_uvicorn(env, quiet=True, workers=workers)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")
