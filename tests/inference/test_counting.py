"""Counting vertebrae from C2 at run time (issue 14 §5): the body centres and dens tip found on
a slice are named by counting, and the network's corners are held against the count. On
synthetic images, whose levels are known from their label maps."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from fixtures import synth_render as sr
from inference.runtime.contract import HeatmapSpec
from inference.runtime.counting import (
    Counted,
    Landmarks,
    apply_count,
    corner_windows,
    count_centres,
    decode_landmarks,
    find_peaks,
    unverified,
)
from inference.runtime.level_count import CHECKED_LEVELS, CORNERS
from inference.runtime.predict import Keypoint
from inference.runtime.preprocess import Transform
from inference.training.augment import gaussian_heatmaps


def full_fov(seed: int) -> sr.SynthImage:
    return sr.synth_sagittal(seed, fov="full")


def true_centres(item: sr.SynthImage, drop: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    return {
        lv: np.asarray(item.bodies[lv]).mean(axis=0)
        for lv in item.visible_levels()
        if lv not in drop
    }


def landmarks(
    centres: dict[str, np.ndarray], dens_tip: np.ndarray | None, seed: int = 0
) -> Landmarks:
    """The centres shuffled and jittered by half a pixel, as a network would find them."""
    rng = np.random.default_rng(seed)
    points = np.array(list(centres.values()))
    points = points[rng.permutation(len(points))] + rng.normal(0.0, 0.5, points.shape)
    return Landmarks(centres=points, dens_tip=dens_tip, dens_peak=0.9)


def names_by_truth(counted: Counted, truth: dict[str, np.ndarray]) -> dict[str, str | None]:
    """Each true level -> the name the count gave the centre nearest it."""
    out = {}
    for level, centre in truth.items():
        nearest = int(np.argmin(np.hypot(*(counted.centres - centre).T)))
        out[level] = counted.names[nearest]
    return out


@pytest.mark.parametrize("seed", range(10))
def test_bodies_from_skull_base_to_thorax_are_named_by_counting_from_c2(seed):
    item = full_fov(seed)
    truth = true_centres(item)
    assert len(truth) >= 8  # C2 .. T2 at least: far more than the band's five
    counted = count_centres(landmarks(truth, item.dens_tip, seed), item.spacing)
    assert counted.anchor == "dens"
    assert counted.reason is None
    assert names_by_truth(counted, truth) == {lv: lv for lv in truth}


@pytest.mark.parametrize("seed", range(4))
def test_a_missed_body_is_counted_over_not_shifted_into(seed):
    item = full_fov(seed)
    truth = true_centres(item, drop=("C5",))
    counted = count_centres(landmarks(truth, item.dens_tip, seed), item.spacing)
    assert names_by_truth(counted, truth) == {lv: lv for lv in truth}
    assert "C5" not in counted.names


@pytest.mark.parametrize("seed", range(4))
def test_one_body_seen_twice_is_counted_once(seed):
    item = full_fov(seed)
    truth = true_centres(item)
    # A second centre 4 mm under C4's: half a body, no vertebra is that short.
    twice = {**truth, "C4 again": truth["C4"] + np.array([0.0, 4.0 / item.spacing[0]])}
    counted = count_centres(landmarks(twice, item.dens_tip, seed), item.spacing)
    named = [n for n in counted.names if n is not None]
    assert named == list(truth)  # every level once, in order


def test_without_a_dens_or_corners_nothing_is_counted():
    item = full_fov(4)
    counted = count_centres(landmarks(true_centres(item), None), item.spacing)
    assert counted.anchor is None
    assert set(counted.names) == {None}
    assert "no dens found" in (counted.reason or "")


def test_without_a_dens_the_count_starts_from_the_networks_top_level():
    # A cervical series starting below the dens: C3's corners say where to start.
    item = full_fov(6)
    truth = true_centres(item, drop=("C2",))
    counted = count_centres(
        landmarks(truth, None), item.spacing, anchor=("C3", truth["C3"] + np.array([1.0, 1.0]))
    )
    assert counted.anchor == "corners:C3"
    assert names_by_truth(counted, truth) == {lv: lv for lv in truth}


def test_a_dens_with_no_body_under_it_leaves_the_count_to_the_corners():
    item = full_fov(7)
    truth = true_centres(item, drop=("C2", "C3"))
    counted = count_centres(landmarks(truth, item.dens_tip), item.spacing)
    assert counted.reason is not None
    assert "no vertebral body under the dens" in counted.reason
    anchored = count_centres(
        landmarks(truth, item.dens_tip), item.spacing, anchor=("C4", truth["C4"])
    )
    assert names_by_truth(anchored, truth) == {lv: lv for lv in truth}


def test_peaks_are_found_at_sub_pixel_positions_above_the_threshold():
    points = np.array([[10.3, 20.6], [30.5, 22.2], [50.0, 50.0]])
    heat = gaussian_heatmaps(points, (64, 64), 1.0)
    heat[2] *= 0.2  # under the threshold
    peaks = find_peaks(heat.max(axis=0), 0.3)
    assert len(peaks) == 2
    found = peaks[np.argsort(peaks[:, 0]), :2]
    assert np.abs(found - points[:2]).max() < 0.15


def test_peaks_in_the_padding_are_neither_a_dens_nor_a_body():
    spec = HeatmapSpec(
        name="heatmaps", keypoints=("C3_AS",), stride=1, counting=("dens_tip", "bodies")
    )
    # A 44x44 image padded by 10 pixels on every side onto a 64x64 grid, one to one.
    transform = Transform(box=(-10, -10, 54, 54), image_shape=(44, 44), network_shape=(64, 64))
    heat = np.zeros((3, 64, 64), np.float32)
    heat[1] = gaussian_heatmaps(np.array([[5.5, 5.5]]), (64, 64), 1.0)[0]  # in the padding
    bodies = np.array([[30.5, 20.5], [30.5, 40.5], [60.5, 30.5]])  # the last in the padding
    heat[2] = gaussian_heatmaps(bodies, (64, 64), 1.0).max(axis=0)
    found = decode_landmarks(spec, transform, heat, (1.0, 1.0))
    assert found.dens_tip is None
    assert np.allclose(np.sort(found.centres[:, 1]), [10.5, 30.5], atol=0.1)


def corners_of(item: sr.SynthImage, levels: dict[str, str]) -> dict[str, Keypoint]:
    """The network's corners: level -> the true body it put them on."""
    return {
        f"{name}_{corner}": Keypoint(x=float(x), y=float(y), confidence=0.9)
        for name, body in levels.items()
        for corner, (x, y) in zip(CORNERS, item.bodies[body], strict=True)
    }


def counted_truth(item: sr.SynthImage) -> Counted:
    truth = true_centres(item)
    return Counted(
        centres=np.array(list(truth.values())),
        names=list(truth),
        dens_tip=item.dens_tip,
        anchor="dens",
        reason=None,
    )


def test_corners_a_level_off_are_renamed_by_the_count_and_the_rest_withheld():
    # The demo's full field of view: C3 and C4 right, C5..C7 each one body too low.
    item = full_fov(3)
    network = corners_of(item, {"C3": "C3", "C4": "C4", "C5": "C6", "C6": "C7", "C7": "T1"})
    keypoints, withheld, renamed = apply_count(network, counted_truth(item), item.spacing)
    assert renamed == {"C6": "C5", "C7": "C6"}
    for level in ("C3", "C4", "C6", "C7"):
        assert keypoints[f"{level}_AS"] == corners_of(item, {level: level})[f"{level}_AS"]
    assert set(withheld) == {f"C5_{c}" for c in CORNERS}
    assert "lie on C6" in withheld["C5_AS"]
    assert all(keypoints[n].confidence == 0.0 for n in withheld)


def test_two_levels_on_one_body_are_both_withheld_unless_one_is_its_own():
    item = full_fov(2)
    network = corners_of(item, {"C3": "C3", "C4": "C5", "C5": "C5", "C6": "C6", "C7": "C7"})
    _keypoints, withheld, renamed = apply_count(network, counted_truth(item), item.spacing)
    assert renamed == {}
    assert set(withheld) == {f"C4_{c}" for c in CORNERS}
    assert "as another level's do" in withheld["C4_AS"]


def test_corners_that_agree_with_the_count_or_no_count_are_left_alone():
    item = full_fov(1)
    right = corners_of(item, {lv: lv for lv in CHECKED_LEVELS})
    assert apply_count(right, counted_truth(item), item.spacing) == (right, {}, {})
    shifted = corners_of(item, {"C3": "C4", "C4": "C5", "C5": "C6", "C6": "C7", "C7": "T1"})
    nothing = Counted(np.zeros((0, 2)), [], None, None, "no dens found")
    assert apply_count(shifted, nothing, item.spacing) == (shifted, {}, {})


def test_a_count_that_agrees_with_no_level_changes_nothing():
    # A mislaid peak shifts the whole count (seen on a phantom): it cannot overrule every name.
    item = full_fov(5)
    shifted = corners_of(item, {"C3": "C4", "C4": "C5", "C5": "C6", "C6": "C7", "C7": "T1"})
    assert apply_count(shifted, counted_truth(item), item.spacing) == (shifted, {}, {})


@pytest.mark.parametrize("seed", range(4))
def test_each_corner_is_looked_for_on_its_own_body_not_the_next(seed):
    item = full_fov(seed)
    rows, cols = item.image.shape
    spec = HeatmapSpec(
        name="heatmaps", keypoints=("C3_AS",), stride=1, counting=("dens_tip", "bodies")
    )
    identity = Transform(
        box=(0, 0, cols, rows), image_shape=(rows, cols), network_shape=(rows, cols)
    )
    windows = corner_windows(spec, identity, item.spacing, counted_truth(item), (rows, cols))
    assert set(windows) == {f"{lv}_{c}" for lv in CHECKED_LEVELS for c in CORNERS}
    levels = [*CHECKED_LEVELS, "T1"]
    for level, below in itertools.pairwise(levels):
        for corner, own, lower in zip(CORNERS, item.bodies[level], item.bodies[below], strict=True):
            window = windows[f"{level}_{corner}"]
            assert window[int(own[1]), int(own[0])], f"{level}_{corner} outside its window"
            assert not window[int(lower[1]), int(lower[0])], f"{below}'s {corner} inside {level}'s"


def test_corners_are_confirmed_only_on_the_bodies_counted_from_c2():
    item = full_fov(6)
    right = corners_of(item, {lv: lv for lv in CHECKED_LEVELS})
    assert unverified(right, counted_truth(item), item.spacing) == {}
    # C7's corners put on T1 while the rest sit on their own bodies: only C7 is a guess.
    low = corners_of(item, {**{lv: lv for lv in CHECKED_LEVELS}, "C7": "T1"})
    withheld = unverified(low, counted_truth(item), item.spacing)
    assert set(withheld) == {f"C7_{c}" for c in CORNERS}
    assert withheld["C7_AS"] == "not on a vertebral body counted as this level from C2"
    # A corner under the confidence the count trusts leaves its level unconfirmed.
    faint = {**right, "C4_PI": Keypoint(x=right["C4_PI"].x, y=right["C4_PI"].y, confidence=0.1)}
    withheld = unverified(faint, counted_truth(item), item.spacing, min_confidence=0.5)
    assert set(withheld) == {f"C4_{c}" for c in CORNERS}


def test_corners_not_counted_from_c2_are_all_guesses_however_right():
    item = full_fov(6)
    right = corners_of(item, {lv: lv for lv in CHECKED_LEVELS})
    every = {f"{lv}_{c}" for lv in CHECKED_LEVELS for c in CORNERS}
    from_corners = dataclasses.replace(counted_truth(item), anchor="corners:C3")
    withheld = unverified(right, from_corners, item.spacing)
    assert set(withheld) == every
    assert withheld["C3_AS"] == "levels not counted from C2: no dens in view"
    nothing = Counted(np.zeros((0, 2)), [], None, None, "no dens found and no corners to start")
    withheld = unverified(right, nothing, item.spacing)
    assert set(withheld) == every
    assert withheld["C5_PS"] == "levels not counted from C2: no dens found and no corners to start"
    # Counted from a dens, but the whole spine a level off the count: which is right is unknown.
    shifted = corners_of(item, {"C3": "C4", "C4": "C5", "C5": "C6", "C6": "C7", "C7": "T1"})
    withheld = unverified(shifted, counted_truth(item), item.spacing)
    assert set(withheld) == every
    assert "disagrees with the network's levels" in withheld["C3_AI"]
