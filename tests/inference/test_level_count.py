"""Levels by counting from C2 (issue 14 §5), on full field-of-view synthetic images whose
levels are known from their label maps."""

from __future__ import annotations

import numpy as np
import pytest

from fixtures import synth_render as sr
from fixtures.real import real_volume
from inference.runtime.level_count import CORNERS, Body, check_keypoints, count_levels
from inference.runtime.predict import Keypoint, SlicePrediction, predict_slices
from inference.runtime.sessions import create_session
from inference.runtime.shipped import shipped_model
from inference.runtime.withhold import shapes_and_suggestions
from inference.training.data import _canonical, sagittal_view

CHECKED = ("C3", "C4", "C5", "C6", "C7")


def full_fov(seed: int) -> sr.SynthImage:
    return sr.synth_sagittal(seed, fov="full")


def shuffled_bodies(
    item: sr.SynthImage, seed: int, *, jitter_px: float = 0.5, drop: tuple[str, ...] = ()
) -> tuple[list[Body], list[str]]:
    """The visible bodies, unnamed, in random order, their corners jittered; and their truth."""
    levels = [lv for lv in item.visible_levels() if lv not in drop]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(levels))
    bodies = [
        Body(corners=item.bodies[levels[k]] + rng.normal(0.0, jitter_px, (4, 2))) for k in order
    ]
    return bodies, [levels[k] for k in order]


def named_corners(item: sr.SynthImage, confidence: float = 0.9) -> dict[str, Keypoint]:
    return {
        f"{level}_{corner}": Keypoint(x=float(x), y=float(y), confidence=confidence)
        for level in CHECKED
        for corner, (x, y) in zip(CORNERS, item.bodies[level], strict=True)
    }


@pytest.mark.parametrize("seed", range(12))
def test_bodies_from_skull_base_to_thorax_are_named_by_counting_from_c2(seed):
    item = full_fov(seed)
    bodies, truth = shuffled_bodies(item, seed)
    assert len(truth) >= 8  # C2 .. T2 at least: far more than the band's five
    result = count_levels(bodies, item.spacing, dens_tip=item.dens_tip)
    assert result.names == truth
    assert [truth[i] for i in result.order][:2] == ["C2", "C3"]


@pytest.mark.parametrize("seed", range(6))
def test_c2_is_found_by_its_height_when_the_dens_is_part_of_its_body(seed):
    item = full_fov(seed)
    bodies, truth = shuffled_bodies(item, seed)
    with_dens = [
        Body(corners=b.corners, top=item.dens_tip if name == "C2" else None)
        for b, name in zip(bodies, truth, strict=True)
    ]
    assert count_levels(with_dens, item.spacing).names == truth


@pytest.mark.parametrize("seed", range(6))
def test_a_missed_body_is_counted_over_not_shifted_into(seed):
    item = full_fov(seed)
    bodies, truth = shuffled_bodies(item, seed, drop=("C5",))
    result = count_levels(bodies, item.spacing, dens_tip=item.dens_tip)
    assert result.names == truth
    assert "C5" not in result.names


def test_without_c2_nothing_is_counted():
    item = full_fov(4)
    bodies, _ = shuffled_bodies(item, 4, drop=("C2",))
    result = count_levels(bodies, item.spacing)
    assert result.c2 is None
    assert set(result.names) == {None}
    assert all("C2 not found" in r for r in result.reasons.values())


def test_a_position_that_breaks_the_count_stops_it():
    item = full_fov(5)
    bodies, truth = shuffled_bodies(item, 5)
    # A false body 4 mm under C4: steps of a third of a body cannot be vertebrae.
    c4 = item.bodies["C4"]
    fake = Body(corners=c4 + np.array([0.0, 4.0 / item.spacing[0]]))
    result = count_levels([*bodies, fake], item.spacing, dens_tip=item.dens_tip)
    named = dict(zip(truth, result.names[: len(truth)], strict=True))
    assert named["C2"] == "C2"
    assert named["C3"] == "C3"
    assert named["C4"] == "C4"
    assert result.names[-1] is None
    assert all(named[lv] is None for lv in truth if lv not in ("C2", "C3", "C4"))


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
    assert all(pred.keypoints[n].confidence == 0.0 for n in pred.keypoints_withheld)
