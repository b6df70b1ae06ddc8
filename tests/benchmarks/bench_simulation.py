"""Active-learning simulation benchmark (issue 13 §5): the campaign replayed per strategy on
phantoms and the real sagittal volumes with known gold; for each strategy the labels it
needs to reach 95 % of the full-data cord Dice, as a ratio to random (goal: <= 0.6 for the
best). Sized by SIM_BENCH_POOL / _HELD_OUT / _K / _ROUNDS / _STEPS (about 20 minutes on the
2-core CPU with the defaults); writes bench-output/simulation/."""

from __future__ import annotations

import os
import time

from tests.benchmarks.common import OUTPUT, django_setup, emit


def _env(name: str, default: int) -> int:
    return int(os.environ.get(f"SIM_BENCH_{name}", str(default)))


def main() -> None:
    django_setup(database=None)
    from inference.simulation import CampaignConfig, simulate, write_outputs

    config = CampaignConfig(
        pool_phantoms=tuple(range(20000, 20000 + _env("POOL", 16))),
        held_out_phantoms=tuple(range(29000, 29000 + _env("HELD_OUT", 4))),
        k=_env("K", 2),
        rounds=_env("ROUNDS", 4),
        steps=_env("STEPS", 100),
    )
    started = time.perf_counter()
    result = simulate(config)
    write_outputs(result, config, OUTPUT / "simulation")
    seconds = time.perf_counter() - started
    emit("simulation_full_data_cord_dice", 100 * (result.full.cord_dice or 0.0), "%", "")
    for strategy, needed in result.labels_needed.items():
        ratio = result.ratio_to_random.get(strategy)
        emit(
            f"simulation_labels_to_95pct_{strategy}",
            float(needed) if needed is not None else float("nan"),
            "cases",
            "",
            ratio_to_random=ratio,
            reached=needed is not None,
        )
    ratios = [r for s, r in result.ratio_to_random.items() if s != "random" and r is not None]
    emit(
        "simulation_best_ratio_to_random",
        min(ratios) if ratios else float("nan"),
        "ratio",
        "<= 0.6",
        seconds=round(seconds),
    )


if __name__ == "__main__":
    main()
