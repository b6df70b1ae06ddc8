"""Axial TA, transverse and AP diameters and CR on analytic shapes, polygons and masks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from measurements.core import InvalidInput, Region, measure_axial, measure_level, morphometry_table
from measurements.core.morphometry import normalise_level
from tests.measurements.analytic_spine import ellipse_px


@pytest.mark.parametrize("spacing", [(0.5, 0.5), (0.3, 0.8), (0.9, 0.4)])
@pytest.mark.parametrize("rotation", [0.0, 23.0, 90.0, -61.0])
def test_an_elliptical_cord_gives_its_axes_area_and_ratio(spacing, rotation):
    a, b, n = 6.0, 4.0, 256
    cord = Region.from_polygon(ellipse_px(a=a, b=b, rotation_deg=rotation, spacing=spacing, n=n))
    r = measure_axial(cord=cord, spacing=spacing)
    shrink = math.cos(math.pi / n)
    assert r.transverse == pytest.approx(2 * a * shrink, abs=1e-9)
    assert r.ap == pytest.approx(2 * b * shrink, abs=1e-9)
    assert r.cr == pytest.approx(b / a, abs=1e-12)
    assert r.ta == pytest.approx(n / 2 * a * b * math.sin(2 * math.pi / n), rel=1e-12)
    assert r.ta == pytest.approx(math.pi * a * b, rel=5e-3)
    assert r.area_kind == "polygon"


def test_the_chords_show_the_two_diameters():
    spacing = (0.4, 0.6)
    cord = Region.from_polygon(ellipse_px(a=6.0, b=4.0, rotation_deg=30.0, spacing=spacing))
    r = measure_axial(cord=cord, spacing=spacing)
    by_name = {c.name: c for c in r.chords}
    for name, value in (("T", r.transverse), ("S", r.ap)):
        (x0, y0), (x1, y1) = by_name[name].start, by_name[name].end
        assert math.hypot((x1 - x0) * spacing[1], (y1 - y0) * spacing[0]) == pytest.approx(value)
    # The transverse chord runs along the major axis at 30 degrees (in mm).
    (x0, y0), (x1, y1) = by_name["T"].start, by_name["T"].end
    angle = math.degrees(math.atan2((y1 - y0) * spacing[0], (x1 - x0) * spacing[1])) % 180
    assert angle == pytest.approx(30.0, abs=1e-6)
    assert len(r.rectangle) == 4


def test_a_rectangular_mask_is_measured_on_its_pixels():
    mask = np.zeros((40, 50), bool)
    mask[10:22, 5:35] = True  # 12 rows x 30 columns
    spacing = (0.5, 0.3)
    r = measure_axial(cord=Region.from_mask(mask), spacing=spacing)
    assert r.ta == pytest.approx(12 * 30 * 0.5 * 0.3)
    assert r.transverse == pytest.approx(30 * 0.3)
    assert r.ap == pytest.approx(12 * 0.5)
    assert r.area_kind == "mask"


def test_a_mask_of_an_ellipse_is_close_to_the_ellipse():
    spacing = (0.2, 0.2)
    poly = ellipse_px(a=6.0, b=4.0, rotation_deg=15.0, spacing=spacing)
    mask = Region.from_polygon(poly).rasterize((400, 400))
    r = measure_axial(cord=Region.from_mask(mask), spacing=spacing)
    assert r.ta == pytest.approx(math.pi * 24.0, rel=0.01)
    assert r.ap == pytest.approx(8.0, abs=2 * 0.2)
    assert r.transverse == pytest.approx(12.0, abs=2 * 0.2)


def test_an_empty_or_flat_cord_is_rejected():
    with pytest.raises(InvalidInput, match="empty"):
        measure_axial(cord=Region.from_mask(np.zeros((5, 5), bool)), spacing=(1, 1))
    line = np.zeros((5, 5), bool)
    line[2, :] = True  # one row of pixels still has area
    assert measure_axial(cord=Region.from_mask(line), spacing=(1, 1)).ap == pytest.approx(1.0)


def test_per_level_morphometry_gives_areas_ratio_and_diameters():
    spacing = (0.5, 0.5)
    cord = Region.from_polygon(ellipse_px(a=6.0, b=4.0, rotation_deg=0, spacing=spacing))
    canal = Region.from_polygon(ellipse_px(a=10.0, b=7.0, rotation_deg=0, spacing=spacing))
    m = measure_level(cord=cord, canal=canal, spacing=spacing, level="C4-C5")
    assert m.level == "C4/5"
    assert m.cord_sas_ratio == pytest.approx(24.0 / 70.0, rel=1e-9)
    assert m.sas_transverse == pytest.approx(20.0, rel=1e-3)
    assert m.sas_ap == pytest.approx(14.0, rel=1e-3)
    assert m.out_of_range == ()
    small = Region.from_polygon(ellipse_px(a=3.0, b=2.0, rotation_deg=0, spacing=spacing))
    thin = measure_level(cord=small, canal=canal, spacing=spacing)
    assert thin.out_of_range == ("cord_area", "cord_sas_ratio", "cord_transverse", "cord_ap")
    only_canal = measure_level(cord=None, canal=canal, spacing=spacing)
    assert only_canal.cord_area is None
    assert only_canal.cord_sas_ratio is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [("C2/C3", "C2/3"), ("c3-4", "C3/4"), ("C7/T1", "C7/T1"), ("C4/C6", None), ("L4/5", None)],
)
def test_level_names_are_normalised(name, expected):
    assert normalise_level(name) == expected


def test_the_morphometry_table_runs_cranio_caudally_and_names_levels():
    spacing = (0.5, 0.5)
    cord = Region.from_polygon(ellipse_px(a=6.0, b=4.0, rotation_deg=0, spacing=spacing))
    canal = Region.from_polygon(ellipse_px(a=10.0, b=7.0, rotation_deg=0, spacing=spacing))
    table = morphometry_table(
        levels={"C6-C7": (cord, canal), "C3/4": (cord, None), "C7/T1": (None, canal)},
        spacing=spacing,
    )
    assert [row.level for row in table] == ["C3/4", "C6/7", "C7/T1"]
    assert table[0].sas_area is None
    assert table[2].cord_area is None
    with pytest.raises(ValueError, match="not a cervical disc level"):
        morphometry_table(levels={"L4/5": (cord, canal)}, spacing=spacing)
