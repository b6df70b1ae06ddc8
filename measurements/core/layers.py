"""Layers across the posterior-wall polyline: where they stand and the chords they cut.

The polyline joins C3_PS→C3_PI→C4_PS→…→C7_PI; each segment's layers run along its normal.
Regular layers are spaced no wider than the step; every vertex of a region adds a layer
through it, so a polygon's piecewise-linear width profile is sampled at all its breakpoints
and its minimum and (trapezoid) means are exact.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from measurements.core.errors import InvalidInput, MissingInput
from measurements.core.geometry import (
    BoolArray,
    Boundary,
    Chord,
    FloatArray,
    IntArray,
    Spacing,
    frame_chords,
    mm_to_px,
    px_to_mm,
)

VERTEBRAE: tuple[str, ...] = ("C3", "C4", "C5", "C6", "C7")
EPSILON_MM = 1e-7  # offset of the layers beside a mask corner
WALL_KEYPOINTS: tuple[str, ...] = tuple(f"{v}_{c}" for v in VERTEBRAE for c in ("PS", "PI"))


@dataclass(frozen=True)
class Polyline:
    """The posterior-wall polyline in mm: one row per wall or disc-gap segment."""

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
class Profile:
    """Layers sorted by (segment, position) with their chords; `base` marks regular layers."""

    seg: IntArray
    local: FloatArray
    base: BoolArray
    width: FloatArray
    t0: FloatArray
    t1: FloatArray


def build_polyline(keypoints: Mapping[str, tuple[float, float]], spacing: Spacing) -> Polyline:
    """Walls C3..C7 (PS→PI) and the disc gaps between them; MissingInput names absent keypoints."""
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
    return Polyline(start, u, n, length, offset, tuple(levels))


def regular_positions(poly: Polyline, step: float) -> tuple[IntArray, FloatArray]:
    """Evenly spaced layers on each segment, both ends included, no further apart than step."""
    segs, locals_ = [], []
    for k, length in enumerate(poly.length):
        m = max(1, math.ceil(length / step - 1e-9))
        segs.append(np.full(m + 1, k, dtype=np.intp))
        locals_.append(np.linspace(0.0, length, m + 1))
    return np.concatenate(segs), np.concatenate(locals_)


def vertex_positions(poly: Polyline, vertices: FloatArray) -> tuple[IntArray, FloatArray]:
    """Feet of all vertices on every segment they project into (the width's breakpoints)."""
    rel = vertices[:, None, :] - poly.start[None, :, :]  # (V, S, 2)
    local = rel[..., 0] * poly.u[None, :, 0] + rel[..., 1] * poly.u[None, :, 1]
    vi, seg = np.nonzero((local >= 0.0) & (local <= poly.length[None, :]))
    return seg.astype(np.intp), local[vi, seg]


def evaluate_layers(
    poly: Polyline, boundary: Boundary, seg: IntArray, local: FloatArray, gap: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(width, t_start, t_end) of each layer's chord nearest to the wall; NaN where none."""
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


def build_profile(
    poly: Polyline, boundary: Boundary, regular: tuple[IntArray, FloatArray], gap: float
) -> Profile:
    """Regular layers plus layers through every boundary vertex, evaluated.

    A polygon's width is continuous at its vertices, so one layer through each is exact.
    A mask's (gap > 0) can jump where a layer passes a pixel corner, and which side a
    layer exactly through a corner takes is down to rounding; two layers EPSILON_MM to
    either side keep both one-sided values instead.
    """
    base_seg, base_local = regular
    ev_seg, ev_local = vertex_positions(poly, boundary.vertices)
    if gap > 0:
        ev_seg = np.concatenate([ev_seg, ev_seg])
        ev_local = np.clip(
            np.concatenate([ev_local - EPSILON_MM, ev_local + EPSILON_MM]),
            0.0,
            poly.length[ev_seg],
        )
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
    width, t0, t1 = evaluate_layers(poly, boundary, seg, local, gap)
    return Profile(seg, local, base, width, t0, t1)


def insert_layers(
    prof: Profile, poly: Polyline, boundary: Boundary, gap: float, s_values: list[float]
) -> Profile:
    """The profile with layers added at arc lengths `s_values` (exact window ends)."""
    segs, locs = [], []
    for s in s_values:
        k = int(np.searchsorted(poly.offset, s, side="right") - 1)
        k = min(max(k, 0), len(poly.length) - 1)
        segs.append(k)
        locs.append(min(max(s - poly.offset[k], 0.0), poly.length[k]))
    seg_new = np.array(segs, dtype=np.intp)
    loc_new = np.array(locs)
    w, a, b = evaluate_layers(poly, boundary, seg_new, loc_new, gap)
    seg = np.concatenate([prof.seg, seg_new])
    local = np.concatenate([prof.local, loc_new])
    order = np.lexsort((local, seg))
    cat = np.concatenate
    return Profile(
        seg[order],
        local[order],
        cat([prof.base, np.zeros(len(seg_new), bool)])[order],
        cat([prof.width, w])[order],
        cat([prof.t0, a])[order],
        cat([prof.t1, b])[order],
    )


def window_selection(prof: Profile, poly: Polyline, lo: float, hi: float) -> BoolArray:
    """Layers whose foot lies in arc lengths [lo, hi], per segment overlapping the window."""
    a = np.maximum(lo - poly.offset, 0.0)  # per segment
    b = np.minimum(hi - poly.offset, poly.length)
    # A segment that only touches the window at one end adds nothing to its mean.
    overlaps = (b > a) | ((b == a) & (hi == lo))
    k = prof.seg
    selected: BoolArray = overlaps[k] & (prof.local >= a[k] - 1e-12) & (prof.local <= b[k] + 1e-12)
    return selected


def window_mean(prof: Profile, poly: Polyline, lo: float, hi: float) -> float:
    """Mean width over arc lengths [lo, hi]: trapezoid rule along each segment."""
    sel = window_selection(prof, poly, lo, hi)
    seg, x, w = prof.seg[sel], prof.local[sel], prof.width[sel]
    ok = np.isfinite(w)
    pair = ok[1:] & ok[:-1] & (seg[1:] == seg[:-1])
    dx = np.diff(x)[pair]
    covered = float(np.sum(dx))
    if covered > 0:
        return float(np.sum(dx * (w[1:][pair] + w[:-1][pair]) / 2.0)) / covered
    # A window of zero length (or of isolated layers) is the plain mean of its layers.
    return float(np.mean(w[ok])) if ok.any() else math.nan


def layer_chord(name: str, prof: Profile, poly: Polyline, i: int, spacing: Spacing) -> Chord | None:
    """Layer i's chord in image pixel coordinates, for drawing."""
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


def representative_layer(
    prof: Profile, poly: Polyline, lo: float, hi: float, value: float
) -> int | None:
    """The layer in [lo, hi] whose width is closest to the window's mean (for drawing)."""
    sel = np.nonzero(window_selection(prof, poly, lo, hi) & np.isfinite(prof.width))[0]
    if len(sel) == 0 or not math.isfinite(value):
        return None
    return int(sel[np.argmin(np.abs(prof.width[sel] - value))])
