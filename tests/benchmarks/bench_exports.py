"""Exports (issue 15): 1,000 cases of two series each exported to each format through the
real task body (export_run: bundles loaded a chunk at a time, the writers, the atomic zip).

Each (format, cases) run is a fresh process, so its figures are its own: wall and CPU
seconds, and peak resident memory above the process's state just before the export (the
high-water mark VmHWM, reset before the export). The
same export of 250 cases shows whether memory stays flat in the number of cases.
Goal: the slowest format ≤ 60 s for 1,000 cases; memory flat in the number of cases.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.benchmarks.common import ROOT, django_setup, emit

DATABASE = "spinelabel_bench_exports"
CASES = 1000
SMALL = 250
SLICES = 3
SIZE = 64


def _ring(cx: float, cy: float, r: float, n: int = 24) -> list[list[float]]:
    import math

    return [
        [cx + r * math.cos(2 * math.pi * k / n), cy + r * math.sin(2 * math.pi * k / n)]
        for k in range(n)
    ]


def _polygon(label: str, points: list[list[float]]) -> dict[str, Any]:
    return {
        "label": label,
        "points": points,
        "group_id": None,
        "shape_type": "polygon",
        "flags": {},
    }


def _shapes(sagittal: int, axial: int, jitter: float) -> dict[str, list[dict[str, Any]]]:
    corners: list[dict[str, Any]] = [
        {
            "label": f"{v}_{c}",
            "points": [[10.0 + 6 * j + jitter, 8.0 + 10 * i + (j % 2)]],
            "group_id": None,
            "shape_type": "point",
            "flags": {},
        }
        for i, v in enumerate(("C3", "C4", "C5", "C6", "C7"))
        for j, c in enumerate(("AS", "AI", "PS", "PI"))
    ]
    return {
        str(sagittal): [
            _polygon("cord", _ring(32 + jitter, 32, 6)),
            _polygon("canal", _ring(32 + jitter, 32, 10)),
            *corners,
        ],
        str(axial): [
            _polygon("cord", _ring(32, 32 + jitter, 5)),
            _polygon("canal", _ring(32, 32, 9)),
        ],
    }


def _seed() -> None:
    """1,000 cases (a sagittal and an axial series of 3 slices of 64×64 each), one
    annotator read per case with cord, canal and the 20 corners, and its measurements;
    the first 250 cases in the train split."""
    import numpy as np
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from annotation.label_templates import cervical_compression_template
    from annotation.models import Case, Image, Membership, Project, Read, Revision, Series
    from annotation.pixels import pixel_write
    from measurements.models import MeasurementResult

    call_command("migrate", verbosity=0)
    project = Project.objects.create(
        slug="bench-exports", name="Bench exports", template=cervical_compression_template()
    )
    lead = User.objects.create(username="bench-lead")
    annotator = User.objects.create(username="bench-annotator")
    Membership.objects.create(project=project, user=lead, role="lead")
    Membership.objects.create(project=project, user=annotator, role="annotator")
    rng = np.random.default_rng(5)
    stored = [pixel_write(rng.integers(0, 4000, (SIZE, SIZE), dtype=np.uint16)) for _ in range(16)]
    cases = Case.objects.bulk_create(
        Case(
            project=project,
            pseudonym=f"EXP-{i:05d}",
            source_key=f"exp-{i}",
            split="train" if i < SMALL else "test",
        )
        for i in range(CASES)
    )
    series = Series.objects.bulk_create(
        Series(
            case=case,
            uid=f"2.25.77{case.pk}{k}",
            number=k + 1,
            orientation=orientation,
            source="dicom",
            rows=SIZE,
            columns=SIZE,
            pixel_spacing_row=0.5,
            pixel_spacing_col=0.5,
            slice_thickness=3.0,
            row_direction=[0.0, 1.0, 0.0] if orientation == "sagittal" else [1.0, 0.0, 0.0],
            column_direction=[0.0, 0.0, -1.0] if orientation == "sagittal" else [0.0, 1.0, 0.0],
            dtype="uint16",
            window_center=2000.0,
            window_width=4000.0,
        )
        for case in cases
        for k, orientation in enumerate(("sagittal", "axial"))
    )
    images = Image.objects.bulk_create(
        Image(
            series=s,
            index=index,
            position=3.0 * index,
            image_position=[3.0 * index, -16.0, 16.0]
            if s.orientation == "sagittal"
            else [-16.0, -16.0, 3.0 * index],
            uid=f"{s.uid}.{index}",
            pixel_path=stored[(s.pk + index) % len(stored)][0],
            sha256=stored[(s.pk + index) % len(stored)][1],
            min_value=0.0,
            max_value=4000.0,
        )
        for s in series
        for index in range(SLICES)
    )
    middle: dict[tuple[int, str], int] = {}
    by_series = {s.pk: s for s in series}
    for image in images:
        if image.index == SLICES // 2:
            s = by_series[image.series_id]
            middle[(s.case_id, s.orientation)] = image.pk
    reads = Read.objects.bulk_create(
        Read(case=case, kind="human", author=annotator) for case in cases
    )
    revisions = Revision.objects.bulk_create(
        Revision(
            read=read,
            number=1,
            author=annotator,
            shapes=_shapes(
                middle[(read.case_id, "sagittal")], middle[(read.case_id, "axial")], i % 3 * 0.5
            ),
            source="save",
            shape_count=24,
        )
        for i, read in enumerate(reads)
    )
    for read, revision in zip(reads, revisions, strict=True):
        read.head = revision
        read.revision_count = 1
    Read.objects.bulk_update(reads, ["head", "revision_count"])
    MeasurementResult.objects.bulk_create(
        MeasurementResult(
            revision=revision,
            image_id=middle[(read.case_id, view)],
            view=view,
            values=(
                {"mscc": 0.31, "mcc": 0.27, "d_i": 5.1, "D_i": 9.8, "d_i_level": "C5"}
                if view == "sagittal"
                else {"ta": 61.2, "cr": 0.62, "transverse": 11.0, "ap": 6.8}
            ),
            algorithm_version="1",
        )
        for read, revision in zip(reads, revisions, strict=True)
        for view in ("sagittal", "axial")
    )


def _child(name: str, split: str) -> None:
    """One export in this fresh process; prints {seconds, peak_mb, cases, size_mb}."""
    django_setup(database=None)
    from django.contrib.auth.models import User

    from annotation.models import Project
    from exports.formats import formats_registered
    from exports.run import export_run
    from exports.services import ExportRequest, export_request

    formats_registered()  # every writer's imports, before the baseline
    project = Project.objects.get(slug="bench-exports")
    lead = User.objects.get(username="bench-lead")
    asked = ExportRequest(
        split=split, selection_kind="group", selection_value="annotator", formats=(name,)
    )
    job = export_request(project=project, user=lead, role="lead", request=asked)
    # Reset the high-water mark (Linux: "5" to clear_refs), so the peak is the export's.
    Path("/proc/self/clear_refs").write_text("5")
    before_kb = _status_kb("VmRSS")
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    job = export_run(job_id=job.pk)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    peak_kb = _status_kb("VmHWM")
    assert job.status == "succeeded", job.reason
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime,
                "peak_mb": max(peak_kb - before_kb, 0) / 1024,
                "cases": job.cases_total,
                "size_mb": job.size_bytes / 1024**2,
            }
        )
    )


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def _run_child(env: dict[str, str], name: str, split: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.bench_exports", "--child", name, split],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-exports-"))
    django_setup(database=DATABASE, data_dir=data_dir)
    _seed()
    from exports.formats import formats_registered

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    slowest = 0.0
    wanted = os.environ.get("BENCH_EXPORT_FORMATS", "")  # e.g. "labelme,csv"; all if unset
    for name in formats_registered():
        if wanted and name not in wanted.split(","):
            continue
        full = _run_child(env, name, "")
        small = _run_child(env, name, "train")
        slowest = max(slowest, full["seconds"])
        emit(
            f"export_{name}_{CASES}_cases",
            full["seconds"],
            "s",
            "slowest format <= 60 s",
            cases=full["cases"],
            cpu_seconds=round(full["cpu_seconds"], 2),
            zip_mb=round(full["size_mb"], 1),
        )
        emit(
            f"export_{name}_peak_memory_{CASES}_cases",
            full["peak_mb"],
            "MiB",
            "flat in the number of cases",
            peak_mb_250_cases=round(small["peak_mb"], 1),
            seconds_250_cases=round(small["seconds"], 2),
        )
    emit("export_slowest_format_1000_cases", slowest, "s", "<= 60 s")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        main()
