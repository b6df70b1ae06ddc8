"""The lateral extent of a sagittal series: the mid-sagittal slice is found from the cord
masks' evidence, and structures beyond their half-width of it are dropped."""

from __future__ import annotations

import numpy as np
import pytest

from inference.runtime.lateral import limit_lateral_extent, mid_sagittal
from inference.runtime.predict import SlicePrediction

SHAPE = (40, 30)


def _slice(cord_rows: int, confidence: float = 0.9, canal: bool = True) -> SlicePrediction:
    """A slice whose cord mask covers `cord_rows` rows of 4 columns (0: no cord)."""
    masks: dict[str, np.ndarray] = {}
    polygons: dict[str, np.ndarray | None] = {}
    shape_confidence: dict[str, float] = {}
    for label, rows in (("cord", cord_rows), ("canal", 30 if canal else 0)):
        mask = np.zeros(SHAPE, dtype=bool)
        mask[:rows, 10:14] = True
        masks[label] = mask
        polygons[label] = np.array([[10.0, 0.0], [14.0, 0.0], [14.0, rows]]) if rows else None
        shape_confidence[label] = confidence if rows else 0.0
    return SlicePrediction(
        image_shape=SHAPE,
        probabilities={},
        masks=masks,
        polygons=polygons,
        shape_confidence=shape_confidence,
    )


def _series(rows: list[int]) -> list[SlicePrediction]:
    return [_slice(r) for r in rows]


def test_the_midline_is_the_peak_of_the_pooled_cord_evidence_not_one_outlier() -> None:
    # A broad bump of cord centred on slice 6, and one slice far out (the facets) with a
    # larger mask than any single central slice.
    rows = [5, 5, 5, 5, 20, 25, 28, 25, 20, 5, 5, 5, 5, 5, 35, 5]
    assert mid_sagittal(_series(rows), [float(i) for i in range(len(rows))], "cord") == 6


def test_the_midline_weighs_each_mask_by_its_confidence() -> None:
    predictions = [_slice(20, 0.9), _slice(20, 0.9), _slice(20, 0.3), _slice(20, 0.3)]
    # Slices 5 mm apart: no pooling between them, so the surer of the two equal masks wins.
    assert mid_sagittal(predictions, [0.0, 5.0, 10.0, 15.0], "cord") in (0, 1)
    assert mid_sagittal([_slice(0), _slice(0)], [0.0, 1.0], "cord") is None


def test_structures_beyond_their_half_width_are_dropped_and_the_rest_kept() -> None:
    rows = [10] * 21
    rows[10] = 30
    predictions = _series(rows)
    positions = [2.0 * i for i in range(21)]  # 2 mm slices; the midline at 20 mm
    extent = limit_lateral_extent(predictions, positions, {"cord": 8.0, "canal": 12.0})
    assert extent is not None
    assert extent.mid == 10
    cord = [p.polygons["cord"] is not None for p in predictions]
    canal = [p.polygons["canal"] is not None for p in predictions]
    assert cord == [abs(i - 10) <= 4 for i in range(21)]
    assert canal == [abs(i - 10) <= 6 for i in range(21)]
    assert extent.kept == {"cord": 9, "canal": 13}
    assert extent.removed["cord"] == [i for i in range(21) if abs(i - 10) > 4]
    dropped = predictions[0]
    assert not dropped.masks["cord"].any()
    assert dropped.shape_confidence["cord"] == 0.0
    assert extent.summary() == (
        "mid-sagittal slice 11: cord on 9 slices (±8 mm), canal on 13 slices (±12 mm)"
    )


def test_a_series_within_its_extent_or_without_positions_is_unchanged() -> None:
    narrow = _series([10, 20, 10])
    extent = limit_lateral_extent(narrow, [-3.0, 0.0, 3.0], {"cord": 8.0})
    assert extent is not None
    assert extent.removed == {"cord": []}
    assert extent.summary() == ""
    single = _series([10, 10])
    assert limit_lateral_extent(single, [4.0, 4.0], {"cord": 8.0}) is None
    assert limit_lateral_extent(single, [0.0, 9.0], {}) is None
    assert all(p.polygons["cord"] is not None for p in single)


def test_it_refuses_positions_that_do_not_match_the_slices() -> None:
    with pytest.raises(ValueError, match="3 predictions but 2 positions"):
        limit_lateral_extent(_series([1, 2, 3]), [0.0, 1.0], {"cord": 8.0})
