"""The 20 vertebral corners decoded together, not each at its heatmap's highest peak.

A corner's heatmap often has a second peak one body away: a network that cannot tell C4 from
C5 on a small field of view puts a peak on both, and the higher one can land on another
level's endplate (issue 14: on the `t1` fold's real crop, C4's inferior anterior corner sat on
C3's, and its own place was its heatmap's second peak). Where the highest peaks break a rule
below (`broken_rules`), the corners of the levels that break one take, among their heatmap's
few highest peaks, the combination with the least cost along C3..C7 (dynamic programming);
levels whose highest peaks break none (sound levels) keep them, so that a level out of view
never pulls a right one onto its neighbour. Costs:

- a peak: -log(its value / its heatmap's highest), so the highest peaks cost nothing;
- a body whose superior corners are not 5-30 mm above its inferior ones, or whose posterior
  corners are not 8-35 mm behind its anterior ones (level_count's limits): PENALTY per rule;
- a body whose superior corners are not below the inferior corners of the body above it:
  PENALTY per side; with levels left out between them, not SKIPPED_MM lower per level left
  out (a network that cannot tell C5 from C6 on a crop that ends at C5 puts C6 on C5's body
  and C5's inferior corners on the C4/C5 disc: C5 breaks a rule and, with no gap check, the
  chain kept C6 there and left C5 out, as on the `t1` fold's real crop);
- a level left out (its corners kept as decoded alone, for `check_keypoints` to judge):
  ABSENT above or below the levels kept, INTERIOR_ABSENT between two of them. The levels out
  of a small field of view have no right peak at all; a level between two seen ones is in
  view, and leaving it out is how a chain that names every body one level too low (C6 on
  C5's body) pays least.

The limits are anatomy's. ABSENT was chosen on held-out synthetic images (seeds from
10,000,000, as scripts/choose_keypoint_span.py) with the two sagittal leave-one-volume-out
fold networks, before any real reference was scored with it: mean corner error on 40 C3-C5
crops 7.8 -> 7.4 and 8.1 -> 8.0 mm, on 20 whole cervical views 3.0 -> 2.9 and 3.2 -> 2.8 mm
(ABSENT 1, 2 and 4 within 0.2 mm of each other). Coordinates as in level_count: labelme
pixels, `spacing` (row mm, column mm), superior up, anterior left.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from inference.runtime.level_count import CHECKED_LEVELS, CORNERS, DEPTH_MM, HEIGHT_MM

CANDIDATES = 3  # peaks per heatmap
MIN_RATIO = 0.2  # a peak under this share of its heatmap's highest is no candidate
PENALTY = 10.0  # a broken rule: worth more than any candidate's cost at MIN_RATIO (1.6)
ABSENT = 2.0  # a level left out (chosen on held-out synthetic images, above)
# Between two kept levels, each level left out needs its body and discs: an adult cervical
# body is 12-16 mm high with 3-6 mm discs; 10 mm leaves room for collapse and a tilted spine.
SKIPPED_MM = 10.0
# A level left out between two kept ones: twice ABSENT. On held-out synthetic C3-C5 crops
# (choose_keypoint_span.py's, 60) with four fold networks of two pretrainings, mean corner
# errors 7.08, 5.91, 4.58 and 5.31 mm at 2 went to 6.98, 5.75, 4.33 and 5.31 at 4 (10: the same
# as 4); on 20 whole cervical views none was worse.
INTERIOR_ABSENT = 4.0


def peak_cells(heatmaps: np.ndarray, count: int = CANDIDATES) -> tuple[np.ndarray, ...]:
    """(channels, rows, columns) of each channel's highest local maxima (no higher neighbour
    among the 8 around it) of a (channels, h, w) stack, at most `count` a channel, each at
    least MIN_RATIO of its channel's highest: channel by channel, highest first (a channel
    without a positive value has none)."""
    h = np.asarray(heatmaps, dtype=np.float32)
    k = h.shape[0]
    best = h.reshape(k, -1).max(axis=1)
    floor = np.maximum(MIN_RATIO * best, 1e-6)[:, None, None]
    # Edge-padded so that border cells compare with themselves (as a 3 x 3 maximum filter
    # with its "reflect" border would): every comparison but with its own value.
    padded = np.pad(h, ((0, 0), (1, 1), (1, 1)), mode="edge")
    rows, cols = h.shape[1:]
    local = h >= floor
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if (dy, dx) != (1, 1):
                local &= h >= padded[:, dy : dy + rows, dx : dx + cols]
    channels, r, c = np.nonzero(local)
    order = np.lexsort((-h[channels, r, c], channels))  # by channel, highest first
    channels, r, c = channels[order], r[order], c[order]
    first = np.searchsorted(channels, channels)  # the index of each channel's first cell
    keep = (np.arange(len(channels)) - first) < count
    return channels[keep], r[keep], c[keep]


def corner_names(level: str) -> list[str]:
    return [f"{level}_{corner}" for corner in CORNERS]


def moving_levels(points: Mapping[str, tuple[float, float]]) -> list[str]:
    """The levels (with all four corners in `points`, x and y in mm) that are not sound: the
    ones whose corners the chain may move. None where the corners make a spine."""
    present = [lv for lv in CHECKED_LEVELS if all(n in points for n in corner_names(lv))]
    highest = [
        _Level(
            choice=np.zeros((1, 4), dtype=np.int64),
            xy=np.array([[points[n] for n in corner_names(lv)]], dtype=np.float64),
            unary=np.zeros(1),
        )
        for lv in present
    ]
    numbers = [CHECKED_LEVELS.index(lv) for lv in present]
    return [lv for lv, sound in zip(present, _sound(highest, numbers), strict=True) if not sound]


@dataclass(frozen=True)
class _Level:
    """One level's candidate bodies: every combination of its corners' peaks."""

    choice: np.ndarray  # (states, 4) peak index per corner (CORNERS order)
    xy: np.ndarray  # (states, 4, 2) mm
    unary: np.ndarray  # (states,)


def _level(candidates: Sequence[np.ndarray]) -> _Level:
    """`candidates[k]`: corner CORNERS[k]'s peaks as rows (x mm, y mm, cost)."""
    grids = np.meshgrid(*(np.arange(len(c)) for c in candidates), indexing="ij")
    choice = np.stack([g.ravel() for g in grids], axis=1)
    xy = np.stack([candidates[k][choice[:, k], :2] for k in range(4)], axis=1)
    cost = np.sum([candidates[k][choice[:, k], 2] for k in range(4)], axis=0)
    level = _Level(choice=choice, xy=xy, unary=cost)
    return _Level(choice=choice, xy=xy, unary=cost + PENALTY * _body_rules(level))


def _body_rules(level: _Level) -> np.ndarray:
    """Per state, the body rules broken: height of each side, depth at each end."""
    a_s, a_i, p_s, p_i = (level.xy[:, k] for k in range(4))
    broken: np.ndarray = (
        _outside(a_i[:, 1] - a_s[:, 1], HEIGHT_MM)
        + _outside(p_i[:, 1] - p_s[:, 1], HEIGHT_MM)
        + _outside(p_s[:, 0] - a_s[:, 0], DEPTH_MM)
        + _outside(p_i[:, 0] - a_i[:, 0], DEPTH_MM)
    )
    return broken


def _outside(values: np.ndarray, limits: tuple[float, float]) -> np.ndarray:
    return ((values < limits[0]) | (values > limits[1])).astype(np.float64)


def _pair(upper: _Level, lower: _Level, skipped: int = 0) -> np.ndarray:
    """(upper states, lower states) cost: the lower body's superior corners must lie below the
    upper body's inferior ones, anteriorly and posteriorly, by SKIPPED_MM per level left out
    between them."""
    gap = SKIPPED_MM * skipped
    anterior = lower.xy[None, :, 0, 1] <= upper.xy[:, None, 1, 1] + gap
    posterior = lower.xy[None, :, 2, 1] <= upper.xy[:, None, 3, 1] + gap
    return PENALTY * (anterior.astype(np.float64) + posterior.astype(np.float64))


def _sound(highest: Sequence[_Level], numbers: Sequence[int]) -> list[bool]:
    """Per level (each given its highest peaks only; `numbers`: their places in C3..C7): its
    body breaks no rule, nor its order with the nearest level above or below whose body breaks
    none (with room for the levels between them)."""
    body_ok = [float(_body_rules(level)[0]) == 0 for level in highest]
    order_ok = [True] * len(highest)
    kept = [k for k, ok in enumerate(body_ok) if ok]
    for i, j in itertools.pairwise(kept):
        if _pair(highest[i], highest[j], numbers[j] - numbers[i] - 1)[0, 0] > 0:
            order_ok[i] = order_ok[j] = False
    return [b and o for b, o in zip(body_ok, order_ok, strict=True)]


def decode_chain(
    candidates: dict[str, list[tuple[float, float, float]]],
) -> dict[str, int]:
    """The chosen peak index of every corner of the levels chosen present, from each corner's
    candidates (x mm, y mm, value), highest first. Levels with a corner without candidates
    are left out; so is everything when fewer than two levels remain."""
    names = [corner_names(level) for level in CHECKED_LEVELS]
    usable = [k for k, level in enumerate(names) if all(candidates.get(n) for n in level)]
    if len(usable) < 2:
        return {}
    per_level = []
    for k in usable:
        per_corner = []
        for name in names[k]:
            rows = np.array(candidates[name], dtype=np.float64)
            rows[:, 2] = -np.log(np.maximum(rows[:, 2], 1e-6) / max(rows[0, 2], 1e-6))
            per_corner.append(rows)
        per_level.append(per_corner)
    # A sound level keeps its highest peaks: only the corners of levels that break a rule
    # move, so that a level out of view can never pull a right one onto its neighbour.
    full = [_level(corners) for corners in per_level]
    highest = [_Level(lv.choice[:1], lv.xy[:1], lv.unary[:1]) for lv in full]  # all peaks 0
    levels = [
        first if keep else level
        for level, first, keep in zip(full, highest, _sound(highest, usable), strict=True)
    ]
    # best[j][s]: the least cost of levels 0..j with level j present in state s (the levels
    # before it present or left out); back_level[j][s] and back_state[j][s]: the previous
    # present level and its state.
    n = len(levels)
    best: list[np.ndarray] = []
    back_level: list[np.ndarray] = []  # -1: the first present level
    back_state: list[np.ndarray] = []
    for j, level in enumerate(levels):
        cost = level.unary + ABSENT * j
        from_level = np.full(len(cost), -1)
        from_state = np.zeros(len(cost), dtype=np.int64)
        for i in range(j):
            skipped = usable[j] - usable[i] - 1
            through = (
                best[i][:, None] + _pair(levels[i], level, skipped) + INTERIOR_ABSENT * (j - i - 1)
            )
            prev = np.argmin(through, axis=0)
            value = through[prev, np.arange(len(cost))] + level.unary
            better = value < cost
            cost = np.where(better, value, cost)
            from_level = np.where(better, i, from_level)
            from_state = np.where(better, prev, from_state)
        best.append(cost)
        back_level.append(from_level)
        back_state.append(from_state)
    totals = [(float(best[j].min()) + ABSENT * (n - 1 - j), j) for j in range(n)]
    total, last = min(totals)
    if total >= ABSENT * n:  # no level is worth keeping
        return {}
    chosen: dict[str, int] = {}
    j, state = last, int(np.argmin(best[last]))
    while j >= 0:
        for name, index in zip(names[usable[j]], levels[j].choice[state].tolist(), strict=True):
            chosen[name] = int(index)
        j, state = int(back_level[j][state]), int(back_state[j][state])
    return chosen
