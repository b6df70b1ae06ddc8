"""Load (issue 11): 50 annotators and a pre-labelling lead under Locust, at the at-scale layout.

Two ASGI processes, an RQ worker, a private PostgreSQL and Redis (tests/faults/stack.py),
all on loopback. Reports p50/p95/p99 per request type, every non-2xx answer, the machine's
load, and whether every save a client was told succeeded is stored with its content.
LOAD_DURATION_S (default 300) and LOAD_USERS (default 50) size the run.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import psycopg

from tests.benchmarks.bench_revisions import read_shapes
from tests.benchmarks.common import OUTPUT, ROOT, emit, percentile
from tests.faults.client import stored_revisions
from tests.faults.stack import Stack, stack_start

DURATION_S = int(os.environ.get("LOAD_DURATION_S", "300"))
USERS = int(os.environ.get("LOAD_USERS", "50"))
CASES = 12
TARGETS = {"save": "<= 100", "pixels": "<= 30"}


def _run_locust(stack: Stack, folder: Path) -> dict[str, Any]:
    plan = folder / "plan.json"
    plan.write_text(
        json.dumps(
            {
                "hosts": stack.urls,
                "sessions": stack.seed["sessions"],
                "cases": stack.seed["cases"],
                "shapes": read_shapes(512, 512),
            }
        )
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LOAD_PLAN": str(plan),
        "LOAD_TOLD": str(folder / "told.jsonl"),
        "LOAD_STATUSES": str(folder / "statuses.json"),
    }
    command = [
        str(Path(sys.executable).parent / "locust"),
        *("-f", str(ROOT / "tests" / "benchmarks" / "locustfile.py")),
        *("--headless", "--only-summary", "--host", stack.urls[0]),
        *("-u", str(USERS + 1), "-r", "10", "-t", f"{DURATION_S}s", "--stop-timeout", "10"),
    ]
    log = folder / "locust.log"
    with log.open("wb") as output:
        result = subprocess.run(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, check=False
        )
    statuses = folder / "statuses.json"
    if not statuses.exists():
        raise RuntimeError(f"locust exited {result.returncode}: {log.read_text()[-3000:]}")
    data: dict[str, Any] = json.loads(statuses.read_text())
    return data


def _load_sampler(samples: list[float], stop: threading.Event) -> None:
    while not stop.wait(5.0):
        samples.append(os.getloadavg()[0])


def _report_requests(result: dict[str, Any]) -> int:
    """Emit percentiles per request type; return the number of 5xx or unanswered requests."""
    for name, times in sorted(result["times"].items()):
        emit(
            f"load_{name.replace(' ', '_')}_p95",
            percentile(times, 95),
            "ms",
            TARGETS.get(name, ""),
            p50=round(percentile(times, 50), 1),
            p99=round(percentile(times, 99), 1),
            n=len(times),
        )

    def status(key: str) -> str:  # "save 201", "case page 0 ConnectionError: ..."
        return next(word for word in key.split() if word.isdigit())

    failed = {key: n for key, n in result["statuses"].items() if status(key)[0] not in "23"}
    server_errors = int(sum(n for key, n in failed.items() if status(key)[0] in "05"))
    emit("load_requests", sum(result["statuses"].values()), "requests", "", failed=failed)
    emit("load_5xx_or_unanswered", server_errors, "requests", "0")
    return server_errors


def _report_saves(stack: Stack, told_file: Path) -> None:
    told = [json.loads(line) for line in told_file.read_text().splitlines() if line]
    stored = stored_revisions(stack.env["DATABASE_URL"])
    lost = [row for row in told if stored.get(row["id"], {}).get("hash") != row["hash"]]
    with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
        row = conn.execute(
            "select count(*) from annotation_revision r join annotation_read d on d.id = r.read_id"
            " where d.kind = 'human' and r.source = 'save'"
        ).fetchone()
    # A save cut off when the run stops may be stored without its answer being read.
    stored_saves = row[0] if row else 0
    emit("load_saves_told", len(told), "saves", "", stored_saves=stored_saves)
    emit("load_saves_lost", len(lost), "saves", "0", examples=[row["id"] for row in lost[:5]])


def _cpu_seconds(roots: dict[str, list[int]]) -> dict[str, float]:
    """CPU time (user + system, reaped children included) of each group of process trees."""
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        pid = int(entry.name)
        parent[pid] = int(fields[1])
        cpu[pid] = sum(int(value) for value in fields[11:15]) / tick
    totals = {}
    for group, pids in roots.items():
        members = set(pids)
        grown = True
        while grown:  # descendants, to any depth
            found = {pid for pid, ppid in parent.items() if ppid in members} - members
            members |= found
            grown = bool(found)
        totals[group] = sum(cpu.get(pid, 0.0) for pid in members)
    return totals


def _stack_pids(stack: Stack) -> dict[str, list[int]]:
    postmaster = int((stack.postgres.data / "postmaster.pid").read_text().split()[0])
    redis_pid = stack.redis.process.pid if stack.redis.process is not None else -1
    return {
        "servers": [process.pid for process, _ in stack.servers],
        "worker": [stack.worker.pid] if stack.worker is not None else [],
        "postgres": [postmaster],
        "redis": [redis_pid],
    }


def _report_cpu(before: dict[str, float], after: dict[str, float], client_s: float) -> None:
    """How many cores the stack used: on a shared machine, the latency figures alone mislead."""
    used = {group: (after[group] - before[group]) / DURATION_S for group in after}
    emit(
        "load_stack_cpu_cores",
        sum(used.values()),
        "cores",
        "",
        **{group: round(cores, 2) for group, cores in used.items()},
        locust=round(client_s / DURATION_S, 2),
    )


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    stack = stack_start(
        servers=2,
        worker=True,
        annotators=USERS,
        reviewers=0,
        leads=1,
        cases=CASES,
        rows=512,
        columns=512,
        slices=10,
        shipped_models=1,
    )
    loads: list[float] = []
    stop = threading.Event()
    sampler = threading.Thread(target=_load_sampler, args=(loads, stop), daemon=True)
    try:
        sampler.start()
        pids = _stack_pids(stack)
        before = _cpu_seconds(pids)
        client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = _run_locust(stack, folder)
        client = resource.getrusage(resource.RUSAGE_CHILDREN)
        stop.set()
        _report_cpu(
            before,
            _cpu_seconds(pids),
            client.ru_utime + client.ru_stime - client_before.ru_utime - client_before.ru_stime,
        )
        _report_requests(result)
        _report_saves(stack, folder / "told.jsonl")
        emit(
            "load_machine_load_1min_mean",
            sum(loads) / max(len(loads), 1),
            "load",
            "",
            max=round(max(loads, default=0.0), 2),
            cpus=os.cpu_count(),
            users=USERS,
            duration_s=DURATION_S,
        )
    finally:
        stop.set()
        # The processes' logs stay for a look at any error (the stack's folder goes).
        OUTPUT.mkdir(exist_ok=True)
        (OUTPUT / "load-logs.txt").write_text(stack.logs(tail=200_000))
        stack.close()


if __name__ == "__main__":
    main()
