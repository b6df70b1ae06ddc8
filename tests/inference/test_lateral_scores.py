"""The lateral extent's scores on the real sagittal volumes (model card, `make bench`), with
the shipped sagittal model through the product's prediction path."""

from __future__ import annotations

import dataclasses

from inference.runtime.sessions import create_session
from inference.runtime.shipped import shipped_model
from inference.training.lateral_scores import card_lines, score_lateral


def test_the_extent_finds_the_manual_midline_and_drops_only_slices_without_cord() -> None:
    model = shipped_model("sagittal")
    session = create_session(model.onnx_path)
    scores = score_lateral(session, model.contract)
    assert set(scores) == {"sct_testing_t2", "sct_testing_t1", "sct_example_t2"}
    for name in ("sct_testing_t2", "sct_testing_t1"):
        item = scores[name]
        assert abs(item["mid"] - item["manual_centre"]) <= 1.0, name
        assert item["lost"] == 0, name
        assert item["false_after"] < item["false_before"], name
        assert item["drawn_after"] <= 17, name  # ±8 mm of 1 mm slices
    assert scores["sct_example_t2"]["drawn_after"] <= scores["sct_example_t2"]["drawn_before"]
    text = card_lines(scores, {"cord": 8.0, "canal": 12.0})[0]
    assert "cord ±8 mm, canal ±12 mm" in text
    item = scores["sct_testing_t2"]
    assert f"a cord drawn on {item['false_before']} of the 39 slices without one" in text


def test_a_contract_without_the_extent_scores_nothing() -> None:
    model = shipped_model("sagittal")
    post = dataclasses.replace(model.contract.postprocessing, lateral_extent_mm={})
    contract = dataclasses.replace(model.contract, postprocessing=post)
    assert score_lateral(create_session(model.onnx_path), contract) == {}
