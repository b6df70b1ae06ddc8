"""Vertebral levels by counting bodies, not by trusting position (issue 14 §5).

On a scan from the skull base to the thorax a network that places "C3" by where C3 usually
lies in a cervical field of view will put it on the wrong body. Two pure functions:

- `count_levels`: given vertebral bodies found on a sagittal slice (unnamed, any order) and,
  when seen, the tip of the C2 dens, orders the bodies cranio-caudally and names them by
  counting caudally from C2: C2 is the body under the dens tip or, without one, the first
  body whose height is out of proportion (the dens makes C2 about twice as tall as C3). A gap
  of about two body steps is a missed body (its name is skipped); a larger gap or an
  implausible step stops the count, and bodies past it stay unnamed.
- `check_keypoints`: checks the 20 named corners C3..C7 a network decoded: each body's four
  corners must make a plausible body (superior above inferior, anterior in front of
  posterior, 5-30 mm high, 8-35 mm deep), corners of different bodies must not bunch
  together, and the bodies must run cranio-caudally in name order with plausible steps.
  Bodies that keep their relative order but carry swapped names are renamed by their order;
  the corners of bodies that fail are withheld (confidence 0) with the reason.

Coordinates are labelme pixels (x = column, y = row); `spacing` is (row mm, column mm) and
the display convention is the product's: superior up, anterior left.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Generic, Protocol, TypeVar

import numpy as np

CORNERS: tuple[str, ...] = ("AS", "AI", "PS", "PI")
LEVEL_NAMES: tuple[str, ...] = (
    "C1", "C2", "C3", "C4", "C5", "C6", "C7",
    *(f"T{i}" for i in range(1, 13)), *(f"L{i}" for i in range(1, 6)),
)  # fmt: skip
CHECKED_LEVELS: tuple[str, ...] = ("C3", "C4", "C5", "C6", "C7")

HEIGHT_MM = (5.0, 30.0)  # body height along the spine
DEPTH_MM = (8.0, 35.0)  # body depth (anterior to posterior wall)
STEP_MM = (8.0, 40.0)  # centre to centre of neighbouring bodies
STEP_RATIO = (0.6, 1.6)  # a step against the median step
MISSED_RATIO = (1.6, 2.5)  # a step of about two: one body missed
BUNCH_MM = 5.0  # corners of different bodies closer than this are bunched
C2_RATIO = 1.6  # C2 (with its dens) against the median height of the bodies below
DENS_REACH_MM = 40.0  # the C2 body's superior endplate lies within this below the dens tip


class _Point(Protocol):
    @property
    def x(self) -> float: ...
    @property
    def y(self) -> float: ...
    @property
    def confidence(self) -> float: ...


P = TypeVar("P", bound=_Point)


@dataclass(frozen=True)
class Body:
    """One vertebral body: corners (4, 2) in CORNERS order, labelme pixels."""

    corners: np.ndarray
    confidence: float = 1.0
    top: np.ndarray | None = None  # (2,) its highest point when above the endplate (C2's dens)


@dataclass(frozen=True)
class LevelCount:
    names: list[str | None]  # per input body, its level (None: not counted)
    order: list[int]  # input indices, cranio-caudal
    c2: int | None  # input index of C2 (None: not found; names then stay None)
    reasons: dict[int, str]  # input index -> why it was not named


def _mm(points: np.ndarray, spacing: tuple[float, float]) -> np.ndarray:
    return np.asarray(np.asarray(points, dtype=np.float64) * np.array([spacing[1], spacing[0]]))


def _axis(centres: np.ndarray) -> np.ndarray:
    """Unit direction of the spine through the body centres, pointing inferior (+y)."""
    if len(centres) < 2:
        return np.array([0.0, 1.0])  # the image's vertical
    _, _, vt = np.linalg.svd(centres - centres.mean(axis=0))
    axis = np.asarray(vt[0], dtype=np.float64)
    return axis if axis[1] >= 0 else np.asarray(-axis)


def body_geometry(corners_mm: np.ndarray, axis: np.ndarray) -> tuple[float, float]:
    """(height, depth) of a body in mm: endplate midpoints apart along `axis`, walls apart
    across it."""
    a_s, a_i, p_s, p_i = corners_mm
    sup, inf = (a_s + p_s) / 2, (a_i + p_i) / 2
    ant, post = (a_s + a_i) / 2, (p_s + p_i) / 2
    normal = np.array([axis[1], -axis[0]])  # towards posterior (+x) for a downward axis
    return float((inf - sup) @ axis), float((post - ant) @ normal)


def _heights(bodies: Sequence[Body], corners: list[np.ndarray], axis: np.ndarray,
             spacing: tuple[float, float]) -> list[float]:  # fmt: skip
    """Each body's height along the axis; up to its `top` (the dens) where one is given."""
    heights = []
    for b, c in zip(bodies, corners, strict=True):
        h, _ = body_geometry(c, axis)
        if b.top is not None:
            h = max(h, float((c[[1, 3]].mean(axis=0) - _mm(b.top, spacing)) @ axis))
        heights.append(h)
    return heights


def count_levels(
    bodies: Sequence[Body],
    spacing: tuple[float, float],
    *,
    dens_tip: np.ndarray | None = None,
) -> LevelCount:
    """Names bodies by counting caudally from C2 (see the module docstring)."""
    n = len(bodies)
    names: list[str | None] = [None] * n
    if n == 0:
        return LevelCount(names=names, order=[], c2=None, reasons={})
    corners = [_mm(b.corners, spacing) for b in bodies]
    centres = np.array([c.mean(axis=0) for c in corners])
    axis = _axis(centres)
    along = centres @ axis
    order = [int(i) for i in np.argsort(along)]
    heights = _heights(bodies, corners, axis, spacing)
    c2 = _find_c2(corners, order, heights, axis, spacing, dens_tip)
    if c2 is None:
        reasons = dict.fromkeys(range(n), "C2 not found: no count")
        return LevelCount(names=names, order=order, c2=None, reasons=reasons)
    start = order.index(c2)
    reasons = dict.fromkeys(order[:start], "above C2")
    names[c2] = "C2"
    chain = order[start:]
    for i, name in zip(chain[1:], _name_chain(np.diff(along[chain])), strict=True):
        if name.startswith("!"):
            reasons[i] = name[1:]
        else:
            names[i] = name
    return LevelCount(names=names, order=order, c2=c2, reasons=reasons)


def _name_chain(steps: np.ndarray) -> list[str]:
    """The names of the bodies below C2 from the steps between them: a level, or "!" and the
    reason it has none. Each step is judged against the typical step so far (per level: a
    step over a missed body counts as two)."""
    level = LEVEL_NAMES.index("C2")
    stopped: str | None = None
    out: list[str] = []
    per_level: list[float] = []  # the steps below C2's own, per level spanned
    below_c2 = [float(x) for x in steps[1:]]
    for k, step in enumerate(float(x) for x in steps):
        recent = per_level[-3:] or below_c2 or [step]
        typical = float(np.median(recent))
        ratio = step / typical if typical > 0 else 0.0
        if stopped is None:
            if k > 0 and MISSED_RATIO[0] <= ratio <= MISSED_RATIO[1]:
                level += 1  # one body missed between these two
                per_level.append(step / 2)
            elif k > 0 and not STEP_RATIO[0] <= ratio <= STEP_RATIO[1]:
                stopped = f"step {step:.1f} mm against a typical {typical:.1f} mm"
            elif not STEP_MM[0] <= step <= STEP_MM[1] + (25.0 if k == 0 else 0.0):
                stopped = f"step {step:.1f} mm outside {STEP_MM[0]:.0f}-{STEP_MM[1]:.0f} mm"
            elif k > 0:
                per_level.append(step)
        level += 1
        if stopped is not None:
            out.append("!" + stopped)
        elif level >= len(LEVEL_NAMES):
            out.append("!past L5")
        else:
            out.append(LEVEL_NAMES[level])
    return out


def _find_c2(
    corners: list[np.ndarray],
    order: list[int],
    heights: list[float],
    axis: np.ndarray,
    spacing: tuple[float, float],
    dens_tip: np.ndarray | None,
) -> int | None:
    """The input index of C2: the first body under the dens tip, else the most cranial body
    out of proportion with the bodies below it."""
    if dens_tip is not None:
        tip = _mm(np.asarray(dens_tip, dtype=np.float64), spacing)
        for i in order:
            sup = corners[i][[0, 2]].mean(axis=0)
            below = float((sup - tip) @ axis)
            if 0.0 <= below <= DENS_REACH_MM:
                return i
        return None
    for k, i in enumerate(order[:-2]):
        lower = [heights[j] for j in order[k + 1 : k + 6]]
        if heights[i] >= C2_RATIO * float(np.median(lower)):
            return i
    return None


@dataclass(frozen=True)
class KeypointCheck(Generic[P]):
    keypoints: dict[str, P]  # renamed where the order said so, withheld at confidence 0
    withheld: dict[str, str]  # keypoint name -> reason
    renamed: dict[str, str]  # new level -> the level the network had called it


def _bodies_from_keypoints(
    keypoints: Mapping[str, _Point], spacing: tuple[float, float]
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for level in CHECKED_LEVELS:
        names = [f"{level}_{c}" for c in CORNERS]
        if all(n in keypoints for n in names):
            out[level] = _mm(np.array([[keypoints[n].x, keypoints[n].y] for n in names]), spacing)
    return out


def _implausible(bodies: dict[str, np.ndarray], axis: np.ndarray) -> dict[str, str]:
    """Bodies whose four corners make no plausible body, with the reason (all bodies at once:
    a handful of array operations instead of a dozen per body)."""
    levels = list(bodies)
    a_s, a_i, p_s, p_i = np.stack([bodies[lv] for lv in levels]).transpose(1, 0, 2)
    normal = np.array([axis[1], -axis[0]])
    # As body_geometry: endplate midpoints apart along the axis, walls apart across it.
    heights = ((a_i + p_i) / 2 - (a_s + p_s) / 2) @ axis
    depths = ((p_s + p_i) / 2 - (a_s + a_i) / 2) @ normal
    downwards = np.minimum((a_i - a_s) @ axis, (p_i - p_s) @ axis)
    forwards = np.minimum((p_s - a_s) @ normal, (p_i - a_i) @ normal)
    out: dict[str, str] = {}
    for level, height, depth, down, forward in zip(
        levels,
        heights.tolist(),
        depths.tolist(),
        downwards.tolist(),
        forwards.tolist(),
        strict=True,
    ):
        if down <= 0:
            out[level] = "superior corner not above the inferior one"
        elif forward <= 0:
            out[level] = "anterior corner not in front of the posterior one"
        elif not HEIGHT_MM[0] <= height <= HEIGHT_MM[1]:
            out[level] = (
                f"body height {height:.1f} mm outside {HEIGHT_MM[0]:.0f}-{HEIGHT_MM[1]:.0f} mm"
            )
        elif not DEPTH_MM[0] <= depth <= DEPTH_MM[1]:
            out[level] = f"body depth {depth:.1f} mm outside {DEPTH_MM[0]:.0f}-{DEPTH_MM[1]:.0f} mm"
    return out


def _bunched(bodies: dict[str, np.ndarray], rank: dict[str, int]) -> dict[str, str]:
    """Bodies with corners on top of another body's: the same corner of two bodies (C4_AS,
    C5_AS) or any corners of bodies that are not neighbours (by `rank`, their cranio-caudal
    order) closer than BUNCH_MM. Neighbours' facing corners (C4_AI, C5_AS) may be close: a
    thin disc lies between them."""
    out: dict[str, str] = {}
    if len(bodies) < 2:
        return out
    levels = list(bodies)
    # Every corner against every corner of every body in one go: (bodies, bodies, 4, 4) mm.
    corners = np.stack([bodies[lv] for lv in levels])
    offsets = corners[:, None, :, None, :] - corners[None, :, None, :, :]
    distance = np.sqrt(np.add.reduce(offsets * offsets, axis=-1))
    same_corner = np.diagonal(distance, axis1=2, axis2=3).min(axis=-1)
    any_corner = distance.min(axis=(2, 3))
    for (a, la), (b, lb) in itertools.combinations(enumerate(levels), 2):
        same = float(same_corner[a, b])
        apart = abs(rank[la] - rank[lb])
        gap = same if apart == 1 else min(same, float(any_corner[a, b]))
        if gap < BUNCH_MM:
            out[la] = out[lb] = f"corners of {la} and {lb} bunched ({gap:.1f} mm apart)"
    return out


def _sequence(position: dict[str, float]) -> dict[str, str]:
    """Bodies (by their `position` along the spine axis) whose steps to their neighbours in
    cranio-caudal order are implausible; a step over a withheld body counts as that many
    steps."""
    levels = sorted(position, key=position.__getitem__)
    along = [position[lv] for lv in levels]
    spans = [
        max(1, CHECKED_LEVELS.index(b) - CHECKED_LEVELS.index(a))
        for a, b in itertools.pairwise(levels)
    ]
    per_level = [step / span for step, span in zip(np.diff(along), spans, strict=True)]
    if not per_level:
        return {}
    typical = float(statistics.median(per_level))  # np.median's value, without its overhead
    bad: dict[str, str] = {}
    for k, step in enumerate(per_level):
        ratio = step / typical if typical > 0 else 0.0
        if not (STEP_MM[0] <= step <= STEP_MM[1] and STEP_RATIO[0] <= ratio <= STEP_RATIO[1]):
            reason = f"step {step:.1f} mm between {levels[k]} and {levels[k + 1]} implausible"
            bad.setdefault(levels[k + 1], reason)
            if k == 0:
                bad.setdefault(levels[k], reason)
    return bad


def check_keypoints(
    keypoints: Mapping[str, P], spacing: tuple[float, float], *, min_confidence: float = 0.0
) -> KeypointCheck[P]:
    """Checks the corners C3..C7 (see the module docstring); corners under `min_confidence`
    take no part in the check and are left as they are."""
    confident = {k: p for k, p in keypoints.items() if p.confidence >= min_confidence}
    bodies = _bodies_from_keypoints(confident, spacing)
    withheld: dict[str, str] = {}
    renamed: dict[str, str] = {}
    out: dict[str, P] = dict(keypoints)
    if not bodies:
        return KeypointCheck(keypoints=out, withheld=withheld, renamed=renamed)
    centres = {lv: c.mean(axis=0) for lv, c in bodies.items()}
    axis = _axis(np.array(list(centres.values())))
    if len(bodies) < 3:  # too few bodies for the direction: the image's vertical
        axis = np.array([0.0, 1.0])
    position = {lv: float(centre @ axis) for lv, centre in centres.items()}
    bad = _implausible(bodies, axis)
    plausible = sorted((lv for lv in bodies if lv not in bad), key=position.__getitem__)
    rank = {lv: k for k, lv in enumerate(plausible)}
    bad |= _bunched({lv: bodies[lv] for lv in plausible}, rank)
    good = {lv: c for lv, c in bodies.items() if lv not in bad}
    # Count rather than trust: the bodies, in cranio-caudal order, take the names in order.
    ordered = sorted(good, key=position.__getitem__)
    names_in_order = [lv for lv in CHECKED_LEVELS if lv in good]
    mapping = dict(zip(ordered, names_in_order, strict=True))
    good_position = {mapping[lv]: position[lv] for lv in good}
    if any(old != new for old, new in mapping.items()):
        good = {mapping[lv]: c for lv, c in good.items()}
        renamed = {new: old for old, new in mapping.items() if old != new}
    bad |= {lv: r for lv, r in _sequence(good_position).items() if lv not in bad}
    for level in CHECKED_LEVELS:
        source = renamed.get(level, level)
        for corner in CORNERS:
            name, src = f"{level}_{corner}", f"{source}_{corner}"
            if src in keypoints and level in good:
                out[name] = keypoints[src]
    for level, reason in bad.items():
        for corner in CORNERS:
            name = f"{level}_{corner}"
            if name in out:
                withheld[name] = reason
                out[name] = replace(out[name], confidence=0.0)  # type: ignore[type-var]
    return KeypointCheck(keypoints=out, withheld=withheld, renamed=renamed)
