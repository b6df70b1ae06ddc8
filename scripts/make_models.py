"""Rebuild the shipped models from scratch (what `make models` runs): train both networks with
fixed seeds, export to ONNX, check ONNX Runtime against torch, evaluate on the held-out sets,
and write inference/shipped/{task}.onnx, .pt, .contract.json, .metrics.json and MODEL_CARD.md.

    python scripts/make_models.py [--task sagittal|axial|both] [--device auto|cpu|cuda]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import string
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inference.training.data import Task

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHIPPED = ROOT / "inference" / "shipped"
CARD_TEMPLATE = Path(__file__).with_name("model_card_template.md")
# The shipped recipes: fixed seeds, about 30-40 minutes each on two CPU cores.
RECIPES: dict[str, dict[str, Any]] = {
    "sagittal": {"epochs": 12, "steps_per_epoch": 120, "batch_size": 8, "seed": 2024},
    "axial": {"epochs": 10, "steps_per_epoch": 120, "batch_size": 12, "seed": 2024},
}


def _write_atomic(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as fh:
        fh.write(text)
        tmp = Path(fh.name)
    tmp.replace(path)


def _versions() -> dict[str, str]:
    import numpy
    import onnx
    import onnxruntime
    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "numpy": numpy.__version__,
    }


def build(task: Task, *, device: str, quick: bool) -> dict[str, Any]:
    import torch

    from inference.runtime.contract import contract_to_dict
    from inference.runtime.preprocess import preprocess
    from inference.runtime.sessions import create_session, file_sha256
    from inference.training.data import phantom_slices, real_slices
    from inference.training.evaluate import evaluate_model
    from inference.training.export import export_and_verify
    from inference.training.nets import parameter_count
    from inference.training.train import TrainProgress, save_checkpoint, train

    recipe = dict(RECIPES[task])
    if quick:  # a smoke run of the whole pipeline, never shipped
        recipe.update(epochs=1, steps_per_epoch=3)
    started = time.perf_counter()

    def progress(event: TrainProgress) -> None:
        if event.metrics is not None:
            held = event.metrics["held_out"]
            print(
                f"[{task}] epoch {event.epoch}/{event.epochs} loss {event.metrics['loss']:.4f} "
                f"held-out {json.dumps(_headline(held))} ({event.metrics['seconds']:.0f} s)",
                flush=True,
            )

    work = ROOT / "var" / "training" / task
    result = train(task=task, device=device, out_dir=work, progress=progress, **recipe)
    train_seconds = time.perf_counter() - started
    cfg = result.config
    out = SHIPPED if not quick else work
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / f"{task}.onnx"
    real_inputs = [
        preprocess(s.image, s.spacing, result.contract).tensor
        for s in real_slices(task, cfg.real_val)[:4]
    ]
    max_diff = export_and_verify(result.model, onnx_path, result.contract, real_inputs=real_inputs)
    session = create_session(onnx_path)
    held_real = real_slices(task, cfg.real_val)
    held_phantoms = phantom_slices(task, cfg.phantom_val_seeds, sagittal_offsets=(0,))
    metrics = evaluate_model(session, result.contract, real=held_real, phantoms=held_phantoms)
    sha = file_sha256(onnx_path)
    contract = contract_to_dict(result.contract)
    contract["metadata"] = {
        "name": f"spinelabel-{task}-unet",
        "version": dt.date.today().isoformat(),
        "sha256": sha,
        "architecture": {
            **dataclasses.asdict(result.model.config),
            "params": parameter_count(result.model),
        },
    }
    info = {
        "task": task,
        "file": onnx_path.name,
        "sha256": sha,
        "size_bytes": onnx_path.stat().st_size,
        "onnx_vs_torch_max_abs_diff": max_diff,
        "architecture": contract["metadata"]["architecture"],
        "metrics": metrics,
        "history": [
            {k: v for k, v in h.items() if k != "held_out"} | {"held_out": _headline(h["held_out"])}
            for h in result.history
        ],
        "training": {
            "recipe": recipe,
            "config": json.loads(json.dumps(dataclasses.asdict(cfg), default=list)),
            "data": result.data,
            "seconds": round(train_seconds, 1),
            "device": str(
                torch.device("cuda" if device != "cpu" and torch.cuda.is_available() else "cpu")
            ),
            "threads": cfg.threads,
            "versions": _versions(),
            "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
        "held_out": {
            "real": [s.source for s in held_real],
            "phantom": [s.source for s in held_phantoms],
        },
    }
    save_checkpoint(out / f"{task}.pt", result.model, cfg, result.contract, result.history)
    _write_atomic(out / f"{task}.contract.json", json.dumps(contract, indent=2) + "\n")
    _write_atomic(out / f"{task}.metrics.json", json.dumps(info, indent=2) + "\n")
    size = info["size_bytes"] / 1e6
    print(f"[{task}] wrote {onnx_path} ({size:.2f} MB), ONNX vs torch max diff {max_diff:.2e}")
    return info


def _headline(held: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for group in ("real", "phantom"):
        for key, value in held.get(group, {}).items():
            if key.endswith("_dice") or key == "keypoint_mre_mm":
                out[f"{group}_{key}"] = round(value["mean"], 4)
    return out


def _fmt(metrics: dict[str, Any], group: str, key: str, *, percent: bool = True) -> str:
    value = metrics.get(group, {}).get(key)
    if value is None:
        return "n/a"
    scale = 100.0 if percent else 1.0
    return f"{value['mean'] * scale:.1f} ± {value['sd'] * scale:.1f} (n = {int(value['n'])})"


def _table_rows(infos: dict[str, dict[str, Any]]) -> tuple[str, str, str]:
    files, metrics, runs = [], [], []
    for task, info in infos.items():
        outputs = "cord, canal; 20 corner heatmaps" if task == "sagittal" else "cord, canal"
        size = info["size_bytes"] / 1e6
        files.append(
            f"| `{info['file']}` | {task} | {outputs} | {size:.2f} MB | `{info['sha256'][:16]}` |"
        )
        m = info["metrics"]
        phantom = m.get("phantom", {})
        sdr = "n/a"
        if "keypoint_sdr_2mm" in phantom:
            sdr = "{:.0f} % / {:.0f} %".format(
                100 * phantom["keypoint_sdr_2mm"], 100 * phantom["keypoint_sdr_4mm"]
            )
        cells = [
            task,
            _fmt(m, "real", "cord_dice"),
            _fmt(m, "phantom", "cord_dice"),
            _fmt(m, "phantom", "canal_dice"),
            _fmt(m, "phantom", "keypoint_mre_mm", percent=False),
            sdr,
        ]
        metrics.append("| " + " | ".join(cells) + " |")
        t, r, arch = info["training"], info["training"]["recipe"], info["architecture"]
        runs.append(
            f"- {task}: {r['epochs']} epochs of {r['steps_per_epoch']} steps, batch "
            f"{r['batch_size']}, seed {r['seed']}, on {t['device']} ({t['threads']} threads): "
            f"{t['seconds'] / 60:.1f} min; torch {t['versions']['torch']}, onnxruntime "
            f"{t['versions']['onnxruntime']}; max abs difference ONNX Runtime vs torch "
            f"{info['onnx_vs_torch_max_abs_diff']:.1e}; U-Net widths {tuple(arch['widths'])}, "
            f"{arch['params'] / 1e6:.2f} M parameters."
        )
    return "\n".join(files), "\n".join(metrics), "\n".join(runs)


def write_card() -> None:
    """MODEL_CARD.md from the template and the metrics files of the shipped models."""
    infos = {}
    for task in ("sagittal", "axial"):
        path = SHIPPED / f"{task}.metrics.json"
        if path.exists():
            infos[task] = json.loads(path.read_text(encoding="utf-8"))
    files, metrics, runs = _table_rows(infos)
    template = string.Template(CARD_TEMPLATE.read_text(encoding="utf-8"))
    card = template.substitute(files=files, metrics=metrics, runs=runs)
    _write_atomic(SHIPPED / "MODEL_CARD.md", card)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--task", choices=("sagittal", "axial", "both"), default="both")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run into var/training, not shipped"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    tasks: tuple[Task, ...] = ("sagittal", "axial") if args.task == "both" else (args.task,)
    for task in tasks:
        build(task, device=args.device, quick=args.quick)
    if not args.quick:
        write_card()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
