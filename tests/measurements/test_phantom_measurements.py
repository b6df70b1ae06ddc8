"""The phantoms of fixtures/ with analytic answers: tilted spines, anisotropic spacing,
compressions at vertebrae and discs, rotated elliptical cords; polygons, masks and the CLI."""

from __future__ import annotations

import io
import json
import math
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pytest
from django.core.management import call_command

from fixtures.phantom import Phantom, PhantomSpec, labelme_truth, make_phantom, write_dicom
from measurements.core import (
    Region,
    measure_axial,
    measure_image_shapes,
    measure_level,
    measure_sagittal,
)

WIDTH_MM = 0.05
RATIO = 0.005
TA_REL = 0.005

SPECS = {
    "upright-C5": PhantomSpec(seed=1),
    "tilted-disc": PhantomSpec(
        seed=2,
        compression_level="C4/C5",
        tilt_deg=12.0,
        pixel_spacing=(0.6, 0.42),
        cord_compression=0.2,
        axial_rotation_deg=25.0,
    ),
    "back-tilt-C6": PhantomSpec(
        seed=3,
        compression_level="C6",
        tilt_deg=-10.0,
        pixel_spacing=(0.45, 0.62),
        axial_pixel_spacing=(0.5, 0.35),
        axial_rotation_deg=-40.0,
        canal_compression=0.4,
    ),
    "disc-C5/C6": PhantomSpec(
        seed=4,
        compression_level="C5/C6",
        tilt_deg=6.0,
        cord_compression=0.45,
        canal_compression=0.1,
        axial_rotation_deg=90.0,
    ),
    "C4-mild": PhantomSpec(
        seed=5, compression_level="C4", cord_compression=0.1, canal_compression=0.15
    ),
}


@cache
def phantom(name: str) -> Phantom:
    return make_phantom(SPECS[name])


def _sagittal(ph: Phantom, reference: str = "C3C7") -> dict[str, Any]:
    doc = labelme_truth(ph, view="sagittal", image_path="x.dcm")
    return measure_image_shapes(
        shapes=doc["shapes"], spacing=ph.sagittal.pixel_spacing, reference=reference
    )


@pytest.mark.parametrize("reference", ["C3C7", "adjacent"])
@pytest.mark.parametrize("name", list(SPECS))
def test_sagittal_polygons_give_the_analytic_mscc_and_mcc(name, reference):
    ph = phantom(name)
    out = _sagittal(ph, reference)
    v, e = out["values"], ph.expected
    assert out["missing"] == []
    for key in ("d_i", "d_a", "d_b", "D_i", "D_a", "D_b"):
        assert v[key] == pytest.approx(e[key], abs=WIDTH_MM), key
    for key in ("mscc", "mcc"):
        assert v[key] == pytest.approx(e[key], abs=RATIO), key
        assert v[f"{key}_percent"] == pytest.approx(e[f"{key}_percent"], abs=100 * RATIO)
    assert v["d_i_level"] == e["d_i_level"]
    assert v["D_i_level"] == e["D_i_level"]


@pytest.mark.parametrize("name", list(SPECS))
def test_the_narrowest_cord_layer_stands_where_the_compression_is(name):
    ph = phantom(name)
    chords = {c["name"]: c["points"] for c in _sagittal(ph)["chords"]}
    (x0, y0), (x1, y1) = chords["d_i"]
    row, col = ph.sagittal.pixel_spacing
    # The d_i chord lies on the layer through the compression's foot on the wall.
    foot = (ph.expected["d_i_foot_x"], ph.expected["d_i_foot_y"])
    chord_dir = ((x1 - x0) * col, (y1 - y0) * row)
    to_foot = ((foot[0] - x0) * col, (foot[1] - y0) * row)
    cross = abs(chord_dir[0] * to_foot[1] - chord_dir[1] * to_foot[0]) / math.hypot(*chord_dir)
    assert cross == pytest.approx(0.0, abs=WIDTH_MM)


@pytest.mark.parametrize("name", list(SPECS))
def test_sagittal_masks_agree_with_the_truth_to_a_pixel(name):
    ph = phantom(name)
    truth = ph.sagittal_truth
    spacing = ph.sagittal.pixel_spacing
    r = measure_sagittal(
        cord=Region.from_mask(truth.cord_mask),
        canal=Region.from_mask(truth.canal_mask),
        keypoints=truth.keypoints,
        spacing=spacing,
    )
    pixel = math.hypot(*spacing)
    for key in ("d_i", "d_a", "d_b", "D_i", "D_a", "D_b"):
        assert getattr(r, key) == pytest.approx(ph.expected[key], abs=pixel), key
    # Reference widths average many layers: their pixel errors cancel.
    for key in ("d_a", "d_b", "D_a", "D_b"):
        assert getattr(r, key) == pytest.approx(ph.expected[key], abs=pixel / 4), key


@pytest.mark.parametrize("name", list(SPECS))
def test_axial_polygons_give_the_analytic_ta_diameters_and_cr(name):
    ph = phantom(name)
    doc = labelme_truth(ph, view="axial", image_path="x.dcm")
    out = measure_image_shapes(shapes=doc["shapes"], spacing=ph.axial.pixel_spacing)
    v, e = out["values"], ph.expected
    assert out["view"] == "axial"
    assert v["ta"] == pytest.approx(e["ta"], rel=TA_REL)
    assert v["transverse"] == pytest.approx(e["transverse"], abs=WIDTH_MM)
    assert v["ap"] == pytest.approx(e["ap"], abs=WIDTH_MM)
    assert v["cr"] == pytest.approx(e["cr"], abs=RATIO)


@pytest.mark.parametrize("name", list(SPECS))
def test_axial_masks_are_measured_on_their_pixels(name):
    ph = phantom(name)
    ax = ph.axial_truth
    spacing = ph.axial.pixel_spacing
    mask = ax.cord_masks[ax.narrowest_index]
    r = measure_axial(cord=Region.from_mask(mask), spacing=spacing)
    assert r.ta == mask.sum() * spacing[0] * spacing[1]
    assert r.ta == pytest.approx(ph.expected["ta"], rel=0.05)  # rasterisation error
    pixel = math.hypot(*spacing)
    assert r.ap == pytest.approx(ph.expected["ap"], abs=pixel)


@pytest.mark.parametrize("name", ["tilted-disc", "back-tilt-C6"])
def test_per_level_morphometry_matches_every_axial_slice(name):
    ph = phantom(name)
    ax = ph.axial_truth
    for i, level in enumerate(ax.level_names):
        m = measure_level(
            cord=Region.from_polygon(ax.cord_polygons[i]),
            canal=Region.from_polygon(ax.canal_polygons[i]),
            spacing=ph.axial.pixel_spacing,
            level=level,
        )
        e = ph.expected
        assert m.sas_area == pytest.approx(e[f"canal_area@{level}"], rel=1e-9)
        assert m.sas_transverse == pytest.approx(e[f"canal_transverse@{level}"], abs=1e-9)
        assert m.sas_ap == pytest.approx(e[f"canal_ap@{level}"], abs=1e-9)
        assert m.cord_sas_ratio == pytest.approx(e[f"cord_canal_ratio@{level}"], rel=1e-9)
        assert m.cord_area == pytest.approx(e[f"ta@{level}"], rel=1e-9)


def test_the_command_reads_spacing_from_the_phantom_dicom(tmp_path):
    ph = phantom("tilted-disc")
    paths = write_dicom(ph, tmp_path / "dicom")
    sag = next(p for p in paths if "sagittal" in p.parent.name)
    ax = [p for p in paths if "axial" in p.parent.name][ph.axial_truth.narrowest_index]
    files = []
    views: tuple[tuple[Literal["sagittal", "axial"], Path], ...] = (
        ("sagittal", sag),
        ("axial", ax),
    )
    for view, image in views:
        doc = labelme_truth(ph, view=view, image_path=str(image.relative_to(tmp_path)))
        f = tmp_path / f"{view}.json"
        f.write_text(json.dumps(doc))
        files.append(str(f))
    out = io.StringIO()
    call_command("measure", *files, stdout=out, stderr=io.StringIO())
    sagittal, axial = json.loads(out.getvalue())
    assert sagittal["mscc"] == pytest.approx(ph.expected["mscc"], abs=RATIO)
    assert sagittal["d_i_level"] == ph.expected["d_i_level"]
    assert axial["cr"] == pytest.approx(ph.expected["cr"], abs=RATIO)
    assert axial["ta"] == pytest.approx(ph.expected["ta"], rel=TA_REL)
