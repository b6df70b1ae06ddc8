"""measure_image_shapes: the save/live-preview entry point decides the view, reports what is
missing and never raises on user data."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from measurements.core import encode_labelme_mask, measure_image_shapes
from measurements.core.regions import Region
from tests.measurements.analytic_spine import (
    Frame,
    band,
    constant,
    ellipse_px,
    sagittal_shapes,
    samples_with,
    shape,
)


def test_a_sagittal_image_gets_mscc_mcc_chords_and_profile():
    out = measure_image_shapes(shapes=sagittal_shapes(), spacing=(0.5, 0.5))
    assert out["view"] == "sagittal"
    v = out["values"]
    assert v["d_i"] == pytest.approx(6.0)
    assert v["mscc"] == pytest.approx(0.25)
    assert v["mcc"] == pytest.approx(3.5 / 14)
    assert v["d_i_level"] == "C5"
    assert {c["name"] for c in out["chords"]} == {"d_i", "d_a", "d_b", "D_i", "D_a", "D_b"}
    assert all(len(c["points"]) == 2 for c in out["chords"])
    assert len(out["profile"]["position_mm"]) == len(out["profile"]["cord_width_mm"])
    assert out["missing"] == []
    assert out["parameters"]["reference"] == "C3C7"
    assert out["algorithm_version"]
    json.dumps(out, allow_nan=False)


def test_the_adjacent_reference_is_passed_through():
    out = measure_image_shapes(shapes=sagittal_shapes(), spacing=(0.5, 0.5), reference="adjacent")
    assert out["parameters"]["reference"] == "adjacent"
    assert out["values"]["d_a"] == pytest.approx(8.0)


def test_manual_calipers_add_the_manual_group_values():
    shapes = [
        *sagittal_shapes(),
        shape("d_i", [[0, 0], [10, 0]], "line"),
        shape("d_a", [[0, 0], [16, 0]], "line"),
        shape("d_b", [[0, 0], [16, 0]], "line"),
    ]
    v = measure_image_shapes(shapes=shapes, spacing=(0.5, 0.5))["values"]
    assert v["manual_d_i"] == pytest.approx(5.0)
    assert v["manual_mscc"] == pytest.approx(1 - 10 / 16)
    assert v["manual_mcc"] is None


def test_missing_keypoints_are_reported_not_raised():
    shapes = [s for s in sagittal_shapes() if s["label"] not in ("C6_PS", "C7_PI")]
    out = measure_image_shapes(shapes=shapes, spacing=(0.5, 0.5))
    assert out["view"] == "sagittal"
    assert out["missing"] == ["keypoints C6_PS, C7_PI"]
    assert "mscc" not in out["values"]


def test_an_axial_image_gets_ta_cr_shape_metrics_and_canal_values():
    spacing = (0.4, 0.4)
    shapes = [
        shape("cord", ellipse_px(a=6.0, b=4.0, rotation_deg=10, spacing=spacing)),
        shape("canal", ellipse_px(a=10.0, b=7.0, rotation_deg=10, spacing=spacing)),
        shape("T", [[0, 0], [30, 0]], "line"),
        shape("S", [[0, 0], [0, 20]], "line"),
    ]
    out = measure_image_shapes(shapes=shapes, spacing=spacing)
    v = out["values"]
    assert out["view"] == "axial"
    assert v["cr"] == pytest.approx(4 / 6)
    assert v["ta_kind"] == "polygon"
    assert v["sct_diameter_RL"] == pytest.approx(12.0, rel=1e-3)
    assert v["cord_sas_ratio"] == pytest.approx(24 / 70, rel=1e-9)
    assert v["manual_cr"] == pytest.approx(20 / 30)
    assert {c["name"] for c in out["chords"]} == {"T", "S"}
    json.dumps(out, allow_nan=False)


def test_mask_shapes_are_measured_on_their_pixels():
    mask = np.zeros((12, 30), bool)
    mask[1:11, 2:28] = True
    fields = encode_labelme_mask(mask, origin=(40, 50))
    s = shape("cord", fields["points"], "mask", **{"mask": fields["mask"]})
    out = measure_image_shapes(shapes=[s], spacing=(0.5, 0.5), image_shape=(100, 100))
    assert out["values"]["ta"] == pytest.approx(10 * 26 * 0.25)
    assert out["values"]["ta_kind"] == "mask"
    assert out["warnings"] == []


def test_a_sagittal_mask_cord_is_measured():
    frame = Frame()
    poly = band(frame, constant(3.0), constant(11.0), samples_with())
    mask = Region.from_polygon(poly).rasterize((260, 200))
    fields = encode_labelme_mask(mask)
    shapes = [s for s in sagittal_shapes() if s["label"] != "cord"]
    shapes.append(shape("cord", fields["points"], "mask", mask=fields["mask"]))
    out = measure_image_shapes(shapes=shapes, spacing=(0.5, 0.5))
    assert out["values"]["d_i"] == pytest.approx(8.0, abs=0.5)


def test_the_view_can_be_forced():
    out = measure_image_shapes(shapes=sagittal_shapes(), spacing=(0.5, 0.5), view="axial")
    assert out["view"] == "axial"
    assert "ta" in out["values"]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"spacing": None}, "pixel spacing"),
        ({"spacing": (0.0, 1.0)}, "pixel spacing"),
    ],
)
def test_without_spacing_nothing_is_measured_and_spacing_is_missing(kwargs, fragment):
    out = measure_image_shapes(shapes=sagittal_shapes(), **kwargs)
    assert fragment in out["missing"]
    assert out["values"] == {}


def test_odd_parameters_and_duplicates_are_warned_about():
    shapes = [*sagittal_shapes(), shape("cord", [[0, 0], [3, 0], [3, 3]])]
    out = measure_image_shapes(
        shapes=shapes, spacing=(0.5, 0.5), view="coronal", reference="C2", image_shape=(50, 50)
    )
    text = " ".join(out["warnings"])
    assert "unknown view" in text
    assert "unknown reference" in text
    assert "2 shapes labelled 'cord'" in text
    assert "outside the image" in text
    assert out["values"]["mscc"] == pytest.approx(0.25)


def test_malformed_shapes_are_skipped_with_a_warning_naming_them():
    shapes: list[Any] = [
        shape("cord", [[0, 0], [1, 1]]),
        {"label": "canal", "points": "nope", "shape_type": "polygon"},
        shape("C3_PS", [[1, 2], [3, 4]], "point"),
        "not a shape",
        shape("cord", [[0, 0], [0, 1]], "mask", mask="!!"),
    ]
    out = measure_image_shapes(shapes=shapes, spacing=(1, 1))
    assert len(out["warnings"]) == 5
    assert out["warnings"][0].startswith("shape 0 (cord)")
    assert "cord" in out["missing"]


_coord = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32), st.text(max_size=3), st.none()
)
_shape = st.fixed_dictionaries(
    {
        "label": st.sampled_from(["cord", "canal", "C3_PS", "C5_PI", "d_i", "T", "S", "x", ""]),
        "points": st.one_of(
            st.lists(st.lists(_coord, min_size=0, max_size=3), max_size=6),
            st.lists(st.tuples(st.floats(-50, 300), st.floats(-50, 300)), max_size=8),
        ),
        "shape_type": st.sampled_from(["polygon", "point", "line", "mask", "circle", None, 3]),
        "mask": st.one_of(st.none(), st.text(max_size=8)),
    }
)


@settings(max_examples=150, deadline=None)
@given(
    shapes=st.lists(_shape, max_size=12),
    view=st.sampled_from([None, "sagittal", "axial"]),
    extra_good=st.booleans(),
)
def test_it_never_raises_on_user_shapes(shapes, view, extra_good):
    if extra_good:
        shapes = shapes + sagittal_shapes()
    out = measure_image_shapes(shapes=shapes, spacing=(0.5, 0.5), view=view)
    json.dumps(out, allow_nan=False)
    assert set(out) >= {"view", "values", "chords", "warnings", "missing"}


@pytest.mark.parametrize("reference", ["C3C7", "adjacent"])
def test_both_references_come_from_one_pass_and_equal_separate_calls(reference):
    other = "adjacent" if reference == "C3C7" else "C3C7"
    shapes = sagittal_shapes(frame=Frame(tilt_deg=9.0, spacing=(0.45, 0.6)), centre=40.0)
    both = measure_image_shapes(
        shapes=shapes, spacing=(0.45, 0.6), reference=reference, both_references=True
    )
    alone = measure_image_shapes(shapes=shapes, spacing=(0.45, 0.6), reference=other)
    for key in ("mscc", "mcc", "d_a", "d_b", "D_a", "D_b", "mscc_percent", "mcc_percent"):
        assert both["values"][f"{other.lower()}_{key}"] == pytest.approx(alone["values"][key])
    main = measure_image_shapes(shapes=shapes, spacing=(0.45, 0.6), reference=reference)
    assert {k: v for k, v in both["values"].items() if k in main["values"]} == main["values"]
