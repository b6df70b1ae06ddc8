"""The campaign simulation: every strategy replayed from the same start on phantoms with
known gold, its CSV, plot and summary, the labels-needed rule, and bad arguments."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from inference.runtime.predict import SlicePrediction
from inference.selection_math import random_score
from inference.simulation import STRATEGIES, Row, SimCase, correction_magnitude, labels_needed
from inference.training.data import TrainingSlice

TINY = [
    "--pool-phantoms", "4", "--held-out-phantoms", "1", "--pool-real", "", "--held-out-real", "",
    "--k", "1", "--rounds", "1", "--steps", "2", "--batch-size", "2", "--widths", "4,8,16,32",
    "--input-size", "64",
]  # fmt: skip


def test_a_campaign_replays_every_strategy_from_the_same_start(tmp_path: Path, capsys) -> None:
    call_command("simulate_campaign", "--out", str(tmp_path), *TINY)
    printed = json.loads(capsys.readouterr().out)
    with (tmp_path / "campaign.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["strategy"] for r in rows] == [s for s in STRATEGIES for _ in (0, 1)] + ["full"]
    starts = [r for r in rows if r["round"] == "0" and r["strategy"] != "full"]
    # One first model for all: the same start cases and the same held-out numbers.
    assert len({(r["picked"], r["cord_dice"], r["keypoint_mre_mm"]) for r in starts}) == 1
    start = starts[0]["picked"].split()
    pool = [f"phantom:{seed}" for seed in range(20000, 20004)]
    assert start == sorted(pool, key=lambda key: random_score(0, "start", key))[:1]
    # Random picks the next case by the same fixed draw as the product's random strategy.
    rest = [key for key in pool if key not in start]
    random_pick = next(r["picked"] for r in rows if r["strategy"] == "random" and r["round"] == "1")
    assert random_pick == max(rest, key=lambda key: random_score(0, key))
    for row in rows[:-1]:
        assert int(row["labelled"]) == 1 + int(row["round"])
    assert rows[-1]["labelled"] == "4"
    assert (tmp_path / "campaign.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["labels_needed"]) == set(STRATEGIES)
    assert summary["labels_needed"] == printed["labels_needed"]


def _row(labelled: int, dice: float | None) -> Row:
    return Row("random", labelled, labelled, dice, None, None, 0.0, [])


def test_labels_needed_is_the_fewest_labels_reaching_the_target() -> None:
    rows = [_row(2, 0.5), _row(4, 0.81), _row(6, 0.79), _row(8, 0.9)]
    assert labels_needed(rows, 0.8) == 4
    assert labels_needed(rows, 0.95) is None
    assert labels_needed([_row(2, None)], 0.1) is None


def test_the_correction_of_a_case_is_the_mean_dice_loss_of_its_pre_label() -> None:
    truth = np.zeros((10, 10), dtype=bool)
    truth[2:6, 2:6] = True  # 16 px
    half = np.zeros_like(truth)
    half[2:6, 2:4] = True  # 8 px inside: Dice = 16 / 24
    item = TrainingSlice(
        image=np.zeros((10, 10), np.uint16),
        spacing=(1.0, 1.0),
        masks={"cord": truth, "canal": None},
        keypoints=None,
        source="phantom:1:sagittal:0",
    )
    prediction = SlicePrediction(
        image_shape=(10, 10), probabilities={}, masks={"cord": half}, polygons={},
        shape_confidence={},
    )  # fmt: skip
    case = SimCase("phantom:1", (item,))
    assert correction_magnitude([prediction], case) == pytest.approx(1 - 16 / 24)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--strategies", "random,loudest"], "loudest"),
        (["--k", "0"], "--k must be at least 1"),
        (["--pool-phantoms", "1", "--k", "1"], "needs more than k = 1"),
    ],
)
def test_bad_arguments_are_refused_by_name(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("simulate_campaign", "--out", str(tmp_path), *TINY, *arguments)
