"""Measurement benchmarks (issue 4): one case's measurements, ICC + Bland-Altman, the CLI.

Run standalone (`python tests/benchmarks/bench_measurements.py`) or through `make bench`;
prints JSON lines {"name", "value", "unit", "target"} with p50/p95 over repeated runs.
Inputs come from the fixtures phantom, so the numbers are comparable between machines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from fixtures.phantom import PhantomSpec, labelme_truth, make_phantom, write_dicom  # noqa: E402
from measurements.core import (  # noqa: E402
    axial_stack,
    bland_altman,
    encode_labelme_mask,
    icc,
    measure_image_shapes,
    shape_metrics_per_slice,
)
from tests.benchmarks.common import emit, summary  # noqa: E402

Shape = dict[str, Any]
CASE_REPEATS = int(os.environ.get("BENCH_MEASURE_REPEATS", "300"))
STATS_REPEATS = int(os.environ.get("BENCH_STATS_REPEATS", "100"))
CLI_FILES = int(os.environ.get("BENCH_CLI_FILES", "1000"))
SCT_REPEATS = int(os.environ.get("BENCH_SCT_REPEATS", "20"))
SCT_T2 = ROOT / "fixtures" / "data" / "sct_testing_data" / "t2" / "t2_seg-manual.nii.gz"


def _timed(fn: Callable[[], object], repeats: int) -> dict[str, float]:
    """Wall-clock p50/p95 (ms) and the CPU time p50 of this process, which a busy shared
    machine inflates less than wall time."""
    for _ in range(5):  # warm caches and lazy imports
        fn()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return {**summary(wall), "cpu_p50": summary(cpu)["p50"]}


def _mask_shapes(shapes: list[Shape], masks: dict[str, np.ndarray]) -> list[Shape]:
    """The same image with cord and canal as labelme mask shapes (what a model writes)."""
    out = [s for s in shapes if s["label"] not in masks]
    for label, mask in masks.items():
        out.append({"label": label, "shape_type": "mask", **encode_labelme_mask(mask)})
    return out


def bench_case() -> None:
    ph = make_phantom(PhantomSpec(seed=7, compression_level="C4/C5", tilt_deg=8.0))
    sag = labelme_truth(ph, view="sagittal", image_path="sag.dcm")["shapes"]
    ax = labelme_truth(ph, view="axial", image_path="ax.dcm")["shapes"]
    truth, axial = ph.sagittal_truth, ph.axial_truth
    variants = {
        "polygons": (sag, ax),
        "masks": (
            _mask_shapes(sag, {"cord": truth.cord_mask, "canal": truth.canal_mask}),
            _mask_shapes(
                ax,
                {
                    "cord": axial.cord_masks[axial.narrowest_index],
                    "canal": axial.canal_masks[axial.narrowest_index],
                },
            ),
        ),
    }
    for kind, (sag_shapes, ax_shapes) in variants.items():

        def case(sag_shapes: list[Shape] = sag_shapes, ax_shapes: list[Shape] = ax_shapes) -> None:
            s = measure_image_shapes(
                shapes=sag_shapes, spacing=ph.sagittal.pixel_spacing, both_references=True
            )
            a = measure_image_shapes(shapes=ax_shapes, spacing=ph.axial.pixel_spacing)
            assert "adjacent_mscc" in s["values"]
            assert "sct_solidity" in a["values"]

        stats = _timed(case, CASE_REPEATS)
        emit(
            f"measurements.case_all_{kind}_p95",
            stats["p95"],
            "ms",
            "<= 10 ms",
            p50=round(stats["p50"], 3),
            cpu_p50=round(stats["cpu_p50"], 3),
            repeats=CASE_REPEATS,
            what="sagittal MSCC/MCC with both references + axial TA/CR, SCT metrics, canal",
        )


def bench_sct_slices() -> None:
    """SCT shape metrics of every slice of the real t2 cord mask, angle-corrected: each slice
    is resampled to 0.1 mm as SCT does, the per-slice cost that matters for a volume."""
    import nibabel as nib

    seg = nib.load(SCT_T2)
    assert isinstance(seg, nib.Nifti1Image)
    stack, spacing, slice_mm = axial_stack(np.asanyarray(seg.dataobj) > 0.5, seg.affine)
    filled = int(stack.reshape(len(stack), -1).any(axis=1).sum())

    def run() -> None:
        shape_metrics_per_slice(
            stack, spacing=spacing, slice_spacing_mm=slice_mm, angle_correction=True
        )

    stats = _timed(run, SCT_REPEATS)
    emit(
        "measurements.sct_shape_metrics_t2_volume_p95",
        stats["p95"],
        "ms",
        "report",
        p50=round(stats["p50"], 3),
        cpu_p50=round(stats["cpu_p50"], 3),
        per_slice_p50=round(stats["p50"] / filled, 3),
        slices=filled,
        repeats=SCT_REPEATS,
        what="shape_metrics_per_slice, 1 mm SCT t2 cord mask, angle correction",
    )


def bench_stats() -> None:
    rng = np.random.default_rng(0)
    truth = rng.normal(0.2, 0.08, (1000, 1))
    readers = truth + np.array([0.0, 0.02, -0.01]) + rng.normal(0, 0.03, (1000, 3))
    readers[rng.random(readers.shape) < 0.01] = np.nan

    def run() -> None:
        icc(readers)
        for i, j in ((1, 0), (2, 0), (2, 1)):
            bland_altman(readers[:, i], readers[:, j])

    stats = _timed(run, STATS_REPEATS)
    emit(
        "measurements.icc_bland_altman_1000x3_p95",
        stats["p95"],
        "ms",
        "<= 20 ms",
        p50=round(stats["p50"], 3),
        cpu_p50=round(stats["cpu_p50"], 3),
        repeats=STATS_REPEATS,
        what="ICC(2,1)+ICC(3,1) with CI on 1000 cases x 3 readers, Bland-Altman for 3 pairs",
    )


def _cli(files: list[str], *args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "measure", *files, *args, "--format", "csv"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    rows = done.stdout.count("\n") - 1
    if done.returncode != 0 or rows != len(files):
        raise RuntimeError(f"measure failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def bench_cli() -> None:
    spec = PhantomSpec(seed=3, pixel_spacing=(0.5, 0.5), axial_pixel_spacing=(0.5, 0.5))
    ph = make_phantom(spec)
    with tempfile.TemporaryDirectory(prefix="bench-measure-") as tmp:
        root = Path(tmp)
        paths = write_dicom(ph, root / "dicom")
        sag_dcm = next(p for p in paths if "sagittal" in p.parent.name)
        ax_dcm = [p for p in paths if "axial" in p.parent.name][ph.axial_truth.narrowest_index]
        docs = {
            "sagittal": labelme_truth(ph, view="sagittal", image_path=str(sag_dcm)),
            "axial": labelme_truth(ph, view="axial", image_path=str(ax_dcm)),
        }
        files = []
        for i in range(CLI_FILES):
            view = "sagittal" if i % 2 == 0 else "axial"
            f = root / f"{i:05d}_{view}.json"
            f.write_text(json.dumps(docs[view]))
            files.append(str(f))
        for label, args in (("spacing_flag", ("--spacing", "0.5", "0.5")), ("dicom_spacing", ())):
            seconds = _cli(files, *args)
            emit(
                f"measurements.cli_{label}_files_per_s",
                CLI_FILES / seconds,
                "files/s",
                "report",
                files=CLI_FILES,
                seconds=round(seconds, 3),
                what="manage.py measure on labelme files, half sagittal half axial, one process",
            )


def main() -> None:
    # Timings are only meaningful on an idle machine; say how busy this one was.
    emit("measurements.load_average_1min", os.getloadavg()[0], "procs", "", cpus=os.cpu_count())
    bench_case()
    bench_sct_slices()
    bench_stats()
    bench_cli()


if __name__ == "__main__":
    main()
