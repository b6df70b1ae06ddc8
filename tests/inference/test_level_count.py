"""The level check of decoded corners (issue 14 §5), on synthetic images whose levels are
known from their label maps; the count from C2 itself is tested in test_counting.py."""

from __future__ import annotations

import pytest

from fixtures import synth_render as sr
from fixtures.real import real_volume
from inference.runtime.level_count import CORNERS, check_keypoints
from inference.runtime.predict import Keypoint, SlicePrediction, predict_slices
from inference.runtime.sessions import create_session
from inference.runtime.shipped import shipped_model
from inference.runtime.withhold import shapes_and_suggestions
from inference.training.data import _canonical, sagittal_view

CHECKED = ("C3", "C4", "C5", "C6", "C7")


def full_fov(seed: int) -> sr.SynthImage:
    return sr.synth_sagittal(seed, fov="full")


def named_corners(item: sr.SynthImage, confidence: float = 0.9) -> dict[str, Keypoint]:
    return {
        f"{level}_{corner}": Keypoint(x=float(x), y=float(y), confidence=confidence)
        for level in CHECKED
        for corner, (x, y) in zip(CORNERS, item.bodies[level], strict=True)
    }


@pytest.mark.parametrize("seed", range(10))
def test_the_true_corners_pass_the_check_on_any_field_of_view(seed):
    item = sr.synth_sagittal(seed)
    check = check_keypoints(named_corners(item), item.spacing)
    assert check.withheld == {}
    assert check.renamed == {}


@pytest.mark.parametrize("seed", range(4))
def test_swapped_levels_are_renamed_by_their_order(seed):
    item = full_fov(seed)
    truth = named_corners(item)
    swapped = dict(truth)
    for corner in CORNERS:
        swapped[f"C3_{corner}"], swapped[f"C6_{corner}"] = (
            truth[f"C6_{corner}"],
            truth[f"C3_{corner}"],
        )
    check = check_keypoints(swapped, item.spacing)
    assert check.renamed == {"C3": "C6", "C6": "C3"}
    assert check.withheld == {}
    assert check.keypoints == truth


@pytest.mark.parametrize("seed", range(4))
def test_corners_bunched_on_one_body_are_withheld(seed):
    # The demo's symptom: "one C4 spans three vertebrae", corners stacked on a neighbour.
    item = full_fov(seed)
    keypoints = named_corners(item)
    for corner in CORNERS:
        k = keypoints[f"C5_{corner}"]
        keypoints[f"C4_{corner}"] = Keypoint(x=k.x + 1.0, y=k.y - 1.0, confidence=0.8)
    check = check_keypoints(keypoints, item.spacing)
    assert {f"{lv}_{c}" for lv in ("C4", "C5") for c in CORNERS} <= set(check.withheld)
    assert all(check.keypoints[n].confidence == 0.0 for n in check.withheld)
    assert "bunched" in check.withheld["C4_AS"]
    assert not any(n.startswith(("C3", "C7")) for n in check.withheld)


def test_a_body_of_impossible_shape_is_withheld_and_the_rest_kept():
    item = full_fov(2)
    keypoints = named_corners(item)
    spacing = item.spacing
    a_s = keypoints["C6_AS"]
    # C6's inferior corners 40 mm under its superior ones: no cervical body is that tall.
    for corner in ("AI", "PI"):
        k = keypoints[f"C6_{corner}"]
        keypoints[f"C6_{corner}"] = Keypoint(x=k.x, y=a_s.y + 40.0 / spacing[0], confidence=0.9)
    check = check_keypoints(keypoints, spacing)
    assert set(check.withheld) == {f"C6_{c}" for c in CORNERS}
    assert "height" in check.withheld["C6_AS"]


def test_unconfident_corners_take_no_part():
    item = full_fov(1)
    keypoints = named_corners(item)
    keypoints["C7_AS"] = Keypoint(x=0.0, y=0.0, confidence=0.05)
    check = check_keypoints(keypoints, item.spacing, min_confidence=0.3)
    assert check.withheld == {}
    assert check.keypoints["C7_AS"].confidence == 0.05


def test_withheld_corners_become_suggestions_with_the_reason_not_shapes():
    item = full_fov(3)
    keypoints = named_corners(item)
    for corner in CORNERS:
        k = keypoints[f"C5_{corner}"]
        keypoints[f"C4_{corner}"] = Keypoint(x=k.x + 1.0, y=k.y, confidence=0.8)
    check = check_keypoints(keypoints, item.spacing)
    prediction = SlicePrediction(
        image_shape=item.image.shape,
        probabilities={},
        masks={},
        polygons={},
        shape_confidence={},
        keypoints=check.keypoints,
        keypoints_withheld=check.withheld,
    )
    drawn, suggestions = shapes_and_suggestions(prediction, None)
    assert {s["label"] for s in drawn} == {n for n in keypoints if n[:2] not in ("C4", "C5")}
    assert {s["label"] for s in suggestions} == {
        f"{lv}_{c}" for lv in ("C4", "C5") for c in CORNERS
    }
    assert all(s["reason"].startswith("level check: corners of C4 and C5") for s in suggestions)


def test_on_the_real_full_field_of_view_the_drawn_corners_make_a_plausible_spine():
    # The demo's CASE-0007 volume through the product's own path and shipped model: whatever
    # the network places, the corners left drawn form plausible bodies in cranio-caudal order.
    volume, _ = _canonical(real_volume("sct_example_t2").path)
    image = sagittal_view(volume, volume.shape[0] // 2)
    model = shipped_model("sagittal")
    session = create_session(model.onnx_path)
    pred = predict_slices(session, model.contract, [image], [(1.0, 1.0)])[0]
    drawn = {n: k for n, k in pred.keypoints.items() if n not in pred.keypoints_withheld}
    again = check_keypoints(drawn, (1.0, 1.0), min_confidence=0.3)
    assert again.renamed == {}
    shape_words = ("height", "depth", "anterior corner", "superior corner", "bunched")
    assert not any(w in r for r in again.withheld.values() for w in shape_words)
    # Withheld by a check: confidence 0. Read again on their counted body (counting.py): their
    # own peak, offered as suggestions all the same.
    # Withheld as not counted from C2 (the contract's corner_levels): their own peak too.
    checked = [
        n
        for n, r in pred.keypoints_withheld.items()
        if not r.startswith("read again") and "from C2" not in r
    ]
    assert all(pred.keypoints[n].confidence == 0.0 for n in checked)
