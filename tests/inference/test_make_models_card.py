"""The model card's data text says what each shipped model was trained on (issue 14 §6)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_models.py"


@pytest.fixture
def make_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_models_under_test", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "SHIPPED", tmp_path)
    return module


def _info(sha: str, volumes: list[str]) -> dict[str, Any]:
    train = [f"real:{v}:axial:{i}" for v in volumes for i in range(2)] + ["phantom:1000:axial:0"]
    return {"sha256": sha, "training": {"data": {"train": train}}}


def test_a_single_held_out_model_keeps_the_held_out_text(make_models, tmp_path):
    infos = {"axial": _info("a" * 64, ["t2", "t1", "mt"])}
    training, held_out = make_models._real_data_text(infos)
    assert "axial training: `t2`, `t1`,\n  `mt`" in training
    assert "the 9 axial slices of the `t2s` volume" in held_out


def test_a_lovo_final_model_says_it_saw_every_volume(make_models, tmp_path):
    (tmp_path / "lovo").mkdir()
    lovo = {"shipped_final": True, "final": {"sha256": "b" * 64}}
    (tmp_path / "lovo" / "axial.json").write_text(json.dumps(lovo))
    infos = {
        "sagittal": _info("c" * 64, ["t1"]),
        "axial": _info("b" * 64, ["t2", "t1", "t2s", "mt"]),
    }
    training, held_out = make_models._real_data_text(infos)
    assert "Axial training: all of `mt`, `t1`, `t2`, `t2s` (leave-one-volume-out final" in training
    assert "Axial, real: none left" in held_out
    assert "Sagittal, real: the sagittal slices of the `t2` volume" in held_out
    # A stored LOVO run whose final model is not the shipped file changes nothing.
    lovo["final"] = {"sha256": "d" * 64}
    (tmp_path / "lovo" / "axial.json").write_text(json.dumps(lovo))
    _, held_out = make_models._real_data_text(infos)
    assert "the 9 axial slices of the `t2s` volume" in held_out


def test_the_run_line_names_the_synthetic_share_and_the_warm_start(make_models):
    plain = {"config": {"synth_fraction": 0.0, "real_fraction": 0.3}, "init_from": None}
    assert make_models._recipe_note(plain) == ""
    tuned = {
        "config": {"synth_fraction": 0.4, "real_fraction": 0.3},
        "init_from": "inference/shipped/sagittal.pt",
    }
    note = make_models._recipe_note(tuned)
    assert "40 % domain-randomised synthetic images" in note
    assert "18 % real slices, 42 % phantoms" in note
    assert "Fine-tuned from `inference/shipped/sagittal.pt`" in note


def test_a_lovo_final_run_line_points_at_the_shared_pretraining(make_models):
    final = {
        "config": {"synth_fraction": 0.5, "real_fraction": 0.5},
        "init_from": "/somewhere/var/lovo/axial/pretrain/checkpoint.pt",
        "recipe": {"epochs": 1, "steps_per_epoch": 120},
    }
    note = make_models._recipe_note(final)
    assert "120 steps fine-tune the view's shared pretraining" in note
    assert "/somewhere" not in note
    assert "previous shipped model" not in note


def test_adding_a_counting_network_to_no_network_names_the_missing_file(make_models, capsys):
    # The fixture points SHIPPED at an empty folder: no network to add one to.
    assert make_models.add_counting() == 2
    error = capsys.readouterr().err
    assert error.startswith("make_models --add-counting: ")
    assert "sagittal.pt" in error
