"""Sagittal MSCC and MCC (seed 003 after Karpova et al. 2013) from cord, canal and keypoints.

Layers stand on the posterior-wall polyline C3_PS→C3_PI→C4_PS→…→C7_PI, each running along
its segment's normal; a structure's width at a layer is the length of the one connected
chord of it nearest to the polyline. Every polygon vertex adds a layer through it, so the
minimum and the means of a polygon's piecewise-linear width profile are exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from measurements.core.errors import InvalidInput, MissingInput
from measurements.core.geometry import Chord, FloatArray, IntArray, Spacing, check_spacing
from measurements.core.layers import (
    Polyline,
    build_polyline,
    build_profile,
    insert_layers,
    layer_chord,
    regular_positions,
    representative_layer,
    window_mean,
)
from measurements.core.regions import Region

Reference = Literal["C3C7", "adjacent"]
REFERENCES: tuple[str, ...] = ("C3C7", "adjacent")


@dataclass(frozen=True)
class LayerProfile:
    """Widths at the regular layers (step ≤ finest pixel spacing), for plotting."""

    position_mm: tuple[float, ...]  # arc length along the polyline from C3_PS
    level: tuple[str, ...]  # vertebra "C4" or disc "C4/C5" of each layer's foot
    cord_width_mm: tuple[float, ...]  # NaN where the layer misses the structure
    canal_width_mm: tuple[float, ...]


@dataclass(frozen=True)
class SagittalResult:
    """MSCC/MCC and their parts; a structure that was not given leaves its fields None."""

    d_i: float | None
    d_a: float | None
    d_b: float | None
    D_i: float | None
    D_a: float | None
    D_b: float | None
    mscc: float | None  # fraction, 1 - 2·d_i/(d_a + d_b), not clipped
    mcc: float | None
    mscc_percent: float | None
    mcc_percent: float | None
    d_i_level: str | None
    D_i_level: str | None
    d_i_position_mm: float | None  # arc length from C3_PS to the narrowest cord layer
    D_i_position_mm: float | None
    chords: tuple[Chord, ...]
    profile: LayerProfile
    reference: str
    distance_mm: float
    extent_mm: float
    step_mm: float
    missing: tuple[str, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class _Structure:
    narrow: float
    above: float
    below: float
    ratio: float
    level: str
    position: float
    chords: tuple[Chord, ...]
    base_width: FloatArray


def _windows(
    *,
    poly: Polyline,
    reference: str,
    s_min: float,
    distance: float,
    extent: float,
    label: str,
    warnings: list[str],
) -> list[tuple[float, float]]:
    """Arc-length windows whose mean widths are d_a and d_b."""
    if reference == "C3C7":
        return [(0.0, float(poly.length[0])), (poly.total - poly.length[-1], poly.total)]
    up = (max(s_min - distance - extent, 0.0), s_min - distance)
    down = (s_min + distance, min(s_min + distance + extent, poly.total))
    has_up, has_down = up[1] >= up[0], down[1] >= down[0]
    if not has_up and not has_down:
        raise InvalidInput(
            f"no {label} layers {distance:g} mm above or below the narrowest one: the "
            "polyline C3_PS to C7_PI is too short for this distance"
        )
    if not has_up:
        warnings.append(f"no layers {distance:g} mm above the narrowest {label}: below used")
        up = down
    if not has_down:
        warnings.append(f"no layers {distance:g} mm below the narrowest {label}: above used")
        down = up
    return [up, down]


def _measure_structure(
    *,
    region: Region,
    names: tuple[str, str, str],
    poly: Polyline,
    base: tuple[IntArray, FloatArray],
    spacing: Spacing,
    references: tuple[str, ...],
    distance: float,
    extent: float,
    warnings: dict[str, list[str]],
    label: str,
) -> dict[str, _Structure]:
    """One structure's narrowest width and its references; the profile is built once."""
    boundary = region.boundary_mm(spacing)
    gap = region.merge_gap_mm(spacing)
    prof = build_profile(poly, boundary, base, gap)
    base_width = prof.width[prof.base]
    missed = int(np.sum(~np.isfinite(base_width)))
    if missed == len(base_width):
        raise InvalidInput(f"the {label} does not cross the posterior-wall layers C3_PS to C7_PI")
    i_min = int(np.nanargmin(prof.width))
    narrow = float(prof.width[i_min])
    s_min = float(poly.offset[prof.seg[i_min]] + prof.local[i_min])
    narrow_chord = layer_chord(names[0], prof, poly, i_min, spacing)
    out: dict[str, _Structure] = {}
    for reference in references:
        if missed:
            warnings[reference].append(f"{missed} of {len(base_width)} layers miss the {label}")
        windows = _windows(
            poly=poly,
            reference=reference,
            s_min=s_min,
            distance=distance,
            extent=extent,
            label=label,
            warnings=warnings[reference],
        )
        # Exact layers at the window ends (the C3C7 walls end on regular layers already).
        ends = [w for win in windows for w in win] if reference != "C3C7" else []
        ref_prof = insert_layers(prof, poly, boundary, gap, ends) if ends else prof
        means = [window_mean(ref_prof, poly, lo, hi) for lo, hi in windows]
        chords = [narrow_chord]
        for name, (lo, hi), mean in zip(names[1:], windows, means, strict=True):
            rep = representative_layer(ref_prof, poly, lo, hi, mean)
            chords.append(
                layer_chord(name, ref_prof, poly, rep, spacing) if rep is not None else None
            )
        out[reference] = _Structure(
            narrow=narrow,
            above=means[0],
            below=means[1],
            ratio=1.0 - 2.0 * narrow / (means[0] + means[1]),
            level=poly.level[prof.seg[i_min]],
            position=s_min,
            chords=tuple(c for c in chords if c is not None),
            base_width=base_width,
        )
    return out


def _result(
    *,
    cord_r: _Structure | None,
    canal_r: _Structure | None,
    profile: LayerProfile,
    reference: str,
    distance: float,
    extent: float,
    step: float,
    missing: list[str],
    warnings: list[str],
) -> SagittalResult:
    def pct(r: _Structure | None) -> float | None:
        return None if r is None else r.ratio * 100.0

    return SagittalResult(
        d_i=cord_r.narrow if cord_r else None,
        d_a=cord_r.above if cord_r else None,
        d_b=cord_r.below if cord_r else None,
        D_i=canal_r.narrow if canal_r else None,
        D_a=canal_r.above if canal_r else None,
        D_b=canal_r.below if canal_r else None,
        mscc=cord_r.ratio if cord_r else None,
        mcc=canal_r.ratio if canal_r else None,
        mscc_percent=pct(cord_r),
        mcc_percent=pct(canal_r),
        d_i_level=cord_r.level if cord_r else None,
        D_i_level=canal_r.level if canal_r else None,
        d_i_position_mm=cord_r.position if cord_r else None,
        D_i_position_mm=canal_r.position if canal_r else None,
        chords=(cord_r.chords if cord_r else ()) + (canal_r.chords if canal_r else ()),
        profile=profile,
        reference=reference,
        distance_mm=float(distance),
        extent_mm=float(extent),
        step_mm=step,
        missing=tuple(missing),
        warnings=tuple(warnings),
    )


def measure_sagittal_references(
    *,
    cord: Region | None,
    canal: Region | None,
    keypoints: Mapping[str, tuple[float, float]],
    spacing: tuple[float, float],
    references: tuple[str, ...] = REFERENCES,
    distance_mm: float = 10.0,
    extent_mm: float = 20.0,
    step_mm: float | None = None,
) -> dict[str, SagittalResult]:
    """`measure_sagittal` for several references at once, sharing the layer profiles."""
    spacing = check_spacing(spacing)
    for reference in references:
        if reference not in REFERENCES:
            raise ValueError(f"reference must be one of {REFERENCES}, got {reference!r}")
    if not (distance_mm >= 0 and extent_mm >= 0):
        raise ValueError("distance_mm and extent_mm must be ≥ 0")
    step = min(spacing) if step_mm is None else float(step_mm)
    if not step > 0:
        raise ValueError("step_mm must be > 0")
    missing: list[str] = []
    regions: dict[str, Region | None] = {"cord": cord, "canal": canal}
    for label, region in regions.items():
        if region is None or region.is_empty():
            missing.append(label)
            regions[label] = None
    poly_error: MissingInput | None = None
    try:
        poly = build_polyline(keypoints, spacing)
    except MissingInput as exc:
        poly_error = exc
    if poly_error is not None or len(missing) == 2:
        raise MissingInput(([*poly_error.missing] if poly_error else []) + missing)
    base = regular_positions(poly, step)
    warnings: dict[str, list[str]] = {r: [] for r in references}
    results: dict[str, dict[str, _Structure]] = {}
    for label, names in (("cord", ("d_i", "d_a", "d_b")), ("canal", ("D_i", "D_a", "D_b"))):
        region = regions[label]
        if region is not None:
            results[label] = _measure_structure(
                region=region,
                names=names,
                poly=poly,
                base=base,
                spacing=spacing,
                references=references,
                distance=distance_mm,
                extent=extent_mm,
                warnings=warnings,
                label=label,
            )
    nan = np.full(len(base[0]), np.nan)
    first = references[0]
    cord_w = results["cord"][first].base_width if "cord" in results else nan
    canal_w = results["canal"][first].base_width if "canal" in results else nan
    profile = LayerProfile(
        position_mm=tuple((poly.offset[base[0]] + base[1]).tolist()),
        level=tuple(poly.level[k] for k in base[0]),
        cord_width_mm=tuple(cord_w.tolist()),
        canal_width_mm=tuple(canal_w.tolist()),
    )
    return {
        reference: _result(
            cord_r=results["cord"][reference] if "cord" in results else None,
            canal_r=results["canal"][reference] if "canal" in results else None,
            profile=profile,
            reference=reference,
            distance=distance_mm,
            extent=extent_mm,
            step=step,
            missing=missing,
            warnings=warnings[reference],
        )
        for reference in references
    }


def measure_sagittal(
    *,
    cord: Region | None,
    canal: Region | None,
    keypoints: Mapping[str, tuple[float, float]],
    spacing: tuple[float, float],
    reference: str = "C3C7",
    distance_mm: float = 10.0,
    extent_mm: float = 20.0,
    step_mm: float | None = None,
) -> SagittalResult:
    """MSCC from the cord and MCC from the canal on one mid-sagittal image.

    `keypoints` are pixel coordinates of at least C3_PS, C3_PI … C7_PS, C7_PI; `spacing` is
    (row_mm, col_mm). `reference="C3C7"` takes d_a/d_b as the mean widths over the C3 and C7
    posterior walls (seed 003); `"adjacent"` as the means over `extent_mm` windows starting
    `distance_mm` above and below the narrowest layer (Spinal Cord Toolbox). `step_mm`
    defaults to the finest pixel spacing. Raises MissingInput when keypoints, or both
    structures, are missing (a single missing structure is listed in `missing`), and
    InvalidInput when the shapes cannot be measured (e.g. a cord that misses every layer).
    """
    return measure_sagittal_references(
        cord=cord,
        canal=canal,
        keypoints=keypoints,
        spacing=spacing,
        references=(reference,),
        distance_mm=distance_mm,
        extent_mm=extent_mm,
        step_mm=step_mm,
    )[reference]
