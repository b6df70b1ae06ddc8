"""Fusion of reads (issue 9): majority vote, STAPLE against SimpleITK's own filter, keypoint
mean, labelme shape <-> mask on the image grid, and the provenance of a fused structure."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import SimpleITK

from measurements.core import (
    FusionError,
    Provenance,
    SourceRevision,
    dice,
    encode_labelme_mask,
    keypoint_mean,
    majority_vote,
    mask_to_polygon,
    shape_to_mask,
    staple,
)
from measurements.core.geometry import rasterize_polygon

GRID = (64, 80)


def _combinations(reads: int) -> list[np.ndarray]:
    """One pixel per combination of the reads' votes: pixel j is in read i when bit i of j is
    set, so the grid holds every way the reads can agree or disagree."""
    pixels = np.arange(2**reads)
    return [((pixels >> i) & 1).astype(bool).reshape(1, -1) for i in range(reads)]


def _disc(centre: tuple[float, float], radius: float, shape: tuple[int, int] = GRID) -> np.ndarray:
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    inside: np.ndarray = (rows + 0.5 - centre[0]) ** 2 + (cols + 0.5 - centre[1]) ** 2 < radius**2
    return inside


def _polygon(centre: tuple[float, float], radii: tuple[float, float], n: int) -> np.ndarray:
    """An ellipse-like polygon of n vertices, (x, y), not aligned to the pixel grid."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False) + 0.1
    return np.stack([centre[0] + radii[0] * np.cos(t), centre[1] + radii[1] * np.sin(t)], axis=1)


# --- majority vote ---------------------------------------------------------------------


def test_majority_vote_of_three_reads_takes_pixels_two_of_them_have():
    fused = majority_vote(_combinations(3))
    # Votes per pixel j = 0..7: 0, 1, 1, 2, 1, 2, 2, 3.
    expected = np.array([[False, False, False, True, False, True, True, True]])
    assert np.array_equal(fused, expected)


def test_majority_vote_of_four_reads_leaves_ties_out_by_default():
    masks = _combinations(4)
    votes = np.array([bin(j).count("1") for j in range(16)]).reshape(1, -1)
    assert np.array_equal(majority_vote(masks), votes >= 3)
    assert np.array_equal(majority_vote(masks, tie="out"), votes >= 3)


def test_majority_vote_of_two_reads_takes_ties_in_when_asked():
    a = np.array([[True, True, False, False]])
    b = np.array([[True, False, True, False]])
    assert np.array_equal(majority_vote([a, b], tie="in"), [[True, True, True, False]])
    assert np.array_equal(majority_vote([a, b]), [[True, False, False, False]])


def test_majority_vote_of_one_read_is_that_read_and_accepts_zero_one_integers():
    mask = _disc((30, 40), 12)
    assert np.array_equal(majority_vote([mask.astype(np.uint8)]), mask)


def test_majority_vote_names_an_empty_list():
    with pytest.raises(FusionError, match="no masks to fuse"):
        majority_vote([])


def test_majority_vote_names_the_mask_of_another_shape():
    with pytest.raises(FusionError, match=r"mask 2 has shape \(64, 81\) but mask 0 has \(64, 80\)"):
        majority_vote([np.zeros(GRID, bool), np.zeros(GRID, bool), np.zeros((64, 81), bool)])


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (np.full(GRID, 0.5), "mask 1 must hold only 0/1"),
        (np.zeros(10, bool), r"mask 1 must be 2-D \(a slice\) or 3-D"),
        (np.zeros((0, 5), bool), "mask 1 has no pixels"),
    ],
)
def test_majority_vote_names_a_mask_that_is_not_binary_or_not_an_image(mask, message):
    with pytest.raises(FusionError, match=message):
        majority_vote([np.zeros(GRID, bool), mask])


def test_majority_vote_rejects_an_unknown_tie_rule():
    with pytest.raises(FusionError, match="tie must be one of"):
        majority_vote([np.zeros(GRID, bool)], tie="coin")  # type: ignore[arg-type]


# --- STAPLE ----------------------------------------------------------------------------


def _four_reads() -> list[np.ndarray]:
    """Three readers who nearly agree on one disc, and an outlier shifted and smaller."""
    return [
        _disc((32, 40), 14),
        _disc((32.5, 40), 14),
        _disc((32, 39.5), 13.5),
        _disc((38, 46), 10),
    ]


def _simpleitk_staple(reads: list[np.ndarray]) -> tuple[Any, np.ndarray]:
    """SimpleITK's filter with its defaults, run here directly: the reference."""
    direct: Any = SimpleITK.STAPLEImageFilter()  # type: ignore[no-untyped-call]
    images = [SimpleITK.GetImageFromArray(m.astype(np.uint8)) for m in reads]
    return direct, SimpleITK.GetArrayFromImage(direct.Execute(images))


def test_staple_equals_simpleitks_filter_on_the_same_reads():
    reads = _four_reads()
    direct, probability = _simpleitk_staple(reads)

    result = staple(reads)

    assert np.array_equal(result.probability, probability)
    assert result.sensitivity == direct.GetSensitivity()
    assert result.specificity == direct.GetSpecificity()
    assert result.iterations == direct.GetElapsedIterations()
    assert np.array_equal(result.mask, probability > 0.5)


def test_staple_of_a_volume_equals_simpleitks_filter():
    reads = [np.stack([m, np.roll(m, 2, axis=1)]) for m in _four_reads()]
    _, probability = _simpleitk_staple(reads)
    assert np.array_equal(staple(reads).probability, probability)


def test_staple_follows_three_agreeing_reads_and_rates_the_outlier_lowest():
    agreed = _disc((32, 40), 14)
    outlier = _disc((20, 30), 9)
    result = staple([agreed, agreed, outlier, agreed])
    assert np.array_equal(result.mask, agreed)
    assert result.sensitivity[2] < min(result.sensitivity[i] for i in (0, 1, 3))
    assert result.specificity[2] < min(result.specificity[i] for i in (0, 1, 3))
    assert result.sensitivity[0] == pytest.approx(1.0)


def test_staple_threshold_decides_which_probabilities_are_in():
    reads = _four_reads()
    high = staple(reads, threshold=0.999)
    low = staple(reads, threshold=0.001)
    assert np.array_equal(high.mask, high.probability > 0.999)
    assert np.array_equal(low.mask, low.probability > 0.001)
    assert high.mask.sum() < staple(reads).mask.sum() < low.mask.sum()


@pytest.mark.parametrize("value", [False, True])
def test_staple_of_reads_all_empty_or_all_full_is_that_mask_with_perfect_ratings(value):
    # SimpleITK answers NaN here: the prior (foreground share) is 0 or 1.
    result = staple([np.full(GRID, value)] * 3)
    assert np.array_equal(result.mask, np.full(GRID, value))
    assert np.array_equal(result.probability, np.full(GRID, float(value)))
    assert result.sensitivity == result.specificity == (1.0, 1.0, 1.0)


def test_importing_the_core_leaves_simpleitk_unloaded_until_staple_runs():
    code = "import sys, measurements.core; print('SimpleITK' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True
    )
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 1.0}, "threshold must lie strictly between 0 and 1"),
        ({"confidence_weight": 0.0}, "confidence_weight must be positive"),
        ({"max_iterations": 0}, "max_iterations must be at least 1"),
    ],
)
def test_staple_names_a_bad_setting(kwargs, message):
    with pytest.raises(FusionError, match=message):
        staple(_four_reads(), **kwargs)


def test_staple_names_missing_and_mismatched_masks():
    with pytest.raises(FusionError, match="no masks to fuse"):
        staple([])
    with pytest.raises(FusionError, match="mask 1 has shape"):
        staple([np.zeros(GRID, bool), np.zeros((10, 10), bool)])


# --- keypoint mean ---------------------------------------------------------------------


def test_keypoint_mean_is_exact_per_label():
    reads = [
        {"C3_AS": (10.0, 20.0), "C3_PS": (1.5, -4.0)},
        {"C3_AS": (11.0, 26.0), "C3_PS": (2.5, -2.0)},
        {"C3_AS": (15.0, 23.0), "C3_PS": (2.0, -3.0)},
    ]
    assert keypoint_mean(reads) == {"C3_AS": (12.0, 23.0), "C3_PS": (2.0, -3.0)}


def test_keypoint_mean_averages_only_the_reads_that_have_a_label():
    reads = [{"C4_AI": (4.0, 8.0)}, {"C4_AI": (6.0, 10.0), "C5_AS": (7.0, 3.0)}, {}]
    assert keypoint_mean(reads) == {"C4_AI": (5.0, 9.0), "C5_AS": (7.0, 3.0)}


def test_keypoint_mean_of_one_read_is_that_read():
    assert keypoint_mean([{"C6_PI": (0.1, 0.7)}]) == {"C6_PI": (0.1, 0.7)}


@pytest.mark.parametrize(
    ("reads", "message"),
    [
        ([], "no keypoints to fuse"),
        ([{"C3_AS": (1.0, 2.0)}, {"C3_AS": (math.nan, 2.0)}], "read 1: keypoint 'C3_AS' has a non"),
        ([{"C3_AS": (1.0, 2.0, 3.0)}], "read 0: keypoint 'C3_AS' is not an"),
        ([{"C3_AS": "1,2"}], "read 0: keypoint 'C3_AS' is not an"),
        ([[(1.0, 2.0)]], "read 0: keypoints must map a label"),
    ],
)
def test_keypoint_mean_names_the_bad_read(reads, message):
    with pytest.raises(FusionError, match=message):
        keypoint_mean(reads)


# --- labelme shapes <-> masks ----------------------------------------------------------


def test_shape_to_mask_rasterises_a_polygon_at_pixel_centres():
    points = _polygon((40.0, 30.0), (18.0, 11.0), 24)
    shape = {"label": "cord", "shape_type": "polygon", "points": points.tolist()}
    assert np.array_equal(shape_to_mask(shape, image_shape=GRID), rasterize_polygon(points, GRID))


def test_shape_to_mask_places_a_mask_shape_at_its_bounding_box():
    mask = _disc((30, 50), 7)
    shape = {"label": "canal", "shape_type": "mask", **encode_labelme_mask(mask)}
    assert np.array_equal(shape_to_mask(shape, image_shape=GRID), mask)


def test_shape_to_mask_fills_a_rectangle():
    shape = {"label": "box", "shape_type": "rectangle", "points": [[2, 3], [6, 5]]}
    expected = np.zeros(GRID, bool)
    expected[3:5, 2:6] = True
    assert np.array_equal(shape_to_mask(shape, image_shape=GRID), expected)


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ({"label": "C3_AS", "shape_type": "point", "points": [[1, 2]]}, "a point shape has no"),
        ({"label": "cord", "shape_type": "polygon", "points": [[1, 2]]}, "at least 3 points"),
        ({"label": "cord", "shape_type": "polygon", "points": "x"}, "points is not a list"),
    ],
)
def test_shape_to_mask_names_a_shape_without_area(shape, message):
    with pytest.raises(FusionError, match=message):
        shape_to_mask(shape, image_shape=GRID)


def test_shape_to_mask_names_a_bad_image_shape():
    shape = {"label": "cord", "shape_type": "polygon", "points": [[1, 1], [5, 1], [5, 5]]}
    with pytest.raises(FusionError, match="image_shape must be"):
        shape_to_mask(shape, image_shape=(0, 10))


def test_polygon_mask_polygon_round_trip_keeps_the_structure():
    points = _polygon((40.3, 31.7), (20.0, 12.5), 40)
    mask = rasterize_polygon(points, GRID)
    outline = np.asarray(mask_to_polygon(mask))
    assert dice(rasterize_polygon(outline, GRID), mask) >= 0.98
    assert dice(rasterize_polygon(outline, GRID), mask) == 1.0  # the 0.5 iso-line is exact
    simple = np.asarray(mask_to_polygon(mask, tolerance=0.5))
    assert len(simple) < len(outline)
    assert dice(rasterize_polygon(simple, GRID), mask) >= 0.98


def test_mask_to_polygon_gives_labelme_points_from_the_top_left_clockwise():
    mask = np.zeros((6, 8), bool)
    mask[1:4, 2:6] = True  # a 3 x 4 block: its corners are cut at half a pixel
    assert mask_to_polygon(mask) == [
        [2.5, 1.0],
        [5.5, 1.0],
        [6.0, 1.5],
        [6.0, 3.5],
        [5.5, 4.0],
        [2.5, 4.0],
        [2.0, 3.5],
        [2.0, 1.5],
    ]


def test_mask_to_polygon_outlines_the_largest_component_with_holes_filled():
    big = _disc((30, 30), 12)
    hole = _disc((30, 30), 4)
    small = _disc((10, 70), 5)
    outline = np.asarray(mask_to_polygon((big & ~hole) | small))
    assert np.array_equal(rasterize_polygon(outline, GRID), big)


def test_mask_to_polygon_names_an_empty_mask_and_a_volume():
    with pytest.raises(FusionError, match="an empty mask has no polygon"):
        mask_to_polygon(np.zeros(GRID, bool))
    with pytest.raises(FusionError, match="a polygon needs a 2-D mask"):
        mask_to_polygon(np.ones((2, 4, 4), bool))


def test_fused_polygon_shapes_become_one_gold_polygon():
    shapes = [
        {"label": "cord", "shape_type": "polygon", "points": _polygon(c, (18, 10), 30).tolist()}
        for c in ((40.0, 30.0), (41.0, 30.5), (39.5, 29.0))
    ]
    masks = [shape_to_mask(s, image_shape=GRID) for s in shapes]
    fused = majority_vote(masks)
    gold = mask_to_polygon(fused)
    assert np.array_equal(rasterize_polygon(np.asarray(gold), GRID), fused)


# --- provenance ------------------------------------------------------------------------


def test_provenance_records_the_sources_and_method_as_plain_data():
    provenance = Provenance(
        label="cord",
        method="staple",
        sources=(SourceRevision(read=3, revision=17), SourceRevision(read=5, revision=21)),
        parameters={"threshold": 0.5},
    )
    data = provenance.as_dict()
    assert data == {
        "label": "cord",
        "method": "staple",
        "sources": [{"read": 3, "revision": 17}, {"read": 5, "revision": 21}],
        "parameters": {"threshold": 0.5},
    }
    assert Provenance.from_dict(data) == provenance


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"label": "cord", "method": "vote", "sources": [{"read": 1, "revision": 2}]}, "method"),
        ({"label": "cord", "method": "mean", "sources": []}, "at least one source"),
        (
            {"label": "cord", "method": "copy", "sources": [{"read": 1, "revision": 2}] * 2},
            "a copy comes from exactly one revision",
        ),
        ({"label": "cord", "method": "mean", "sources": [{"read": 1}]}, "malformed.*revision"),
        ({"method": "mean", "sources": [{"read": 1, "revision": 2}]}, "malformed.*label"),
    ],
)
def test_provenance_names_what_is_wrong(data, message):
    with pytest.raises(FusionError, match=message):
        Provenance.from_dict(data)
