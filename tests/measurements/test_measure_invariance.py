"""Property tests: measurements do not change when image and shapes are rotated, translated or
resampled together, and a cord of constant width has MSCC 0."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from measurements.core import Region, SagittalResult, measure_axial, measure_sagittal
from tests.measurements.analytic_spine import Frame, band, constant, keypoints, notch, samples_with

SAGITTAL_FIELDS = ("d_i", "d_a", "d_b", "D_i", "D_a", "D_b", "mscc", "mcc")
tilts = st.floats(-60.0, 60.0)
spacings = st.tuples(st.floats(0.2, 1.2), st.floats(0.2, 1.2))


def _scene(
    frame: Frame, centre: float, depth: float, half: float
) -> tuple[Region, Region, dict[str, tuple[float, float]]]:
    s = samples_with(centre, centre - half, centre + half)
    cord = band(frame, notch(3.0, depth, centre, half), constant(11.0), s)
    canal = band(frame, notch(1.5, depth + 1.0, centre, half), constant(15.5), s)
    return Region.from_polygon(cord), Region.from_polygon(canal), keypoints(frame)


def _sagittal(
    frame: Frame, centre: float, depth: float, half: float, reference: str = "C3C7"
) -> SagittalResult:
    cord, canal, kp = _scene(frame, centre, depth, half)
    return measure_sagittal(
        cord=cord, canal=canal, keypoints=kp, spacing=frame.spacing, reference=reference
    )


def _assert_same(
    a: object, b: object, fields: tuple[str, ...] = SAGITTAL_FIELDS, tol: float = 1e-9
) -> None:
    for name in fields:
        assert getattr(a, name) == pytest.approx(getattr(b, name), abs=tol), name


@settings(max_examples=40, deadline=None)
@given(
    tilt=tilts,
    turn=st.floats(-180.0, 180.0),
    shift=st.tuples(st.floats(-30.0, 30.0), st.floats(-30.0, 30.0)),
    spacing=spacings,
    spacing2=spacings,
    centre=st.floats(22.0, 62.0),
    depth=st.floats(0.5, 4.5),
    reference=st.sampled_from(["C3C7", "adjacent"]),
)
def test_sagittal_values_survive_rotation_translation_and_resampling(
    *, tilt, turn, shift, spacing, spacing2, centre, depth, reference
):
    base = Frame(origin_mm=(80.0, 60.0), tilt_deg=tilt, spacing=spacing)
    moved = Frame(
        origin_mm=(80.0 + shift[0], 60.0 + shift[1]), tilt_deg=tilt + turn, spacing=spacing2
    )
    a = _sagittal(base, centre, depth, 4.0, reference)
    b = _sagittal(moved, centre, depth, 4.0, reference)
    _assert_same(a, b)
    for level, position in (("d_i_level", "d_i_position_mm"), ("D_i_level", "D_i_position_mm")):
        named_a, named_b = getattr(a, level), getattr(b, level)
        if named_a != named_b:
            # A narrowest point on a level boundary (a vertebra's posterior corner) belongs to
            # both levels, and float noise of the transform decides: only there may they differ.
            near = _levels_near(a, getattr(a, position))
            assert len(near) > 1, (level, named_a, named_b)
            assert {named_a, named_b} <= near, (level, named_a, named_b, near)


def _levels_near(result: SagittalResult, position: float) -> set[str]:
    """The levels of the profile's layers within one layer step of `position`."""
    positions = np.asarray(result.profile.position_mm)
    near = np.abs(positions - position) <= 1.01 * result.step_mm
    return {level for level, close in zip(result.profile.level, near, strict=True) if close}


def _rot90_points(
    points: dict[str, tuple[float, float]], width: int
) -> dict[str, tuple[float, float]]:
    # np.rot90 (counter-clockwise) sends pixel (row i, col j) to (row W-1-j, col i).
    return {k: (y, width - x) for k, (x, y) in points.items()}


@settings(max_examples=15, deadline=None)
@given(
    tilt=st.floats(-20.0, 20.0),
    spacing=st.tuples(st.floats(0.4, 1.0), st.floats(0.4, 1.0)),
    turns=st.integers(0, 3),
    pad=st.tuples(st.integers(0, 9), st.integers(0, 9)),
    factor=st.integers(1, 2),
)
def test_mask_values_survive_quarter_turns_translation_and_pixel_splitting(
    *, tilt, spacing, turns, pad, factor
):
    frame = Frame(origin_mm=(40.0, 20.0), tilt_deg=tilt, spacing=spacing)
    cord_poly = band(frame, notch(3.0, 2.5, 42.0, 5.0), constant(11.0), samples_with(42.0))
    canal_poly = band(frame, constant(1.5), constant(15.5), samples_with())
    shape = (int(140 / spacing[0]), int(110 / spacing[1]))
    cord = Region.from_polygon(cord_poly).rasterize(shape)
    canal = Region.from_polygon(canal_poly).rasterize(shape)
    kp = keypoints(frame)
    ref = measure_sagittal(
        cord=Region.from_mask(cord), canal=Region.from_mask(canal), keypoints=kp, spacing=spacing
    )
    # Quarter turns: the pixel squares turn exactly and the spacing swaps with the axes.
    sp = spacing
    for _ in range(turns):
        kp = _rot90_points(kp, cord.shape[1])
        cord, canal, sp = np.rot90(cord), np.rot90(canal), (sp[1], sp[0])
    # Translation: pad the image. Splitting each pixel into factor x factor pixels keeps
    # the union of squares, as a coarse mask upsampled by pixel repetition does.
    ones = np.ones((factor, factor), bool)
    widths = ((pad[0], 0), (pad[1], 0))
    cord = np.kron(np.pad(cord, widths), ones)
    canal = np.kron(np.pad(canal, widths), ones)
    kp = {k: ((x + pad[1]) * factor, (y + pad[0]) * factor) for k, (x, y) in kp.items()}
    moved = measure_sagittal(
        cord=Region.from_mask(cord),
        canal=Region.from_mask(canal),
        keypoints=kp,
        spacing=(sp[0] / factor, sp[1] / factor),
    )
    # Lines nearly parallel to a pixel edge amplify rounding (1e-13 mm) by up to ~1e5.
    _assert_same(ref, moved, tol=1e-6)


@settings(max_examples=15, deadline=None)
@given(tilt=st.floats(-30.0, 30.0), spacing=spacings, spacing2=spacings)
def test_masks_rasterised_at_another_spacing_measure_within_a_pixel(tilt, spacing, spacing2):
    results = []
    for sp in (spacing, spacing2):
        frame = Frame(origin_mm=(60.0, 30.0), tilt_deg=tilt, spacing=sp)
        s = samples_with(42.0, 37.0, 47.0)
        cord = band(frame, notch(3.0, 2.5, 42.0, 5.0), constant(11.0), s)
        shape = (int(150 / sp[0]), int(130 / sp[1]))
        mask = Region.from_polygon(cord).rasterize(shape)
        results.append(
            measure_sagittal(
                cord=Region.from_mask(mask), canal=None, keypoints=keypoints(frame), spacing=sp
            )
        )
    # Each rasterisation is within a pixel of the truth, so both are within two of each other.
    for result, sp in zip(results, (spacing, spacing2), strict=True):
        pixel = math.hypot(*sp)
        assert result.d_i == pytest.approx(5.5, abs=pixel)
        assert result.d_a == pytest.approx(8.0, abs=pixel)
        assert result.d_b == pytest.approx(8.0, abs=pixel)


@settings(max_examples=40, deadline=None)
@given(
    a=st.floats(3.0, 8.0),
    ratio=st.floats(0.3, 0.95),
    rot=st.floats(-90.0, 90.0),
    turn=st.floats(-180.0, 180.0),
    spacing=spacings,
    spacing2=spacings,
    jitter=st.integers(0, 2**31),
)
def test_axial_values_survive_rotation_translation_and_resampling(
    *, a, ratio, rot, turn, spacing, spacing2, jitter
):
    rng = np.random.default_rng(jitter)
    n = 40
    phi = np.sort(rng.uniform(0, 2 * np.pi, n))
    r = rng.uniform(0.85, 1.0, n)
    pts = np.stack([a * r * np.cos(phi), a * ratio * r * np.sin(phi)], axis=1)

    def placed(angle: float, offset: tuple[float, float], sp: tuple[float, float]) -> Region:
        th = math.radians(angle)
        rot_m = np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
        mm = pts @ rot_m.T + offset
        return Region.from_polygon(mm / np.array([sp[1], sp[0]]))

    one = measure_axial(cord=placed(rot, (30.0, 30.0), spacing), spacing=spacing)
    two = measure_axial(cord=placed(rot + turn, (55.0, 21.0), spacing2), spacing=spacing2)
    _assert_same(one, two, fields=("ta", "transverse", "ap", "cr"))


@settings(max_examples=60, deadline=None)
@given(
    tilt=st.floats(-90.0, 90.0),
    spacing=spacings,
    walls=st.lists(st.floats(8.0, 20.0), min_size=5, max_size=5),
    width=st.floats(3.0, 12.0),
    offset=st.floats(-2.0, 6.0),
    reference=st.sampled_from(["C3C7", "adjacent"]),
)
def test_a_cord_of_constant_width_has_zero_mscc(*, tilt, spacing, walls, width, offset, reference):
    frame = Frame(origin_mm=(200.0, 100.0), tilt_deg=tilt, spacing=spacing)
    walls_t = tuple(walls)
    s = np.linspace(-20.0, 150.0, 50)
    cord = Region.from_polygon(band(frame, constant(offset), constant(offset + width), s))
    r = measure_sagittal(
        cord=cord,
        canal=None,
        keypoints=keypoints(frame, walls_t),
        spacing=spacing,
        reference=reference,
    )
    assert r.mscc == pytest.approx(0.0, abs=1e-12)
    assert r.d_i == pytest.approx(width, rel=1e-12)


@settings(max_examples=20, deadline=None)
@given(
    spacing=spacings,
    columns=st.tuples(st.integers(5, 30), st.integers(4, 20)),
)
def test_a_mask_cord_of_constant_width_has_zero_mscc(spacing, columns):
    start, width = columns
    frame = Frame(origin_mm=(2.0 * spacing[1], 15.0), spacing=spacing)
    rows = int(120 / spacing[0])
    mask = np.zeros((rows, start + width + 5), bool)
    mask[:, start : start + width] = True
    r = measure_sagittal(
        cord=Region.from_mask(mask), canal=None, keypoints=keypoints(frame), spacing=spacing
    )
    assert r.mscc == pytest.approx(0.0, abs=1e-12)
    assert r.d_i == pytest.approx(width * spacing[1], rel=1e-12)
