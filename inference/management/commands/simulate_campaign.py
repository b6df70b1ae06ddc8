"""Replay an annotation campaign with known gold for each case-selection strategy; writes
campaign.csv, campaign.png and summary.json (the labels each strategy needs to reach 95 % of
the full-data Dice, and that as a ratio to random)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inference.simulation import STRATEGIES, CampaignConfig, simulate, write_outputs


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise CommandError(f"expected comma-separated integers, got {text!r}") from exc


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = CampaignConfig()
        parser.add_argument("--out", required=True, help="folder for the CSV, plot and summary")
        parser.add_argument("--strategies", default=",".join(STRATEGIES))
        parser.add_argument("--pool-phantoms", type=int, default=len(defaults.pool_phantoms))
        parser.add_argument(
            "--held-out-phantoms", type=int, default=len(defaults.held_out_phantoms)
        )
        parser.add_argument("--pool-real", default=",".join(defaults.pool_real))
        parser.add_argument("--held-out-real", default=",".join(defaults.held_out_real))
        parser.add_argument("--k", type=int, default=defaults.k, help="cases labelled per round")
        parser.add_argument("--rounds", type=int, default=defaults.rounds)
        parser.add_argument("--steps", type=int, default=defaults.steps, help="per training")
        parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
        parser.add_argument("--widths", default=",".join(map(str, defaults.recipe["widths"])))
        parser.add_argument("--input-size", type=int, default=defaults.recipe["input_size"][0])
        parser.add_argument("--seed", type=int, default=defaults.seed)

    def handle(self, *args: Any, **options: Any) -> None:
        strategies = _names(options["strategies"])
        unknown = sorted(set(strategies) - set(STRATEGIES))
        if unknown:
            raise CommandError(f"unknown strategies {unknown}: choose from {', '.join(STRATEGIES)}")
        for name in ("k", "rounds", "steps", "batch_size", "pool_phantoms"):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1")
        size = options["input_size"]
        config = CampaignConfig(
            strategies=strategies,
            pool_phantoms=tuple(range(20000, 20000 + options["pool_phantoms"])),
            held_out_phantoms=tuple(range(29000, 29000 + options["held_out_phantoms"])),
            pool_real=_names(options["pool_real"]),
            held_out_real=_names(options["held_out_real"]),
            k=options["k"],
            rounds=options["rounds"],
            steps=options["steps"],
            batch_size=options["batch_size"],
            seed=options["seed"],
            recipe={"widths": _ints(options["widths"]), "input_size": (size, size)},
        )
        try:
            result = simulate(config, progress=self.stderr.write)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        paths = write_outputs(result, config, Path(options["out"]))
        self.stdout.write(
            json.dumps(
                {
                    "full_data_cord_dice": result.full.cord_dice,
                    "labels_needed": result.labels_needed,
                    "ratio_to_random": result.ratio_to_random,
                    "files": [str(p) for p in paths],
                }
            )
        )
