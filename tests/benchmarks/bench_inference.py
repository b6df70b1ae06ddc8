"""Inference speed and accuracy of the shipped models (issue 5).

Speed on this machine: ONNX Runtime per 512x512 sagittal slice (segmentation + keypoints; the
network alone and the whole `predict_slices` path with preprocessing and polygons), torch eager
on the same weights (the shipped `.pt`, eval mode, no grad, same thread count) and the ratio;
axial ms per slice. Accuracy: the held-out numbers of the shipped `*.metrics.json` (recomputed
with BENCH_RECOMPUTE=1). Size: the shipped ONNX files.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tests.benchmarks.common import emit, summary

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "inference" / "shipped"
REPEATS = int(os.environ.get("BENCH_INFERENCE_REPEATS", "30"))


def timed(fn: Callable[[], Any], repeats: int) -> list[float]:
    for _ in range(3):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000.0)
    return samples


def phantom_slice(task: str) -> tuple[np.ndarray, tuple[float, float]]:
    from fixtures.phantom import make_phantom, random_spec

    # A held-out seed; the sagittal phantom series is 512 x 512.
    p = make_phantom(random_spec(seed=9000))
    series = p.sagittal if task == "sagittal" else p.axial
    index = p.sagittal_truth.mid_index if task == "sagittal" else p.axial_truth.narrowest_index
    spacing = (float(series.pixel_spacing[0]), float(series.pixel_spacing[1]))
    return series.pixels[index], spacing


def bench_speed(task: str, threads: int) -> None:
    import torch

    from inference.runtime.contract import load_contract
    from inference.runtime.predict import predict_slices
    from inference.runtime.preprocess import preprocess
    from inference.runtime.sessions import create_session
    from inference.training.train import load_checkpoint

    contract = load_contract(SHIPPED / f"{task}.contract.json")
    session = create_session(
        SHIPPED / f"{task}.onnx", providers=["CPUExecutionProvider"], threads=threads
    )
    image, spacing = phantom_slice(task)
    batch = preprocess(image, spacing, contract).tensor[None]
    feed = {contract.input.name: batch}
    shape = f"{image.shape[0]}x{image.shape[1]}"

    network = summary(timed(lambda: session.run(None, feed), REPEATS))
    whole = summary(timed(lambda: predict_slices(session, contract, [image], [spacing]), REPEATS))
    torch.set_num_threads(threads)
    model, _ = load_checkpoint(SHIPPED / f"{task}.pt")
    tensor = torch.from_numpy(batch)

    def eager() -> None:
        with torch.inference_mode():
            model(tensor)

    torch_ms = summary(timed(eager, REPEATS))
    target = "<= 100 ms" if task == "sagittal" else "<= 50 ms"
    emit(
        f"inference.{task}.ort_predict_ms_p50",
        whole["p50"],
        "ms",
        target,
        slice=shape,
        threads=threads,
    )
    emit(f"inference.{task}.ort_predict_ms_p95", whole["p95"], "ms", target, slice=shape)
    emit(f"inference.{task}.ort_network_ms_p50", network["p50"], "ms", "", slice=shape)
    emit(f"inference.{task}.ort_network_ms_p95", network["p95"], "ms", "", slice=shape)
    emit(f"inference.{task}.torch_eager_network_ms_p50", torch_ms["p50"], "ms", "", slice=shape)
    emit(
        f"inference.{task}.ort_speedup_vs_torch_eager",
        torch_ms["p50"] / network["p50"],
        "x",
        ">= 2x" if task == "sagittal" else "",
    )


def recompute(task: str) -> dict[str, Any]:
    from inference.runtime.contract import load_contract
    from inference.runtime.sessions import create_session
    from inference.training.data import phantom_slices, real_slices
    from inference.training.evaluate import evaluate_model
    from inference.training.train import default_config

    cfg = default_config(task)  # type: ignore[arg-type]
    contract = load_contract(SHIPPED / f"{task}.contract.json")
    session = create_session(SHIPPED / f"{task}.onnx")
    return evaluate_model(
        session,
        contract,
        real=real_slices(task, cfg.real_val),  # type: ignore[arg-type]
        phantoms=phantom_slices(task, cfg.phantom_val_seeds, sagittal_offsets=(0,)),  # type: ignore[arg-type]
    )


def bench_accuracy(task: str) -> None:
    info = json.loads((SHIPPED / f"{task}.metrics.json").read_text(encoding="utf-8"))
    metrics = recompute(task) if os.environ.get("BENCH_RECOMPUTE") == "1" else info["metrics"]
    real, phantom = metrics["real"], metrics["phantom"]
    seed = {"sagittal": "seed 003: 94.6", "axial": "seed 003: 93.1"}[task]
    if "cord_dice" in real:
        emit(
            f"accuracy.{task}.real_cord_dice",
            100 * real["cord_dice"]["mean"],
            "%",
            seed,
            held_out=[*info["held_out"]["real"][:1], "..."],
            n=real["cord_dice"]["n"],
        )
    else:  # a final model trained on every real volume: its estimate is the LOVO folds
        print(f"accuracy.{task}: no real volume held out; see lovo.{task}.*", file=sys.stderr)
    emit(f"accuracy.{task}.phantom_cord_dice", 100 * phantom["cord_dice"]["mean"], "%", "")
    canal_target = "seed 003: 86.2" if task == "sagittal" else ""
    emit(
        f"accuracy.{task}.phantom_canal_dice",
        100 * phantom["canal_dice"]["mean"],
        "%",
        canal_target,
    )
    if "keypoint_mre_mm" in phantom:
        emit(f"accuracy.{task}.phantom_keypoint_mre", phantom["keypoint_mre_mm"]["mean"], "mm", "")
        emit(
            f"accuracy.{task}.phantom_keypoints_within_2mm",
            100 * phantom["keypoint_sdr_2mm"],
            "%",
            "",
        )
    emit(
        f"accuracy.{task}.onnx_vs_torch_max_abs_diff",
        info["onnx_vs_torch_max_abs_diff"] * 1e6,
        "1e-6",
        "< 100 (1e-4)",
    )


def bench_size() -> None:
    total = 0
    for task in ("sagittal", "axial"):
        size = (SHIPPED / f"{task}.onnx").stat().st_size
        total += size
        emit(f"models.{task}.onnx_size", size / 1e6, "MB", "a few MB")
    emit("models.total_onnx_size", total / 1e6, "MB", "<= 20 MB")


def main() -> None:
    threads = int(os.environ.get("BENCH_INFERENCE_THREADS", str(len(os.sched_getaffinity(0)))))
    for task in ("sagittal", "axial"):
        bench_speed(task, threads)
    for task in ("sagittal", "axial"):
        bench_accuracy(task)
    bench_size()


if __name__ == "__main__":
    main()
