"""Vertebral levels counted from C2 at run time (issue 14 §5).

A network that names corners by where C3 usually lies in a cervical field of view puts "C5"
on C6 in a scan from the skull base to the thorax. Models whose contract has counting
channels (`outputs.heatmap.counting`) also give a heatmap of the C2 dens tip and one with a
peak at every vertebral body's centre, unnamed. Here:

- `decode_landmarks` reads the dens tip (the channel's peak) and the body centres (its local
  maxima) back onto the image, leaving out peaks in the padding;
- `count_centres` orders the centres along the spine and names them by counting caudally
  from C2, the body under the dens tip, or, with no dens in view, from the body under the
  network's most cranial corners (level_count.name_chain: a step of about two is a missed
  body, an implausible one stops the count; a second peak on one body is passed over); a
  count of fewer than MIN_COUNTED bodies (a small field of view) names none;
- `apply_count` holds the network's corners of each level C3..C7 against the counted body
  under them: corners on a body counted as another level are renamed to it when that is
  unambiguous, else withheld with the reason; only where count and network agree on
  MIN_AGREED levels.

Anything not counted keeps the names the network and level_count.check_keypoints gave it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace

import cv2
import numpy as np

from inference.runtime.contract import HeatmapSpec
from inference.runtime.level_count import (
    CHECKED_LEVELS,
    CORNERS,
    P,
    name_chain,
    spine_axis,
    to_mm,
)
from inference.runtime.preprocess import Transform

# A peak under this is no dens and no body (on the held-out synthetic images 0.4 named 6 fewer
# levels right of 286 and none fewer wrong).
PEAK_MIN = 0.3
# A body peak closer to the last body counted than this share of the typical step is one body
# seen twice, or a disc: passed over.
SHORT_RATIO = 0.6
# The tip of the dens to the centre of the C2 body: 20-27 mm on the synthetic anatomy (C3's
# 38-50 mm); a peak nearer the tip is the dens itself or the arch of C1.
DENS_TO_C2_MM = (16.0, 34.0)
# A count that names fewer bodies than this (a small field of view) is too short to overrule
# the network's names.
MIN_COUNTED = 4
# The count renames or withholds corners only where it names at least this many of the
# network's levels as the network does: a count and a network that disagree on every level
# (a mislaid peak on a phantom shifted the whole count) leave the corners as they are.
MIN_AGREED = 2
MATCH_RATIO = 0.45  # a level's corners lie on a counted body within this share of a step
# Where a counted level's corners are looked for, in steps from its body's centre: along the
# spine from a little past the centre (GUIDE_ALONG[0]) to the far endplate's side (GUIDE_ALONG[1]),
# and across it (a body is about as deep as a step).
GUIDE_ALONG = (0.1, 0.8)
GUIDE_ACROSS = 0.9


@dataclass(frozen=True)
class Landmarks:
    """What the counting channels found on one slice, in labelme image pixels."""

    centres: np.ndarray  # (n, 2) vertebral body centres, any order
    dens_tip: np.ndarray | None  # (2,)
    dens_peak: float


@dataclass(frozen=True)
class Counted:
    """The count on one slice, in labelme image pixels."""

    centres: np.ndarray  # (n, 2) body centres, cranio-caudal
    names: list[str | None]  # per centre its level (None: not counted)
    dens_tip: np.ndarray | None  # (2,)
    # Where the count started: "dens" (C2, the body under the dens tip) or "corners:<level>"
    # (no dens in view: the body under the network's corners of that level); None when
    # nothing was counted, with the `reason`.
    anchor: str | None
    reason: str | None

    @property
    def levels(self) -> dict[str, np.ndarray]:
        return {n: c for n, c in zip(self.names, self.centres, strict=True) if n is not None}


def find_peaks(channel: np.ndarray, min_value: float = PEAK_MIN) -> np.ndarray:
    """Local maxima (3x3) of one heatmap channel at `min_value` or more: (n, 3) rows of
    (u, v, value) in grid labelme coordinates, refined to the weighted centre of the 3x3
    neighbourhood (the channel clipped at zero)."""
    values = np.asarray(channel, dtype=np.float32)
    dilated = cv2.dilate(values, np.ones((3, 3), np.uint8))
    rows, cols = np.nonzero((values >= dilated) & (values >= min_value))
    padded = np.pad(np.maximum(values, 0.0), 1)
    out = []
    offsets = np.array([-1.0, 0.0, 1.0])
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        window = padded[r : r + 3, c : c + 3].astype(np.float64)
        total = float(window.sum())
        du = float(window.sum(axis=0) @ offsets) / total
        dv = float(window.sum(axis=1) @ offsets) / total
        out.append((c + 0.5 + du, r + 0.5 + dv, float(values[r, c])))
    return np.array(out, dtype=np.float64).reshape(-1, 3)


def decode_landmarks(
    spec: HeatmapSpec, transform: Transform, heat: np.ndarray, spacing: tuple[float, float]
) -> Landmarks:
    """The dens tip and body centres from a slice's full heatmap output (keypoint channels
    first); peaks in the padding around the image are dropped."""
    first = len(spec.keypoints)
    channels = {name: heat[first + i] for i, name in enumerate(spec.counting)}
    rows, cols = transform.image_shape

    def on_image(peaks: np.ndarray) -> np.ndarray:
        points = transform.to_image(peaks[:, :2] * spec.stride) if len(peaks) else peaks[:, :2]
        inside = (points[:, 0] >= 0) & (points[:, 0] <= cols)
        inside &= (points[:, 1] >= 0) & (points[:, 1] <= rows)
        return np.column_stack([points, peaks[:, 2]])[inside]

    dens = on_image(find_peaks(channels["dens_tip"]))
    bodies = on_image(find_peaks(channels["bodies"]))
    best = dens[int(np.argmax(dens[:, 2]))] if len(dens) else None
    return Landmarks(
        centres=bodies[:, :2],
        dens_tip=None if best is None else best[:2],
        dens_peak=0.0 if best is None else float(best[2]),
    )


def _chain(mm: np.ndarray, start: int) -> list[int]:
    """Indices of the centres (mm, cranio-caudal) from `start` on, one per body: of two
    closer than SHORT_RATIO of the typical step between neighbours (one body seen twice, or
    a disc), the one whose steps from the last body kept and to the centre after the pair
    are the nearer to typical."""
    steps = np.hypot(*np.diff(mm[start:], axis=0).T)
    if not len(steps):
        return [start]
    typical = float(np.median(steps))

    def gap(i: int, j: int) -> float:
        return float(np.hypot(*(mm[j] - mm[i])))

    short = SHORT_RATIO * typical
    chain = [start]
    k = start + 1
    while k < len(mm):
        if gap(chain[-1], k) < short:  # the last body again
            k += 1
        elif k + 1 < len(mm) and gap(k, k + 1) < short:  # one body, two centres

            def irregularity(i: int, after: int = k + 2) -> float:
                out = abs(gap(chain[-1], i) - typical)
                return out + (abs(gap(i, after) - typical) if after < len(mm) else 0.0)

            chain.append(min((k, k + 1), key=irregularity))
            k += 2
        else:
            chain.append(k)
            k += 1
    return chain


def count_centres(
    landmarks: Landmarks,
    spacing: tuple[float, float],
    *,
    anchor: tuple[str, np.ndarray] | None = None,
) -> Counted:
    """Names the body centres by counting caudally from C2, the first centre below the dens
    tip within DENS_TO_C2_MM of it; without a dens, from `anchor` (a level and where the
    network put its corners' centre, labelme pixels) when a centre lies there."""
    points = np.asarray(landmarks.centres, dtype=np.float64).reshape(-1, 2)
    mm = to_mm(points, spacing)
    axis = spine_axis(mm)
    order = np.argsort(mm @ axis, kind="stable")
    points, mm = points[order], mm[order]
    names: list[str | None] = [None] * len(points)
    dens_tip = landmarks.dens_tip

    def counted(start: int | None, level: str, how: str | None, why: str | None) -> Counted:
        if start is not None:
            chain = _chain(mm, start)
            names[start] = level
            # Steps between neighbours as distances, not along one axis: the spine curves.
            steps = np.hypot(*np.diff(mm[chain], axis=0).T)
            for k, name in zip(chain[1:], name_chain(steps, start=level), strict=True):
                if name.startswith("!"):
                    break
                names[k] = name
            named = sum(n is not None for n in names)
            if named < MIN_COUNTED:
                names[:] = [None] * len(names)
                how, why = None, f"{named} bodies counted from {level}: too few to go by"
        return Counted(points, names, dens_tip, how, why)

    if len(points) < 2:
        return counted(None, "", None, f"{len(points)} vertebral bodies found: not counted")
    if dens_tip is not None:
        tip = to_mm(dens_tip, spacing)
        below = (mm - tip) @ axis
        distance = np.hypot(*(mm - tip).T)
        for k in range(len(mm)):
            if below[k] > 0 and DENS_TO_C2_MM[0] <= distance[k] <= DENS_TO_C2_MM[1]:
                return counted(k, "C2", "dens", None)
    if anchor is None:
        why = "no vertebral body under the dens" if dens_tip is not None else "no dens found"
        return counted(None, "", None, f"{why} and no corners to start from: not counted")
    level, where = anchor
    steps = np.hypot(*np.diff(mm, axis=0).T)
    distance = np.hypot(*(mm - to_mm(where, spacing)).T)
    nearest = int(np.argmin(distance))
    if distance[nearest] > MATCH_RATIO * float(np.median(steps)):
        return counted(None, "", None, f"no vertebral body under the corners of {level}")
    return counted(nearest, level, f"corners:{level}", None)


def _level_centres(keypoints: Mapping[str, P], min_confidence: float) -> dict[str, np.ndarray]:
    """Each level C3..C7 whose four corners are all there at `min_confidence`: their mean."""
    out = {}
    for level in CHECKED_LEVELS:
        points = [keypoints.get(f"{level}_{c}") for c in CORNERS]
        kept = [p for p in points if p is not None and p.confidence >= min_confidence]
        if len(kept) == len(CORNERS):
            out[level] = np.array([[p.x, p.y] for p in kept]).mean(axis=0)
    return out


def _matched(
    centres: dict[str, np.ndarray], counted: Counted, spacing: tuple[float, float]
) -> dict[str, str]:
    """Network level -> the counted level of the body nearest its corners' centre, for the
    levels whose corners lie within MATCH_RATIO of a step of a counted body."""
    levels = counted.levels
    named = list(levels)
    mm = to_mm(np.array([levels[n] for n in named]).reshape(-1, 2), spacing)
    steps = np.hypot(*np.diff(mm, axis=0).T) if len(mm) > 1 else np.array([16.0])
    reach = MATCH_RATIO * float(np.median(steps))
    found: dict[str, str] = {}
    for level, centre in centres.items():
        distance = np.hypot(*(mm - to_mm(centre, spacing)).T)
        if len(distance) and float(distance.min()) <= reach:
            found[level] = named[int(np.argmin(distance))]
    return found


def apply_count(
    keypoints: Mapping[str, P],
    counted: Counted,
    spacing: tuple[float, float],
    *,
    min_confidence: float = 0.0,
) -> tuple[dict[str, P], dict[str, str], dict[str, str]]:
    """(keypoints, withheld reasons, renamed levels new -> old): the corners of each level
    C3..C7 (at `min_confidence` or more) against the counted body nearest their centre.
    Corners on a body counted as another level C3..C7 that no other level's corners claim
    take its name; the others on a body of another level are withheld, and so are the
    corners of a level that moved away with none in their place (a suggestion, no more).
    Nothing changes unless the count and the network agree on MIN_AGREED levels."""
    out: dict[str, P] = dict(keypoints)
    if counted.reason is not None:
        return out, {}, {}
    found = _matched(_level_centres(keypoints, min_confidence), counted, spacing)
    if sum(old == new for old, new in found.items()) < MIN_AGREED:
        return out, {}, {}  # one of the two is wrong throughout: which, nothing here says
    claims = Counter(found.values())
    moves = {
        old: new
        for old, new in found.items()
        if new != old and new in CHECKED_LEVELS and claims[new] == 1
    }
    renamed = {new: old for old, new in moves.items()}
    start = "C2 (under the dens)" if counted.anchor == "dens" else "the network's top level"
    withheld: dict[str, str] = {}
    for old, new in found.items():
        if new != old and old not in moves:
            shared = ", as another level's do" if claims[new] > 1 else ""
            why = f"counting from {start}, these corners lie on {new}{shared}"
            withheld |= {f"{old}_{c}": why for c in CORNERS}
    for old, new in moves.items():
        for corner in CORNERS:
            out[f"{new}_{corner}"] = keypoints[f"{old}_{corner}"]
            withheld.pop(f"{new}_{corner}", None)
        if old not in renamed:
            why = f"counting from {start}, these corners lie on {new} (shown as {new})"
            withheld |= {f"{old}_{c}": why for c in CORNERS}
    for name in withheld:
        out[name] = replace(out[name], confidence=0.0)  # type: ignore[type-var]
    return out, withheld, renamed


def unverified(
    keypoints: Mapping[str, P],
    counted: Counted,
    spacing: tuple[float, float],
    *,
    min_confidence: float = 0.0,
) -> dict[str, str]:
    """Corner name -> why its level is not confirmed by the count from C2: the count started
    elsewhere (no dens in view: the names are the network's or the count's guess), it names
    fewer than MIN_AGREED of the network's levels as the network does, or the level's four
    corners do not lie on the body counted as that level. Such corners are suggestions only:
    on the calibration's held-out phantoms, corners confirmed so were within 4 mm of the truth
    99 % of the time and the others 49 % (a whole spine named one level off, about 18 mm, is
    the usual error where C2 is cut off, and the network's peak is as sure there); on its
    domain-randomised synthetic images 40 against 8 %, which the threshold must then judge."""
    confirmed: set[str] = set()
    if counted.anchor != "dens":
        why = f"levels not counted from C2: {counted.reason or 'no dens in view'}"
    else:
        found = _matched(_level_centres(keypoints, min_confidence), counted, spacing)
        confirmed = {old for old, new in found.items() if old == new}
        why = "not on a vertebral body counted as this level from C2"
        if len(confirmed) < MIN_AGREED:
            confirmed = set()
            why = "the count from C2 (under the dens) disagrees with the network's levels"
    return {f"{lv}_{c}": why for lv in CHECKED_LEVELS if lv not in confirmed for c in CORNERS}


def count_on_slice(
    spec: HeatmapSpec,
    transform: Transform,
    heat: np.ndarray,
    spacing: tuple[float, float],
    keypoints: Mapping[str, P],
    *,
    min_confidence: float,
) -> Counted:
    """The count on one slice from its full heatmap output. Without a dens it starts from the
    most cranial level whose four corners the network placed at `min_confidence` or more."""
    landmarks = decode_landmarks(spec, transform, heat, spacing)
    centres = _level_centres(keypoints, min_confidence)
    anchor = next(((lv, centres[lv]) for lv in CHECKED_LEVELS if lv in centres), None)
    return count_centres(landmarks, spacing, anchor=anchor)


def agrees(
    keypoints: Mapping[str, P],
    counted: Counted,
    spacing: tuple[float, float],
    min_confidence: float = 0.0,
) -> bool:
    """Whether the count names at least MIN_AGREED of the network's levels as it does."""
    if counted.reason is not None:
        return False
    found = _matched(_level_centres(keypoints, min_confidence), counted, spacing)
    return sum(old == new for old, new in found.items()) >= MIN_AGREED


def corner_windows(
    spec: HeatmapSpec,
    transform: Transform,
    spacing: tuple[float, float],
    counted: Counted,
    shape: tuple[int, int],
) -> dict[str, np.ndarray]:
    """Per corner of each level C3..C7 the count named, the heatmap grid pixels (bool,
    `shape`) where that corner of its counted body can lie: above the body's centre for a
    superior corner, below it for an inferior one (GUIDE_ALONG of a step along the spine's
    local direction), within GUIDE_ACROSS of a step across it. A corner the network put on a
    neighbouring body lies outside: the next body's superior corners are below this one's
    centre."""
    named = counted.levels
    levels = [lv for lv in named if lv in CHECKED_LEVELS]
    if not levels:
        return {}
    centres = to_mm(counted.centres, spacing)
    steps = np.hypot(*np.diff(centres, axis=0).T) if len(centres) > 1 else np.array([16.0])
    step = float(np.median(steps))
    rows, cols = np.indices(shape)
    grid = np.column_stack([cols.ravel() + 0.5, rows.ravel() + 0.5]) * spec.stride
    pixels = to_mm(transform.to_image(grid), spacing)
    order = list(named)
    out: dict[str, np.ndarray] = {}
    for level in levels:
        k = order.index(level)
        centre = to_mm(named[level], spacing)
        before = to_mm(named[order[max(k - 1, 0)]], spacing)
        after = to_mm(named[order[min(k + 1, len(order) - 1)]], spacing)
        direction = after - before
        norm = float(np.hypot(*direction))
        axis = direction / norm if norm > 0 else spine_axis(centres)
        offset = pixels - centre
        along = offset @ axis / step
        across = np.abs(offset @ np.array([axis[1], -axis[0]])) / step
        near = across <= GUIDE_ACROSS
        superior = near & (along >= -GUIDE_ALONG[1]) & (along <= GUIDE_ALONG[0])
        inferior = near & (along >= -GUIDE_ALONG[0]) & (along <= GUIDE_ALONG[1])
        for corner in CORNERS:
            mask = superior if corner.endswith("S") else inferior
            out[f"{level}_{corner}"] = mask.reshape(shape)
    return out
