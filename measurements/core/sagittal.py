"""Sagittal MSCC and MCC (seed 003 after Karpova et al. 2013) from cord, canal and keypoints.

Layers stand on the posterior-wall polyline C3_PS→C3_PI→C4_PS→…→C7_PI, each running along
its segment's normal; a structure's width at a layer is the length of the one connected
chord of it nearest to the polyline. Every polygon vertex adds a layer through it, so the
minimum and the means of a polygon's piecewise-linear width profile are exact.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from measurements.core.errors import InvalidInput, MissingInput
from measurements.core.geometry import (
    BoolArray,
    Boundary,
    Chord,
    FloatArray,
    IntArray,
    Spacing,
    check_spacing,
    frame_chords,
    mm_to_px,
    px_to_mm,
)
from measurements.core.regions import Region

Reference = Literal["C3C7", "adjacent"]
REFERENCES: tuple[str, ...] = ("C3C7", "adjacent")
VERTEBRAE: tuple[str, ...] = ("C3", "C4", "C5", "C6", "C7")
WALL_KEYPOINTS: tuple[str, ...] = tuple(f"{v}_{c}" for v in VERTEBRAE for c in ("PS", "PI"))


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
class _Polyline:
    start: FloatArray  # (S, 2) mm
    u: FloatArray  # (S, 2) unit, cranio-caudal
    n: FloatArray  # (S, 2) unit normal, antero-posterior
    length: FloatArray  # (S,)
    offset: FloatArray  # (S,) arc length at each segment's start
    level: tuple[str, ...]

    @property
    def total(self) -> float:
        return float(self.offset[-1] + self.length[-1])


@dataclass(frozen=True)
class _Profile:
    seg: IntArray
    local: FloatArray
    base: BoolArray
    width: FloatArray
    t0: FloatArray
    t1: FloatArray


def _polyline(keypoints: Mapping[str, tuple[float, float]], spacing: Spacing) -> _Polyline:
    missing = [k for k in WALL_KEYPOINTS if k not in keypoints]
    if missing:
        raise MissingInput(["keypoints " + ", ".join(missing)])
    pts = px_to_mm([keypoints[k] for k in WALL_KEYPOINTS], spacing)
    if not np.isfinite(pts).all():
        raise InvalidInput("a posterior-wall keypoint has non-finite coordinates")
    starts, ends, levels = [], [], []
    for i, vert in enumerate(VERTEBRAE):
        ps, pi = pts[2 * i], pts[2 * i + 1]
        if np.hypot(*(pi - ps)) <= 1e-9:
            raise InvalidInput(
                f"{vert}_PS and {vert}_PI coincide: the posterior wall has no length"
            )
        starts.append(ps)
        ends.append(pi)
        levels.append(vert)
        if i + 1 < len(VERTEBRAE):
            nxt = pts[2 * i + 2]
            # A disc gap of zero length (touching endplates) adds no layers.
            if np.hypot(*(nxt - pi)) > 1e-9:
                starts.append(pi)
                ends.append(nxt)
                levels.append(f"{vert}/{VERTEBRAE[i + 1]}")
    start = np.array(starts)
    vec = np.array(ends) - start
    length = np.hypot(vec[:, 0], vec[:, 1])
    u = vec / length[:, None]
    n = np.stack([-u[:, 1], u[:, 0]], axis=1)
    offset = np.concatenate([[0.0], np.cumsum(length)[:-1]])
    return _Polyline(start, u, n, length, offset, tuple(levels))


def _base_positions(poly: _Polyline, step: float) -> tuple[IntArray, FloatArray]:
    segs, locals_ = [], []
    for k, length in enumerate(poly.length):
        m = max(1, math.ceil(length / step - 1e-9))
        segs.append(np.full(m + 1, k, dtype=np.intp))
        locals_.append(np.linspace(0.0, length, m + 1))
    return np.concatenate(segs), np.concatenate(locals_)


def _vertex_positions(poly: _Polyline, vertices: FloatArray) -> tuple[IntArray, FloatArray]:
    """Feet of all vertices on every segment they project into (the width's breakpoints)."""
    rel = vertices[:, None, :] - poly.start[None, :, :]  # (V, S, 2)
    local = rel[..., 0] * poly.u[None, :, 0] + rel[..., 1] * poly.u[None, :, 1]
    vi, seg = np.nonzero((local >= 0.0) & (local <= poly.length[None, :]))
    return seg.astype(np.intp), local[vi, seg]


def _evaluate(
    poly: _Polyline, boundary: Boundary, seg: IntArray, local: FloatArray, gap: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    t0, t1 = frame_chords(
        boundary,
        origin=poly.start,
        u=poly.u,
        n=poly.n,
        frame=seg,
        position=local,
        merge_gap=gap,
    )
    return t1 - t0, t0, t1


def _profile(
    poly: _Polyline, boundary: Boundary, regular: tuple[IntArray, FloatArray], gap: float
) -> _Profile:
    base_seg, base_local = regular
    ev_seg, ev_local = _vertex_positions(poly, boundary.vertices)
    seg = np.concatenate([base_seg, ev_seg])
    local = np.concatenate([base_local, ev_local])
    base = np.concatenate([np.ones(len(base_seg), bool), np.zeros(len(ev_seg), bool)])
    # Sort by position; base layers first among equals so duplicates of them are dropped.
    order = np.lexsort((~base, local, seg))
    seg, local, base = seg[order], local[order], base[order]
    dup = np.zeros(len(seg), bool)
    dup[1:] = (seg[1:] == seg[:-1]) & (local[1:] == local[:-1])
    keep = ~dup
    seg, local, base = seg[keep], local[keep], base[keep]
    width, t0, t1 = _evaluate(poly, boundary, seg, local, gap)
    return _Profile(seg, local, base, width, t0, t1)


def _insert(
    prof: _Profile, poly: _Polyline, boundary: Boundary, gap: float, s_values: list[float]
) -> _Profile:
    """The profile with layers added at arc lengths `s_values` (exact window ends)."""
    segs, locs = [], []
    for s in s_values:
        k = int(np.searchsorted(poly.offset, s, side="right") - 1)
        k = min(max(k, 0), len(poly.length) - 1)
        segs.append(k)
        locs.append(min(max(s - poly.offset[k], 0.0), poly.length[k]))
    seg_new = np.array(segs, dtype=np.intp)
    loc_new = np.array(locs)
    w, a, b = _evaluate(poly, boundary, seg_new, loc_new, gap)
    seg = np.concatenate([prof.seg, seg_new])
    local = np.concatenate([prof.local, loc_new])
    order = np.lexsort((local, seg))
    cat = np.concatenate
    return _Profile(
        seg[order],
        local[order],
        cat([prof.base, np.zeros(len(seg_new), bool)])[order],
        cat([prof.width, w])[order],
        cat([prof.t0, a])[order],
        cat([prof.t1, b])[order],
    )


def _window_selection(prof: _Profile, poly: _Polyline, lo: float, hi: float) -> BoolArray:
    """Layers whose foot lies in arc lengths [lo, hi], per segment overlapping the window."""
    sel = np.zeros(len(prof.seg), dtype=bool)
    for k in range(len(poly.length)):
        a = max(lo - poly.offset[k], 0.0)
        b = min(hi - poly.offset[k], poly.length[k])
        # A segment that only touches the window at one end adds nothing to its mean.
        if b < a or (b == a and hi > lo):
            continue
        sel |= (prof.seg == k) & (prof.local >= a - 1e-12) & (prof.local <= b + 1e-12)
    return sel


def _window_mean(prof: _Profile, poly: _Polyline, lo: float, hi: float) -> float:
    """Mean width over arc lengths [lo, hi]: trapezoid rule along each segment."""
    sel = _window_selection(prof, poly, lo, hi)
    seg, x, w = prof.seg[sel], prof.local[sel], prof.width[sel]
    ok = np.isfinite(w)
    pair = ok[1:] & ok[:-1] & (seg[1:] == seg[:-1])
    dx = np.diff(x)[pair]
    covered = float(np.sum(dx))
    if covered > 0:
        return float(np.sum(dx * (w[1:][pair] + w[:-1][pair]) / 2.0)) / covered
    # A window of zero length (or of isolated layers) is the plain mean of its layers.
    return float(np.mean(w[ok])) if ok.any() else math.nan


def _chord(name: str, prof: _Profile, poly: _Polyline, i: int, spacing: Spacing) -> Chord | None:
    if not math.isfinite(prof.width[i]):
        return None
    k = prof.seg[i]
    foot = poly.start[k] + prof.local[i] * poly.u[k]
    ends = np.stack([foot + prof.t0[i] * poly.n[k], foot + prof.t1[i] * poly.n[k]])
    px = mm_to_px(ends, spacing)
    return Chord(
        name,
        (float(px[0, 0]), float(px[0, 1])),
        (float(px[1, 0]), float(px[1, 1])),
        float(prof.width[i]),
    )


def _representative(
    prof: _Profile, poly: _Polyline, lo: float, hi: float, value: float
) -> int | None:
    """The layer in [lo, hi] whose width is closest to the window's mean (for drawing)."""
    sel = np.nonzero(_window_selection(prof, poly, lo, hi) & np.isfinite(prof.width))[0]
    if len(sel) == 0 or not math.isfinite(value):
        return None
    return int(sel[np.argmin(np.abs(prof.width[sel] - value))])


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


def _measure_structure(
    *,
    region: Region,
    names: tuple[str, str, str],
    poly: _Polyline,
    base: tuple[IntArray, FloatArray],
    spacing: Spacing,
    reference: str,
    distance: float,
    extent: float,
    warnings: list[str],
    label: str,
) -> _Structure:
    boundary = region.boundary_mm(spacing)
    gap = region.merge_gap_mm(spacing)
    prof = _profile(poly, boundary, base, gap)
    base_width = prof.width[prof.base]
    missed = int(np.sum(~np.isfinite(base_width)))
    if missed == len(base_width):
        raise InvalidInput(f"the {label} does not cross the posterior-wall layers C3_PS to C7_PI")
    if missed:
        warnings.append(f"{missed} of {len(base_width)} layers miss the {label}")
    i_min = int(np.nanargmin(prof.width))
    narrow = float(prof.width[i_min])
    level = poly.level[prof.seg[i_min]]
    s_min = float(poly.offset[prof.seg[i_min]] + prof.local[i_min])
    chords = [_chord(names[0], prof, poly, i_min, spacing)]
    if reference == "C3C7":
        windows = [(0.0, float(poly.length[0])), (poly.total - poly.length[-1], poly.total)]
    else:
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
        windows = [up, down]
        prof = _insert(prof, poly, boundary, gap, [w for win in windows for w in win])
    means = [_window_mean(prof, poly, lo, hi) for lo, hi in windows]
    ratio = 1.0 - 2.0 * narrow / (means[0] + means[1])
    for name, (lo, hi), mean in zip(names[1:], windows, means, strict=True):
        rep = _representative(prof, poly, lo, hi, mean)
        chords.append(_chord(name, prof, poly, rep, spacing) if rep is not None else None)
    return _Structure(
        narrow=narrow,
        above=means[0],
        below=means[1],
        ratio=ratio,
        level=level,
        position=s_min,
        chords=tuple(c for c in chords if c is not None),
        base_width=base_width,
    )


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
    structures, are missing; a single missing structure is listed in `missing`.
    """
    spacing = check_spacing(spacing)
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
        poly = _polyline(keypoints, spacing)
    except MissingInput as exc:
        poly_error = exc
    if poly_error is not None or len(missing) == 2:
        raise MissingInput(([*poly_error.missing] if poly_error else []) + missing)
    base = _base_positions(poly, step)
    warnings: list[str] = []
    results: dict[str, _Structure | None] = {}
    for label, names in (("cord", ("d_i", "d_a", "d_b")), ("canal", ("D_i", "D_a", "D_b"))):
        region = regions[label]
        results[label] = (
            None
            if region is None
            else _measure_structure(
                region=region,
                names=names,
                poly=poly,
                base=base,
                spacing=spacing,
                reference=reference,
                distance=distance_mm,
                extent=extent_mm,
                warnings=warnings,
                label=label,
            )
        )
    levels = tuple(poly.level[k] for k in base[0])
    nan = np.full(len(base[0]), np.nan)
    cord_r, canal_r = results["cord"], results["canal"]
    profile = LayerProfile(
        position_mm=tuple((poly.offset[base[0]] + base[1]).tolist()),
        level=levels,
        cord_width_mm=tuple((cord_r.base_width if cord_r else nan).tolist()),
        canal_width_mm=tuple((canal_r.base_width if canal_r else nan).tolist()),
    )

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
        distance_mm=float(distance_mm),
        extent_mm=float(extent_mm),
        step_mm=step,
        missing=tuple(missing),
        warnings=tuple(warnings),
    )
