"""Fusion benchmarks (issue 9): STAPLE and majority vote of 4 reads of the cord on a 512 x 512
sagittal slice, and the fused mask back to a labelme polygon.

Run standalone (`python tests/benchmarks/bench_fusion.py`) or through `make bench`; prints
JSON lines {"name", "value", "unit", "target"} with p50/p95 over repeated runs. The reads are
the fixtures phantom's cord mask and three plausible variants of it (shifted, dilated, eroded),
so STAPLE iterates as it does on real disagreement.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from scipy import ndimage  # noqa: E402

from fixtures.phantom import PhantomSpec, make_phantom  # noqa: E402
from measurements.core import majority_vote, mask_to_polygon, staple  # noqa: E402
from tests.benchmarks.common import emit, summary  # noqa: E402

REPEATS = int(os.environ.get("BENCH_FUSION_REPEATS", "50"))


def _timed(fn: Callable[[], object], repeats: int) -> dict[str, float]:
    """Wall-clock p50/p95 (ms) and the CPU time p50 of this process (all its threads)."""
    for _ in range(3):  # warm caches and the lazy SimpleITK import
        fn()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return {**summary(wall), "min": min(wall), "cpu_p50": summary(cpu)["p50"]}


def four_reads() -> list[np.ndarray]:
    """The phantom's mid-sagittal cord (512 x 512) and three readers' variants of it."""
    cord = make_phantom(PhantomSpec(seed=7, compression_level="C4/C5")).sagittal_truth.cord_mask
    assert cord.shape == (512, 512)
    return [
        cord,
        np.roll(cord, (1, -1), axis=(0, 1)),
        ndimage.binary_dilation(cord),
        ndimage.binary_erosion(cord),
    ]


def main() -> None:
    # Timings are only meaningful on an idle machine; say how busy this one was.
    emit("fusion.load_average_1min", os.getloadavg()[0], "procs", "", cpus=os.cpu_count())
    reads = four_reads()
    result = staple(reads)
    common = {"reads": len(reads), "grid": "512x512", "repeats": REPEATS}
    for name, fn, target, what in (
        ("staple", lambda: staple(reads), "<= 50 ms", "STAPLE (SimpleITK) of 4 cord reads"),
        ("majority_vote", lambda: majority_vote(reads), "report", "majority vote of 4 reads"),
        (
            "mask_to_polygon",
            lambda: mask_to_polygon(result.mask),
            "report",
            "fused cord mask -> labelme polygon (0.5 iso-line)",
        ),
    ):
        stats = _timed(fn, REPEATS)
        emit(
            f"fusion.{name}_4x512x512_p95",
            stats["p95"],
            "ms",
            target,
            p50=round(stats["p50"], 3),
            wall_min=round(stats["min"], 3),
            cpu_p50=round(stats["cpu_p50"], 3),
            what=what,
            **common,
            **({"staple_iterations": result.iterations} if name == "staple" else {}),
        )


if __name__ == "__main__":
    main()
