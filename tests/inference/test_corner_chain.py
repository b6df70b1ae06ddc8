"""The corners decoded together: a corner whose highest peak lies on another level's body
takes its own body's peak; where the highest peaks make a spine nothing changes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from inference.runtime.contract import ContractError, contract_from_dict
from inference.runtime.corner_chain import MIN_RATIO, decode_chain, moving_levels, peak_cells
from inference.runtime.predict import SlicePrediction, _keypoints
from inference.runtime.preprocess import Transform
from tests.inference.test_contract import sagittal_contract

LEVELS = ("C3", "C4", "C5", "C6", "C7")
CORNERS = ("AS", "AI", "PS", "PI")


def spine(levels: Sequence[str] = LEVELS) -> dict[str, tuple[float, float]]:
    """(x, y) mm of each corner: bodies 14 mm high and 16 mm deep, every 20 mm."""
    out: dict[str, tuple[float, float]] = {}
    for k, level in enumerate(levels):
        top = 20.0 + 20.0 * k
        out |= {
            f"{level}_AS": (10.0, top),
            f"{level}_AI": (10.0, top + 14.0),
            f"{level}_PS": (26.0, top),
            f"{level}_PI": (26.0, top + 14.0),
        }
    return out


def only_peaks(
    points: dict[str, tuple[float, float]],
) -> dict[str, list[tuple[float, float, float]]]:
    return {name: [(x, y, 0.9)] for name, (x, y) in points.items()}


def test_highest_peaks_that_make_a_spine_are_kept() -> None:
    truth = spine()
    candidates = {name: [(x, y, 0.9), (x, y + 20.0, 0.5)] for name, (x, y) in truth.items()}
    assert decode_chain(candidates) == dict.fromkeys(truth, 0)


def test_a_corner_peaking_on_the_body_above_takes_its_own_body() -> None:
    truth = spine()
    candidates = only_peaks(truth)
    # C4's inferior anterior corner peaks highest on C3's inferior endplate, as on the real
    # T1 crop, and only second on its own.
    candidates["C4_AI"] = [(10.0, 34.0, 0.64), (10.0, 54.0, 0.60)]
    chosen = decode_chain(candidates)
    assert chosen["C4_AI"] == 1
    assert {n: i for n, i in chosen.items() if n != "C4_AI"} == dict.fromkeys(
        set(truth) - {"C4_AI"}, 0
    )


def test_levels_out_of_view_are_left_out_not_forced_onto_the_others() -> None:
    truth = spine(("C3", "C4", "C5"))
    candidates = only_peaks(truth)
    # The crop ends under C5: C6 and C7 peak on C5's corners and, weaker, on C4's.
    for level in ("C6", "C7"):
        for corner in CORNERS:
            x, y = truth[f"C5_{corner}"]
            candidates[f"{level}_{corner}"] = [(x, y, 0.8), (x, y - 20.0, 0.6)]
    # C3..C5 also have weaker peaks one body up, which a shifted chain could use.
    for name, (x, y) in truth.items():
        candidates[name].append((x, y - 20.0, 0.5))
    chosen = decode_chain(candidates)
    assert chosen == dict.fromkeys(truth, 0)


def c5_named_one_level_low(
    second_peak: float, c6_shift: float = 0.0
) -> tuple[dict[str, tuple[float, float]], dict[str, list[tuple[float, float, float]]]]:
    """A C3-C5 crop ending at C5's inferior endplate, as the `t1` fold's real one: C5's
    inferior corners peak highest on the C4/C5 disc (their own place is the second peak, of
    `second_peak`) and C6 peaks, as a well-formed body, on C5's (moved by `c6_shift` mm)."""
    truth = spine(("C3", "C4", "C5"))
    candidates = only_peaks(truth)
    for corner in ("AI", "PI"):
        x, y = truth[f"C5_{corner}"]
        disc = truth[f"C4_{corner}"][1] + 2.0
        candidates[f"C5_{corner}"] = [(x, disc, 0.9), (x, y, second_peak)]
    for corner in CORNERS:
        x, y = truth[f"C5_{corner}"]
        candidates[f"C6_{corner}"] = [(x + c6_shift, y + c6_shift, 0.8)]
    return truth, candidates


def assert_c5_takes_its_own_inferior_corners(
    truth: dict[str, tuple[float, float]], chosen: dict[str, int]
) -> None:
    assert chosen["C5_AI"] == chosen["C5_PI"] == 1
    assert {n: i for n, i in chosen.items() if n[:2] != "C5"} == {
        n: 0 for n in truth if n[:2] != "C5"
    }


def test_a_level_seen_one_body_too_low_does_not_push_its_neighbour_out() -> None:
    truth, candidates = c5_named_one_level_low(second_peak=0.4, c6_shift=1.0)
    assert_c5_takes_its_own_inferior_corners(truth, decode_chain(candidates))


def test_a_level_in_view_is_left_out_at_a_higher_cost_than_one_out_of_view() -> None:
    # The chain could name the bodies one level low: C6 on C5's body and C7 below the crop
    # (a well-formed pair), C4 and C5 left out.
    truth, candidates = c5_named_one_level_low(second_peak=0.36)
    for corner in CORNERS:
        x, y = truth[f"C5_{corner}"]
        candidates[f"C7_{corner}"] = [(x, y + 20.0, 0.8)]
    assert_c5_takes_its_own_inferior_corners(truth, decode_chain(candidates))


def test_nothing_is_chosen_with_fewer_than_two_levels_of_candidates() -> None:
    candidates = only_peaks(spine(("C3",)))
    assert decode_chain(candidates) == {}
    assert decode_chain({}) == {}


def gaussian(
    shape: tuple[int, int], centre: Sequence[float], height: float, sigma: float = 1.5
) -> np.ndarray:
    rows, cols = np.indices(shape)
    return height * np.exp(-((rows - centre[0]) ** 2 + (cols - centre[1]) ** 2) / (2 * sigma**2))


def test_peak_cells_are_each_channels_local_maxima_highest_first_above_the_ratio() -> None:
    first = gaussian((40, 40), (10, 12), 1.0) + gaussian((40, 40), (28, 30), 0.6)
    first += gaussian((40, 40), (30, 5), MIN_RATIO * 0.5)  # too weak to be a candidate
    second = gaussian((40, 40), (20, 20), 0.5)
    stack = np.stack([first, np.zeros((40, 40)), second])
    channels, rows, cols = peak_cells(stack)
    assert channels.tolist() == [0, 0, 2]
    assert list(zip(rows.tolist(), cols.tolist(), strict=True)) == [(10, 12), (28, 30), (20, 20)]


def test_only_levels_that_break_a_rule_move() -> None:
    truth = spine()
    assert moving_levels(truth) == []
    assert moving_levels({}) == []
    bad = dict(truth)
    bad["C4_AI"] = truth["C3_AI"]  # C4 0 mm high: its body breaks a rule, C3's does not
    assert moving_levels(bad) == ["C4"]
    bad = dict(truth)
    bad["C5_AS"], bad["C5_PS"] = (10.0, 52.0), (26.0, 52.0)  # C5 starts above C4's end
    assert moving_levels(bad) == ["C4", "C5"]
    bad = dict(truth)
    del bad["C5_AS"]  # C5 unjudged; C6 begins 6 mm under C4: no room for C5 between them
    for corner in CORNERS:
        x, y = truth[f"C6_{corner}"]
        bad[f"C6_{corner}"] = (x, y - 20.0)
    assert moving_levels(bad) == ["C4", "C6"]


def test_the_prediction_takes_the_peak_on_its_own_body() -> None:
    """Through `_chain_corners` as predict runs it: 1 mm pixels, heatmaps at stride 1."""
    data = sagittal_contract()
    data["postprocessing"]["corners"] = "chain"
    contract = contract_from_dict(data)
    shape = (140, 48)
    truth = spine()
    keypoints = data["outputs"]["heatmap"]["keypoints"]
    heat = np.stack([gaussian(shape, truth[n][::-1], 0.9) for n in keypoints]).astype(np.float32)
    wrong = keypoints.index("C4_AI")
    heat[wrong] = gaussian(shape, (34, 10), 0.9) + gaussian(shape, (54, 10), 0.7)
    transform = Transform(box=(0, 0, shape[1], shape[0]), image_shape=shape, network_shape=shape)
    pred = SlicePrediction(
        image_shape=shape, probabilities={}, masks={}, polygons={}, shape_confidence={}
    )
    _keypoints(contract, transform, heat, pred, (1.0, 1.0))
    point = pred.keypoints["C4_AI"]
    assert abs(point.x - 10.5) < 0.5  # pixel centres at i + 0.5
    assert abs(point.y - 54.5) < 0.5
    assert point.confidence == pytest.approx(0.7, abs=0.02)
    assert abs(pred.keypoints["C3_AI"].y - 34.5) < 0.5

    data["postprocessing"]["corners"] = "peak"
    plain = SlicePrediction(
        image_shape=shape, probabilities={}, masks={}, polygons={}, shape_confidence={}
    )
    _keypoints(contract_from_dict(data), transform, heat, plain, (1.0, 1.0))
    assert abs(plain.keypoints["C4_AI"].y - 34.5) < 0.5


def test_the_contract_reads_the_corner_decoding_and_refuses_it_without_corners() -> None:
    data = sagittal_contract()
    assert contract_from_dict(data).postprocessing.corners == "peak"
    data["postprocessing"]["corners"] = "chain"
    assert contract_from_dict(data).postprocessing.corners == "chain"
    data["postprocessing"]["corners"] = "viterbi"
    with pytest.raises(ContractError) as info:
        contract_from_dict(data)
    assert any("postprocessing.corners" in e for e in info.value.errors)
    data["postprocessing"]["corners"] = "chain"
    data["postprocessing"].pop("extent")
    data["outputs"]["heatmap"]["keypoints"] = ["C3_AS", "C3_AI"]
    with pytest.raises(ContractError) as info:
        contract_from_dict(data)
    assert any("postprocessing.corners: chain needs" in e for e in info.value.errors)
