"""A short check that the domain-randomised data helps (issue 14 §1): fine-tune a shipped
checkpoint for a few steps with a share of each batch generated, and score it and the
shipped model, in torch, on the real volume the shipped recipe held out (sagittal: t2,
axial: t2s), four held-out phantoms and unseen synthetic slices per contrast family (cord
Dice; sagittal phantom corner error).

    python scripts/synth_finetune.py [--task sagittal|axial] [--steps 40] [--share 0.5]

Minutes on the CPU; not a training recipe, a smoke test of the direction.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def scores(model: Any, contract: Any, sets: dict[str, Any]) -> dict[str, float]:
    from inference.training.evaluate import TorchSession, evaluate_model

    session = TorchSession(model, contract, "cpu")
    m = evaluate_model(session, contract, real=sets["real"], phantoms=sets["phantoms"])
    out = {
        "real_held_out_cord_dice": m["real"]["cord_dice"]["mean"],
        "phantom_cord_dice": m["phantom"]["cord_dice"]["mean"],
    }
    if "keypoint_mre_mm" in m["phantom"]:
        out["phantom_keypoint_mre_mm"] = m["phantom"]["keypoint_mre_mm"]["mean"]
    for contrast, items in sorted(sets["synth"].items()):
        synth = evaluate_model(session, contract, real=[], phantoms=items)
        out[f"synth_{contrast}_cord_dice"] = synth["phantom"]["cord_dice"]["mean"]
    return {k: round(float(v), 3) for k, v in out.items()}


def main() -> None:
    import torch

    from fixtures.synth_axial import synth_axial
    from fixtures.synth_render import synth_sagittal
    from inference.runtime.contract import contract_from_dict
    from inference.training.data import phantom_slices, real_slices, synth_slice
    from inference.training.train import load_checkpoint, train

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--task", choices=("sagittal", "axial"), default="sagittal")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--share", type=float, default=0.5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    task = args.task
    checkpoint = ROOT / "inference" / "shipped" / f"{task}.pt"
    synth: dict[str, list[Any]] = defaultdict(list)
    # Never drawn in training (seeds from the step rng); near-midline slices, the set the
    # figures in docs/synth/README.md were measured on.
    for seed in range(900000, 900024):
        drawn = synth_sagittal(seed) if task == "sagittal" else synth_axial(seed)
        synth[drawn.acquisition.contrast].append(synth_slice(seed, task, lateral_p=0.0))
    phantoms = phantom_slices(task, [9000, 9001, 9002, 9003], sagittal_offsets=(0,))
    sets = {
        "real": real_slices(task, ["t2"] if task == "sagittal" else ["t2s"]),
        "phantoms": phantoms,
        "synth": synth,
    }
    base, state = load_checkpoint(checkpoint)
    print(f"{task} shipped", json.dumps(scores(base, contract_from_dict(state["contract"]), sets)))
    started = time.perf_counter()
    result = train(
        task=task, epochs=1, steps_per_epoch=args.steps, batch_size=6, seed=11,
        device="cpu", init_from=checkpoint, synth_fraction=args.share, lr=5e-4,
        warmup_steps=5, threads=args.threads, phantom_val_seeds=(9000,), real_val=(),
    )  # fmt: skip
    seconds = round(time.perf_counter() - started)
    label = f"{task} fine-tuned {args.steps} steps, {args.share:.0%} synthetic ({seconds} s)"
    print(label, json.dumps(scores(result.model, result.contract, sets)))


if __name__ == "__main__":
    main()
