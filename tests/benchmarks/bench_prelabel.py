"""Pre-labelling through the queue (issue 5): from enqueue until the model read is visible,
and the worker's resident memory while it pre-labels.

Real worker process (`manage.py worker`, database backend) on a throwaway PostgreSQL
database, the shipped models, phantom cases imported through the real ingest, plus the
full field-of-view real demo volume (237 slices) for scale.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.benchmarks.common import ROOT, django_setup, emit, rss_mb, summary

RUNS = 6


def _import_cases(data_dir: Path) -> tuple[list[Any], Any]:
    """RUNS + 1 phantom cases and the real demo volume, imported through the real ingest."""
    from annotation.ingest import ingest_paths
    from annotation.models import Case
    from annotation.services.projects import project_create
    from fixtures.phantom import make_phantom, write_dicom
    from fixtures.phantom_types import PhantomSpec
    from fixtures.real import real_volume

    project = project_create(slug="bench", prelabel_on_import=False)
    cases = []
    for seed in range(RUNS + 1):
        folder = data_dir / f"study-{seed}"
        write_dicom(make_phantom(PhantomSpec(seed=100 + seed)), folder, patient_id=f"P{seed}")
        summary_ = ingest_paths(project=project, paths=[folder])
        cases.append(Case.objects.get(pk=summary_.cases[0].id))
    volume = real_volume("sct_example_t2")
    real_case = Case.objects.get(pk=ingest_paths(project=project, paths=[volume.path]).cases[0].id)
    return cases, real_case


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-prelabel-"))
    django_setup(data_dir=data_dir)
    from django.core.management import call_command
    from django.db import connection

    from annotation.models import Case, Read
    from inference.services.jobs import prelabel_enqueue
    from inference.services.registry import shipped_models_register
    from tests.server import database_url

    call_command("migrate", verbosity=0)
    shipped_models_register()
    cases, real_case = _import_cases(data_dir)

    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "DATA_DIR": str(data_dir),
        "LIVE_OUTBOX_ENABLED": "true",
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--interval", "0.02"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peak = [0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.05):
            try:
                peak[0] = max(peak[0], rss_mb(worker.pid))
            except OSError:
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    def prelabel(case: Case) -> float:
        start = time.perf_counter()
        prelabel_enqueue(case=case)
        deadline = start + 120
        while time.perf_counter() < deadline:
            if Read.objects.filter(case=case, kind="model").exists():
                return (time.perf_counter() - start) * 1000
            time.sleep(0.01)
        raise RuntimeError(f"case {case.pk} was not pre-labelled in time")

    try:
        cold = prelabel(cases[0])  # loads the models into the worker
        warm = [prelabel(case) for case in cases[1:]]
        big = prelabel(real_case)
    finally:
        stop.set()
        worker.terminate()
        worker.wait(timeout=20)
    stats = summary(warm)
    emit("prelabel_queue_to_read_cold", cold, "ms", "", slices=16)
    emit("prelabel_queue_to_read_p50", stats["p50"], "ms", "<= 1500", slices=16, n=len(warm))
    emit("prelabel_queue_to_read_max", max(warm), "ms", "<= 1500", slices=16)
    emit("prelabel_queue_to_read_real_237_slices", big, "ms", "", slices=237)
    emit("worker_rss_peak_while_prelabelling", peak[0], "MB", "<= 1024")


if __name__ == "__main__":
    main()
