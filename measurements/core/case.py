"""Measure one image's labelme shapes: decide the view, run its measurements, report JSON.

This is the entry point for saves, the annotator's live panel and the `measure` command: it
never raises on user data but reports what is missing and what was skipped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from measurements.core.axial import measure_axial
from measurements.core.errors import MeasurementError, MissingInput
from measurements.core.geometry import Chord, check_spacing
from measurements.core.labelme import AXIAL_CALIPERS, SAGITTAL_CALIPERS, ParsedShapes, parse_shapes
from measurements.core.manual import measure_manual
from measurements.core.regions import Region
from measurements.core.sagittal import REFERENCES, measure_sagittal_references
from measurements.core.shape_metrics import shape_metrics

ALGORITHM_VERSION = "1"
VIEWS: tuple[str, ...] = ("sagittal", "axial")

SAGITTAL_KEYS: tuple[str, ...] = (
    "d_i", "d_a", "d_b", "D_i", "D_a", "D_b", "mscc", "mcc", "mscc_percent", "mcc_percent",
    "d_i_level", "D_i_level", "d_i_position_mm", "D_i_position_mm",
)  # fmt: skip
AXIAL_KEYS: tuple[str, ...] = ("ta", "transverse", "ap", "cr")
# The values that depend on the reference (with both_references, also given for the other
# one, prefixed "adjacent_" or "c3c7_").
REFERENCE_KEYS: tuple[str, ...] = (
    "mscc", "mcc", "d_a", "d_b", "D_a", "D_b", "mscc_percent", "mcc_percent",
)  # fmt: skip


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _chord_json(chord: Chord) -> dict[str, Any]:
    return {"name": chord.name, "points": [list(chord.start), list(chord.end)]}


def detect_view(parsed: ParsedShapes) -> str:
    """'sagittal' when vertebral keypoints or sagittal calipers are drawn, else 'axial'."""
    return "sagittal" if parsed.has_sagittal_marks() else "axial"


def _outside_image(region: Region, image_shape: tuple[int, int]) -> bool:
    pts = region.corner_points_px
    rows, cols = image_shape
    return bool(
        pts[:, 0].min() < 0
        or pts[:, 1].min() < 0
        or pts[:, 0].max() > cols
        or pts[:, 1].max() > rows
    )


def _manual_values(
    parsed: ParsedShapes, spacing: tuple[float, float], *, sagittal: bool
) -> tuple[dict[str, Any], list[str]]:
    names = SAGITTAL_CALIPERS if sagittal else AXIAL_CALIPERS
    lines = {n: seg for n in names if (seg := parsed.line(n)) is not None}
    if not lines:
        return {}, []
    manual = measure_manual(lines=lines, spacing=spacing)
    values: dict[str, Any] = {f"manual_{n}": v for n, v in manual.lengths_mm.items()}
    if sagittal:
        values.update(
            manual_mscc=manual.mscc,
            manual_mcc=manual.mcc,
            manual_mscc_percent=manual.mscc_percent,
            manual_mcc_percent=manual.mcc_percent,
        )
    else:
        values["manual_cr"] = manual.cr
    return values, list(manual.missing)


def _sagittal(
    *,
    parsed: ParsedShapes,
    spacing: tuple[float, float],
    reference: str,
    distance: float,
    extent: float,
    both: bool,
    out: dict[str, Any],
    with_profile: bool = True,
) -> None:
    other = next(r for r in REFERENCES if r != reference)
    try:
        results = measure_sagittal_references(
            cord=parsed.region("cord"),
            canal=parsed.region("canal"),
            keypoints=parsed.keypoints(),
            spacing=spacing,
            references=(reference, other) if both else (reference,),
            distance_mm=distance,
            extent_mm=extent,
        )
    except MissingInput as exc:
        out["missing"].extend(exc.missing)
        return
    except MeasurementError as exc:
        out["warnings"].append(str(exc))
        return
    result = results[reference]
    out["values"].update({k: getattr(result, k) for k in SAGITTAL_KEYS})
    if both:
        alt = results[other]
        out["values"].update({f"{other.lower()}_{k}": getattr(alt, k) for k in REFERENCE_KEYS})
        out["warnings"].extend(f"{other}: {w}" for w in alt.warnings if w not in result.warnings)
    out["chords"].extend(_chord_json(c) for c in result.chords)
    out["missing"].extend(result.missing)
    out["warnings"].extend(result.warnings)
    out["parameters"].update(step_mm=result.step_mm)
    if not with_profile:
        return
    p = result.profile
    out["profile"] = {
        "position_mm": list(p.position_mm),
        "level": list(p.level),
        "cord_width_mm": [_clean(v) for v in p.cord_width_mm],
        "canal_width_mm": [_clean(v) for v in p.canal_width_mm],
    }


def _axial(parsed: ParsedShapes, spacing: tuple[float, float], out: dict[str, Any]) -> None:
    cord, canal = parsed.region("cord"), parsed.region("canal")
    if cord is None:
        out["missing"].append("cord")
    else:
        try:
            result = measure_axial(cord=cord, spacing=spacing)
            sct = shape_metrics(cord, spacing=spacing)
        except MeasurementError as exc:
            out["warnings"].append(str(exc))
        else:
            out["values"].update(
                ta=result.ta, transverse=result.transverse, ap=result.ap, cr=result.cr
            )
            out["values"]["ta_kind"] = result.area_kind
            out["chords"].extend(_chord_json(c) for c in result.chords)
            for name in (
                "area",
                "diameter_AP",
                "diameter_RL",
                "eccentricity",
                "solidity",
                "orientation",
            ):
                out["values"][f"sct_{name}"] = getattr(sct, name)
            if math.isnan(sct.area):
                out["warnings"].append("the cord has several parts: SCT shape metrics need one")
    if canal is not None:
        try:
            sac = measure_axial(cord=canal, spacing=spacing)
        except MeasurementError as exc:
            out["warnings"].append(f"canal: {exc}")
        else:
            ta = out["values"].get("ta")
            out["values"].update(
                sas_area=sac.ta,
                cord_sas_ratio=ta / sac.ta if ta is not None and sac.ta > 0 else None,
                sas_transverse=sac.transverse,
                sas_ap=sac.ap,
            )


def measure_image_shapes(
    *,
    shapes: Sequence[Mapping[str, Any]],
    spacing: tuple[float, float] | None,
    image_shape: tuple[int, int] | None = None,
    view: str | None = None,
    reference: str = "C3C7",
    distance_mm: float = 10.0,
    extent_mm: float = 20.0,
    both_references: bool = False,
    with_profile: bool = True,
) -> dict[str, Any]:
    """All measurements of one image's shapes as a JSON-able dict.

    Returns {"view", "values", "chords": [{"name", "points": [[x, y], [x, y]]}], "warnings",
    "missing", "profile" (sagittal layer widths, or None), "parameters", "algorithm_version"}.
    `view` is "sagittal", "axial" or None (decided from the shapes). With `both_references`
    a sagittal image also gets REFERENCE_KEYS for the other reference, prefixed with its
    lower-case name ("adjacent_mscc", "c3c7_d_a", ...), from the same layers. Never raises on bad
    shapes; a bad `spacing`, `view` or `reference` is reported in "missing"/"warnings" too.
    `with_profile=False` leaves the layer profile out (saves do not store it).
    """
    out: dict[str, Any] = {
        "view": None,
        "values": {},
        "chords": [],
        "warnings": [],
        "missing": [],
        "profile": None,
        "parameters": {
            "reference": reference,
            "distance_mm": distance_mm,
            "extent_mm": extent_mm,
            "both_references": both_references,
        },
        "algorithm_version": ALGORITHM_VERSION,
    }
    parsed = parse_shapes(shapes)
    if view is not None and view not in VIEWS:
        out["warnings"].append(f"unknown view {view!r}: decided from the shapes")
        view = None
    out["view"] = view or detect_view(parsed)
    if reference not in REFERENCES:
        out["warnings"].append(f"unknown reference {reference!r}: C3C7 used")
        reference = "C3C7"
        out["parameters"]["reference"] = reference
    try:
        spacing = check_spacing(spacing) if spacing is not None else None
    except ValueError as exc:
        out["warnings"].append(str(exc))
        spacing = None
    if spacing is None:
        out["missing"].append("pixel spacing")
    else:
        if image_shape is not None:
            for label in ("cord", "canal"):
                for region in parsed.regions.get(label, []):
                    if _outside_image(region, image_shape):
                        out["warnings"].append(f"the {label} extends outside the image")
        if out["view"] == "sagittal":
            _sagittal(
                parsed=parsed,
                spacing=spacing,
                reference=reference,
                distance=distance_mm,
                extent=extent_mm,
                both=both_references,
                out=out,
                with_profile=with_profile,
            )
            manual, manual_missing = _manual_values(parsed, spacing, sagittal=True)
        else:
            _axial(parsed, spacing, out)
            manual, manual_missing = _manual_values(parsed, spacing, sagittal=False)
        out["values"].update(manual)
        out["missing"].extend(manual_missing)
    out["warnings"] = parsed.warnings + out["warnings"]
    out["values"] = {k: _clean(v) for k, v in out["values"].items()}
    return out
