"""Vertebral levels by counting bodies, not by trusting position (issue 14 §5).

On a scan from the skull base to the thorax a network that places "C3" by where C3 usually
lies in a cervical field of view will put it on the wrong body. Two pure functions:

- `name_chain`: the levels of bodies found below a known one (C2, under the dens) from the
  steps between them (counting.py finds the bodies): a gap of about two body steps is a
  missed body (its name is skipped); a larger gap or an implausible step stops the count,
  and bodies past it stay unnamed.
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
from collections.abc import Mapping
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


class Point(Protocol):
    @property
    def x(self) -> float: ...
    @property
    def y(self) -> float: ...
    @property
    def confidence(self) -> float: ...


P = TypeVar("P", bound=Point)


def to_mm(points: np.ndarray, spacing: tuple[float, float]) -> np.ndarray:
    return np.asarray(np.asarray(points, dtype=np.float64) * np.array([spacing[1], spacing[0]]))


def spine_axis(centres: np.ndarray) -> np.ndarray:
    """Unit direction of the spine through the body centres, pointing inferior (+y)."""
    if len(centres) < 2:
        return np.array([0.0, 1.0])  # the image's vertical
    _, _, vt = np.linalg.svd(centres - centres.mean(axis=0))
    axis = np.asarray(vt[0], dtype=np.float64)
    return axis if axis[1] >= 0 else np.asarray(-axis)


def name_chain(steps: np.ndarray, start: str = "C2") -> list[str]:
    """The names of the bodies below the body `start` from the steps between them: a level,
    or "!" and the reason it has none. Each step is judged against the typical step so far
    (per level: a step over a missed body counts as two). C2's own step (to C3) is judged on
    its length alone: its body carries the dens."""
    level = LEVEL_NAMES.index(start)
    tall_first = start == "C2"
    stopped: str | None = None
    out: list[str] = []
    per_level: list[float] = []  # the steps below C2's own, per level spanned
    regular = [float(x) for x in (steps[1:] if tall_first else steps)]
    for k, step in enumerate(float(x) for x in steps):
        recent = per_level[-3:] or regular or [step]
        typical = float(np.median(recent))
        ratio = step / typical if typical > 0 else 0.0
        judged = k > 0 or not tall_first
        if stopped is None:
            if judged and MISSED_RATIO[0] <= ratio <= MISSED_RATIO[1]:
                level += 1  # one body missed between these two
                per_level.append(step / 2)
            elif judged and not STEP_RATIO[0] <= ratio <= STEP_RATIO[1]:
                stopped = f"step {step:.1f} mm against a typical {typical:.1f} mm"
            elif not STEP_MM[0] <= step <= STEP_MM[1] + (0.0 if judged else 25.0):
                stopped = f"step {step:.1f} mm outside {STEP_MM[0]:.0f}-{STEP_MM[1]:.0f} mm"
            elif judged:
                per_level.append(step)
        level += 1
        if stopped is not None:
            out.append("!" + stopped)
        elif level >= len(LEVEL_NAMES):
            out.append("!past L5")
        else:
            out.append(LEVEL_NAMES[level])
    return out


@dataclass(frozen=True)
class KeypointCheck(Generic[P]):
    keypoints: dict[str, P]  # renamed where the order said so, withheld at confidence 0
    withheld: dict[str, str]  # keypoint name -> reason
    renamed: dict[str, str]  # new level -> the level the network had called it


def _bodies_from_keypoints(
    keypoints: Mapping[str, Point], spacing: tuple[float, float]
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for level in CHECKED_LEVELS:
        names = [f"{level}_{c}" for c in CORNERS]
        if all(n in keypoints for n in names):
            out[level] = to_mm(np.array([[keypoints[n].x, keypoints[n].y] for n in names]), spacing)
    return out


def _implausible(bodies: dict[str, np.ndarray], axis: np.ndarray) -> dict[str, str]:
    """Bodies whose four corners make no plausible body, with the reason (all bodies at once:
    a handful of array operations instead of a dozen per body)."""
    levels = list(bodies)
    a_s, a_i, p_s, p_i = np.stack([bodies[lv] for lv in levels]).transpose(1, 0, 2)
    normal = np.array([axis[1], -axis[0]])
    # Endplate midpoints apart along the axis, walls apart across it.
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
    axis = spine_axis(np.array(list(centres.values())))
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
