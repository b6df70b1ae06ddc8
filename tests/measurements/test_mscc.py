"""Sagittal MSCC/MCC on analytic spines: exact widths, levels, references, missing inputs."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from measurements.core import InvalidInput, MissingInput, Region, measure_sagittal
from measurements.core.sagittal import measure_sagittal_references
from tests.measurements.analytic_spine import (
    Frame,
    band,
    constant,
    keypoints,
    notch,
    samples_with,
    wall_positions,
)

Edge = Callable[[np.ndarray], np.ndarray]

FRAMES = [
    Frame(),
    Frame(tilt_deg=17.0, spacing=(0.6, 0.35)),
    Frame(tilt_deg=-33.0, spacing=(0.3, 0.9)),
    Frame(tilt_deg=90.0, spacing=(1.0, 0.5)),
]


def _regions(
    frame: Frame,
    cord_ant: Edge,
    cord_post: Edge,
    canal_ant: Edge,
    canal_post: Edge,
    *breaks: float,
) -> tuple[Region, Region]:
    s = samples_with(*breaks)
    cord = Region.from_polygon(band(frame, cord_ant, cord_post, s))
    canal = Region.from_polygon(band(frame, canal_ant, canal_post, s))
    return cord, canal


@pytest.mark.parametrize("frame", FRAMES)
def test_a_cord_of_constant_width_has_zero_mscc_and_mcc(frame):
    cord, canal = _regions(frame, constant(3.0), constant(11.0), constant(1.5), constant(15.5))
    r = measure_sagittal(cord=cord, canal=canal, keypoints=keypoints(frame), spacing=frame.spacing)
    for name, value in (("d_i", 8.0), ("d_a", 8.0), ("d_b", 8.0), ("D_i", 14.0), ("D_a", 14.0)):
        assert getattr(r, name) == pytest.approx(value, abs=1e-9), name
    assert r.mscc == pytest.approx(0.0, abs=1e-12)
    assert r.mcc == pytest.approx(0.0, abs=1e-12)
    assert r.missing == ()


@pytest.mark.parametrize("frame", FRAMES)
@pytest.mark.parametrize(
    ("centre", "level"), [(42.5, "C5"), (33.5, "C4/C5"), (60.0, "C6"), (15.5, "C3/C4")]
)
def test_a_notch_gives_the_exact_minimum_its_level_and_position(frame, centre, level):
    half = 2.0 if centre == 15.5 else 4.0  # the C3/C4 notch must stay off the C3 wall
    cord_ant = notch(3.0, 2.5, centre, half)  # cord 8 mm, narrowed to 5.5 mm at the centre
    canal_ant = notch(1.5, 4.2, centre, half + 0.5)  # canal 14 mm, narrowed to 9.8 mm
    cord, canal = _regions(
        frame,
        cord_ant,
        constant(11.0),
        canal_ant,
        constant(15.5),
        centre,
        centre - half,
        centre + half,
        centre - half - 0.5,
        centre + half + 0.5,
    )
    r = measure_sagittal(cord=cord, canal=canal, keypoints=keypoints(frame), spacing=frame.spacing)
    assert r.d_i == pytest.approx(5.5, abs=1e-9)
    assert r.D_i == pytest.approx(9.8, abs=1e-9)
    assert r.d_a == pytest.approx(8.0, abs=1e-9)
    assert r.d_b == pytest.approx(8.0, abs=1e-9)
    assert r.D_a == pytest.approx(14.0, abs=1e-9)
    assert r.mscc == pytest.approx(1 - 5.5 / 8.0, abs=1e-12)
    assert r.mcc == pytest.approx(1 - 9.8 / 14.0, abs=1e-12)
    assert r.mscc is not None
    assert r.mscc_percent == pytest.approx(100 * r.mscc)
    assert (r.d_i_level, r.D_i_level) == (level, level)
    assert r.d_i_position_mm == pytest.approx(centre, abs=1e-9)


def test_the_chords_are_drawn_where_the_widths_were_measured():
    frame = Frame(tilt_deg=10.0, spacing=(0.4, 0.7))
    cord, canal = _regions(
        frame, notch(3.0, 2.0, 42.0, 4.0), constant(11.0), constant(1.5), constant(15.5), 42.0
    )
    r = measure_sagittal(cord=cord, canal=canal, keypoints=keypoints(frame), spacing=frame.spacing)
    chords = {c.name: c for c in r.chords}
    assert set(chords) == {"d_i", "d_a", "d_b", "D_i", "D_a", "D_b"}
    d_i = chords["d_i"]
    (x0, y0), (x1, y1) = d_i.start, d_i.end
    length = math.hypot((x1 - x0) * 0.7, (y1 - y0) * 0.4)
    assert length == pytest.approx(r.d_i, abs=1e-9) == pytest.approx(d_i.length_mm)
    # Its ends lie on the cord's edges at s = 42: t = 5 (anterior, notched) and t = 11.
    expected = frame.to_px(np.array([42.0, 42.0]), np.array([5.0, 11.0]))
    got = np.array([d_i.start, d_i.end])
    assert np.allclose(np.sort(got, axis=0), np.sort(expected, axis=0), atol=1e-9)


def test_c3c7_reference_averages_the_whole_c3_and_c7_walls():
    frame = Frame(tilt_deg=5.0)
    walls = wall_positions()
    # Cord width grows linearly along the C3 wall from 7 to 9 mm and is 8 mm elsewhere.
    s3 = walls["C3_PI"]

    def post(s):
        return 11.0 + np.interp(s, [0.0, s3, s3 + 1e-6], [0.0, 2.0, 0.0]) - 1.0 * (s <= s3)

    cord = Region.from_polygon(band(frame, constant(3.0), post, samples_with(0.0, s3, s3 + 1e-6)))
    r = measure_sagittal(cord=cord, canal=None, keypoints=keypoints(frame), spacing=frame.spacing)
    assert r.d_a == pytest.approx(8.0, abs=1e-9)  # mean of 7..9
    assert r.d_b == pytest.approx(8.0, abs=1e-9)
    assert r.d_i == pytest.approx(7.0, abs=1e-9)
    assert r.d_i_level == "C3"


def test_adjacent_reference_averages_windows_at_distance_and_extent():
    frame = Frame(tilt_deg=-8.0, spacing=(0.5, 0.4))
    # Cord width 6 + 0.05·s (linear) with a notch at s = 42: window means are exact.
    centre = 42.0

    def post(s):
        return 3.0 + 6.0 + 0.05 * s

    cord_ant = notch(3.0, 3.0, centre, 3.0)
    cord = Region.from_polygon(
        band(frame, cord_ant, post, samples_with(centre, centre - 3.0, centre + 3.0))
    )
    kp = keypoints(frame)
    r = measure_sagittal(
        cord=cord, canal=None, keypoints=kp, spacing=frame.spacing, reference="adjacent"
    )
    width_at_centre = 6.0 + 0.05 * centre - 3.0
    assert r.d_i == pytest.approx(width_at_centre, abs=1e-9)
    # Above: s in [42-30, 42-10] → mean at s = 22; below: [52, 72] → mean at s = 62.
    assert r.d_a == pytest.approx(6.0 + 0.05 * 22.0, abs=1e-9)
    assert r.d_b == pytest.approx(6.0 + 0.05 * 62.0, abs=1e-9)
    assert r.reference == "adjacent"
    short = measure_sagittal(
        cord=cord,
        canal=None,
        keypoints=kp,
        spacing=frame.spacing,
        reference="adjacent",
        distance_mm=5.0,
        extent_mm=4.0,
    )
    assert short.d_a == pytest.approx(6.0 + 0.05 * 35.0, abs=1e-9)
    assert short.d_b == pytest.approx(6.0 + 0.05 * 49.0, abs=1e-9)


def test_adjacent_reference_uses_the_other_side_when_one_has_no_layers():
    frame = Frame()
    centre = 4.0  # near C3_PS: nothing 10 mm above
    cord = Region.from_polygon(
        band(frame, notch(3.0, 2.0, centre, 2.0), constant(11.0), samples_with(centre, 2.0, 6.0))
    )
    r = measure_sagittal(
        cord=cord, canal=None, keypoints=keypoints(frame), spacing=(0.5, 0.5), reference="adjacent"
    )
    assert r.d_a == r.d_b == pytest.approx(8.0, abs=1e-9)
    assert any("above" in w for w in r.warnings)


def test_a_window_cut_short_by_the_polyline_end_averages_what_remains():
    frame = Frame()
    centre = 20.0  # window above is [-10, 10], cut to [0, 10]

    def post(s):
        return 11.0 + 0.1 * s

    cord = Region.from_polygon(
        band(frame, notch(3.0, 5.0, centre, 2.0), post, samples_with(centre, 18.0, 22.0))
    )
    r = measure_sagittal(
        cord=cord, canal=None, keypoints=keypoints(frame), spacing=(0.5, 0.5), reference="adjacent"
    )
    assert r.d_i == pytest.approx(5.0, abs=1e-9)
    assert r.d_a == pytest.approx(8.0 + 0.1 * 5.0, abs=1e-9)
    assert r.d_b == pytest.approx(8.0 + 0.1 * 40.0, abs=1e-9)


def test_masks_are_measured_on_their_pixel_squares():
    # Vertical spine on a 0.4 x 0.7 mm grid; cord columns 20..31 (12 px = 8.4 mm).
    spacing = (0.4, 0.7)
    frame = Frame(origin_mm=(10 * 0.7, 30 * 0.4), spacing=spacing)
    cord = np.zeros((300, 60), bool)
    cord[:, 20:32] = True
    cord[140:150, 20:25] = False  # 5 px notch → 7 px = 4.9 mm over rows 140..149
    canal = np.zeros((300, 60), bool)
    canal[:, 12:40] = True
    r = measure_sagittal(
        cord=Region.from_mask(cord),
        canal=Region.from_mask(canal),
        keypoints=keypoints(frame),
        spacing=spacing,
    )
    assert r.d_a == pytest.approx(12 * 0.7, abs=1e-9)
    assert r.d_i == pytest.approx(7 * 0.7, abs=1e-9)
    assert r.D_i == r.D_a == pytest.approx(28 * 0.7, abs=1e-9)
    # The notch spans rows 140..150 (y in mm 56..60), i.e. s = 44..48 on the C5 wall.
    assert r.d_i_level == "C5"
    assert r.d_i_position_mm is not None
    assert 44.0 - 1e-9 <= r.d_i_position_mm <= 48.0 + 1e-9


def test_the_width_is_the_run_nearest_the_wall_not_the_sum_of_runs():
    frame = Frame()
    # A U open at the top: two limbs t in [3, 6] and [9, 12], joined below the polyline.
    down = np.arange(-10.0, 100.1, 2.0)
    up = down[::-1]
    s = np.concatenate([down, up, down[:-3], up[3:]])
    t = np.concatenate(
        [
            np.full_like(down, 3.0),
            np.full_like(up, 12.0),
            np.full(len(down) - 3, 9.0),
            np.full(len(up) - 3, 6.0),
        ]
    )
    cord = Region.from_polygon(frame.to_px(s, t))
    r = measure_sagittal(cord=cord, canal=None, keypoints=keypoints(frame), spacing=(0.5, 0.5))
    assert r.d_i == pytest.approx(3.0, abs=1e-9)
    assert r.d_a == pytest.approx(3.0, abs=1e-9)


def test_layers_are_no_further_apart_than_the_finest_pixel_spacing():
    frame = Frame(spacing=(0.3, 0.8))
    cord, canal = _regions(frame, constant(3.0), constant(11.0), constant(1.5), constant(15.5))
    r = measure_sagittal(cord=cord, canal=canal, keypoints=keypoints(frame), spacing=frame.spacing)
    pos = np.unique(np.array(r.profile.position_mm))
    assert pos[0] == 0.0
    assert pos[-1] == pytest.approx(85.0)
    assert np.diff(pos).max() <= 0.3 + 1e-12
    assert len(r.profile.level) == len(r.profile.cord_width_mm) == len(r.profile.position_mm)
    assert r.step_mm == 0.3


def test_missing_keypoints_are_named():
    frame = Frame()
    kp = keypoints(frame)
    del kp["C5_PS"], kp["C5_PI"]
    cord, canal = _regions(frame, constant(3.0), constant(11.0), constant(1.5), constant(15.5))
    with pytest.raises(MissingInput, match="keypoints C5_PS, C5_PI") as info:
        measure_sagittal(cord=cord, canal=canal, keypoints=kp, spacing=(0.5, 0.5))
    assert info.value.missing == ("keypoints C5_PS, C5_PI",)


def test_missing_structures_are_named():
    frame = Frame()
    with pytest.raises(MissingInput) as info:
        measure_sagittal(cord=None, canal=None, keypoints=keypoints(frame), spacing=(0.5, 0.5))
    assert info.value.missing == ("cord", "canal")
    cord, _ = _regions(frame, constant(3.0), constant(11.0), constant(1.5), constant(15.5))
    r = measure_sagittal(cord=cord, canal=None, keypoints=keypoints(frame), spacing=(0.5, 0.5))
    assert r.missing == ("canal",)
    assert r.mcc is None
    assert r.D_i is None
    assert r.mscc == pytest.approx(0.0, abs=1e-12)


def test_a_cord_beside_the_spine_is_reported_not_measured():
    frame = Frame()
    far = Region.from_polygon([[500, 0], [520, 0], [520, 10], [500, 10]])
    with pytest.raises(InvalidInput, match="does not cross"):
        measure_sagittal(cord=far, canal=None, keypoints=keypoints(frame), spacing=(0.5, 0.5))


def test_coinciding_wall_keypoints_are_rejected():
    frame = Frame()
    kp = keypoints(frame)
    kp["C4_PI"] = kp["C4_PS"]
    cord, canal = _regions(frame, constant(3.0), constant(11.0), constant(1.5), constant(15.5))
    with pytest.raises(InvalidInput, match="C4_PS and C4_PI coincide"):
        measure_sagittal(cord=cord, canal=canal, keypoints=kp, spacing=(0.5, 0.5))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reference": "C2C7"}, "reference"),
        ({"spacing": (0.0, 0.5)}, "spacing"),
        ({"step_mm": -1.0}, "step_mm"),
    ],
)
def test_bad_parameters_raise_value_errors(kwargs, message):
    frame = Frame()
    cord, canal = _regions(frame, constant(3.0), constant(11.0), constant(1.5), constant(15.5))
    args = {"cord": cord, "canal": canal, "keypoints": keypoints(frame), "spacing": (0.5, 0.5)}
    with pytest.raises(ValueError, match=message):
        measure_sagittal(**{**args, **kwargs})


def test_several_references_share_one_profile_and_match_single_calls():
    frame = Frame(tilt_deg=-12.0, spacing=(0.5, 0.3))
    cord, canal = _regions(
        frame, notch(3.0, 2.0, 30.0, 3.0), constant(11.0), constant(1.5), constant(15.5), 30.0
    )
    kp = keypoints(frame)
    both = measure_sagittal_references(cord=cord, canal=canal, keypoints=kp, spacing=frame.spacing)
    for reference, result in both.items():
        alone = measure_sagittal(
            cord=cord, canal=canal, keypoints=kp, spacing=frame.spacing, reference=reference
        )
        assert result == alone
