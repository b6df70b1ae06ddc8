"""Exact planar geometry in physical units: pixel↔mm, shoelace area, chords, hulls, calipers.

Coordinates are labelme's: x = column, y = row, origin at the top-left pixel corner (a pixel
centre is at i + 0.5). Spacing is DICOM PixelSpacing order, (row_mm, col_mm), so a point
(x, y) in pixels lies at (x·col_mm, y·row_mm) in millimetres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
import shapely

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]
Spacing = tuple[float, float]


def check_spacing(spacing: tuple[float, float] | list[float]) -> Spacing:
    """The spacing as (row_mm, col_mm) floats; ValueError unless both are finite and > 0."""
    if len(spacing) != 2:
        raise ValueError(f"pixel spacing needs 2 values (row_mm, col_mm), got {spacing!r}")
    row, col = float(spacing[0]), float(spacing[1])
    if not (math.isfinite(row) and math.isfinite(col) and row > 0 and col > 0):
        raise ValueError(f"pixel spacing must be finite and positive, got {spacing!r}")
    return row, col


def px_to_mm(points: npt.ArrayLike, spacing: Spacing) -> FloatArray:
    """(N, 2) pixel coordinates (x, y) → millimetres (x·col_mm, y·row_mm)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    out: FloatArray = pts * np.array([spacing[1], spacing[0]])
    return out


def mm_to_px(points: npt.ArrayLike, spacing: Spacing) -> FloatArray:
    """(N, 2) millimetre coordinates → pixel coordinates (inverse of `px_to_mm`)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    out: FloatArray = pts / np.array([spacing[1], spacing[0]])
    return out


def shoelace_area(points: FloatArray) -> float:
    """Exact area of a closed polygon (absolute value of the shoelace sum)."""
    if len(points) < 3:
        return 0.0
    x, y = points[:, 0], points[:, 1]
    # Centred coordinates keep the cross products small, so large offsets lose no digits.
    x = x - x.mean()
    y = y - y.mean()
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


@dataclass(frozen=True, eq=False)
class Boundary:
    """The boundary of a region as straight edges between vertices (even-odd inside rule).

    Edges need no orientation or order: a line that crosses the boundary an odd number of
    times since its start is inside, which holds for polygons, polygons with holes and the
    pixel outlines of masks alike.
    """

    vertices: FloatArray  # (V, 2)
    edges: IntArray  # (E, 2) indices into vertices

    def subset(self, keep: BoolArray) -> Boundary:
        """The boundary made of the edges flagged in `keep` (vertices compacted)."""
        edges = self.edges[keep]
        used, inverse = np.unique(edges, return_inverse=True)
        return Boundary(self.vertices[used], inverse.reshape(edges.shape).astype(np.intp))

    def scaled(self, spacing: Spacing) -> Boundary:
        """The same boundary in millimetres (vertices given in pixels)."""
        return Boundary(px_to_mm(self.vertices, spacing), self.edges)


def polygon_boundary(points: FloatArray) -> Boundary:
    """Boundary of a closed polygon given by its vertices (the last joins the first)."""
    n = len(points)
    idx = np.arange(n, dtype=np.intp)
    return Boundary(np.asarray(points, dtype=np.float64), np.stack([idx, (idx + 1) % n], axis=1))


def _runs(flags: BoolArray) -> tuple[IntArray, IntArray, IntArray]:
    """(line, start, stop) of every run of True along axis 1 (stop exclusive)."""
    padded = np.zeros((flags.shape[0], flags.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = flags
    step = np.diff(padded, axis=1)
    line_a, start = np.nonzero(step == 1)
    _, stop = np.nonzero(step == -1)
    return line_a, start, stop


def mask_boundary(mask: BoolArray, origin: tuple[int, int] = (0, 0)) -> Boundary:
    """Outline of a mask's pixel squares, in pixel coordinates, as merged straight runs.

    `origin` is the (row, col) of mask[0, 0] in the image. Collinear unit edges are merged
    into one edge per run; for even-odd crossing counts that is the same boundary.
    """
    r0, c0 = origin
    padded = np.pad(np.asarray(mask, dtype=bool), 1)
    # Horizontal edges: between padded rows i and i+1, i.e. at y = r0 + i.
    horiz = padded[1:, :] != padded[:-1, :]
    hi, hs, he = _runs(horiz)
    # Vertical edges: between padded columns j and j+1, i.e. at x = c0 + j.
    vert = (padded[:, 1:] != padded[:, :-1]).T
    vj, vs, ve = _runs(vert)
    starts = np.concatenate(
        [
            np.stack([c0 + hs - 1, r0 + hi], axis=1),
            np.stack([c0 + vj, r0 + vs - 1], axis=1),
        ]
    ).astype(np.float64)
    stops = np.concatenate(
        [
            np.stack([c0 + he - 1, r0 + hi], axis=1),
            np.stack([c0 + vj, r0 + ve - 1], axis=1),
        ]
    ).astype(np.float64)
    n = len(starts)
    vertices = np.concatenate([starts, stops])
    idx = np.arange(n, dtype=np.intp)
    return Boundary(vertices, np.stack([idx, idx + n], axis=1))


def boundary_crossings(
    boundary: Boundary, origins: FloatArray, directions: FloatArray
) -> tuple[IntArray, FloatArray]:
    """Every crossing of the lines origin + t·direction with the boundary, sorted by (line, t).

    Returns (line index, t). `directions` must be unit vectors so that t is a length. A
    vertex exactly on a line counts as lying on its negative side (the half-open rule of
    point-in-polygon tests), which is the exact answer for a line shifted infinitesimally
    and keeps the number of crossings even.
    """
    if len(boundary.edges) == 0 or len(origins) == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0)
    perp_x, perp_y = -directions[:, 1], directions[:, 0]
    offset = origins[:, 0] * perp_x + origins[:, 1] * perp_y
    vx, vy = boundary.vertices[:, 0:1], boundary.vertices[:, 1:2]
    # Signed distances of every vertex to every line, computed once per vertex so that an
    # edge's end and the next edge's start always fall on the same side.
    side = vx * perp_x + vy * perp_y - offset  # (V, L)
    sa = side[boundary.edges[:, 0]]
    sb = side[boundary.edges[:, 1]]
    edge_idx, line_idx = np.nonzero((sa > 0) != (sb > 0))
    a = boundary.vertices[boundary.edges[edge_idx, 0]]
    b = boundary.vertices[boundary.edges[edge_idx, 1]]
    da = sa[edge_idx, line_idx]
    lam = da / (da - sb[edge_idx, line_idx])
    point = a + lam[:, None] * (b - a)
    rel = point - origins[line_idx]
    t = rel[:, 0] * directions[line_idx, 0] + rel[:, 1] * directions[line_idx, 1]
    order = np.lexsort((t, line_idx))
    return line_idx[order], t[order]


def closest_runs(
    boundary: Boundary, origins: FloatArray, directions: FloatArray, *, merge_gap: float = 0.0
) -> tuple[FloatArray, FloatArray]:
    """Per line, the (t_start, t_end) of the inside run nearest to t = 0; NaN where none.

    A run is one connected stretch of the line inside the region; its distance to the
    origin is 0 when it contains t = 0, otherwise that of its nearer end. Runs separated
    by gaps of at most `merge_gap` count as one (see `Region.merge_gap_mm`).
    """
    line, t = boundary_crossings(boundary, origins, directions)
    return nearest_runs(line, t, len(origins), merge_gap=merge_gap)


_TOUCH = 1e-9  # mm: crossings closer than this are the same point


def nearest_runs(
    line: IntArray, t: FloatArray, n_lines: int, *, merge_gap: float = 0.0
) -> tuple[FloatArray, FloatArray]:
    """From crossings sorted by (line, t): each line's inside run nearest to t = 0."""
    t0 = np.full(n_lines, np.nan)
    t1 = np.full(n_lines, np.nan)
    if len(t) == 0:
        return t0, t1
    counts = np.bincount(line, minlength=n_lines)
    first = np.cumsum(counts) - counts
    rank = np.arange(len(t)) - first[line]
    # Pair crossings (0,1), (2,3), ...; an unpaired last crossing (open input) is dropped.
    is_start = (rank % 2 == 0) & (rank + 1 < counts[line])
    starts = np.nonzero(is_start)[0]
    run_line = line[starts]
    a, b = t[starts], t[starts + 1]
    if len(a) > 1:
        # Runs that touch (a line through a vertex can split one) or are closer than
        # merge_gap are one run.
        new = np.ones(len(a), dtype=bool)
        new[1:] = (run_line[1:] != run_line[:-1]) | (a[1:] - b[:-1] > max(merge_gap, _TOUCH))
        heads = np.nonzero(new)[0]
        tails = np.append(heads[1:], len(a)) - 1
        run_line, a, b = run_line[heads], a[heads], b[tails]
    # A run of no length is a line grazing a vertex: not a chord.
    real = b - a > _TOUCH
    run_line, a, b = run_line[real], a[real], b[real]
    if len(a) == 0:
        return t0, t1
    dist = np.where((a <= 0.0) & (b >= 0.0), 0.0, np.minimum(np.abs(a), np.abs(b)))
    order = np.lexsort((dist, run_line))
    _, pick = np.unique(run_line[order], return_index=True)
    chosen = order[pick]
    t0[run_line[chosen]] = a[chosen]
    t1[run_line[chosen]] = b[chosen]
    return t0, t1


def frame_chords(
    boundary: Boundary,
    *,
    origin: FloatArray,
    u: FloatArray,
    n: FloatArray,
    frame: IntArray,
    position: FloatArray,
    merge_gap: float = 0.0,
) -> tuple[FloatArray, FloatArray]:
    """Nearest inside runs of lines given in local frames (the hot path of MSCC layers).

    Frame k has an origin and orthonormal axes u[k], n[k]; line i runs along n[frame[i]]
    through origin + position[i]·u (its foot), and t is measured along n from the foot.
    Lines of one frame are parallel, so every vertex is projected once per frame, and an
    edge whose ends lie at a and b along u crosses exactly the lines at positions p with
    min(a, b) <= p < max(a, b) (the half-open rule: (a > p) != (b > p)). With the lines
    sorted, those are found by binary search, so the work grows with the crossings, not
    with edges x lines.
    """
    n_lines = len(frame)
    if n_lines == 0 or len(boundary.edges) == 0:
        return np.full(n_lines, np.nan), np.full(n_lines, np.nan)
    v = boundary.vertices
    along = v @ u.T - np.einsum("ij,ij->i", origin, u)  # (V, frames)
    across = v @ n.T - np.einsum("ij,ij->i", origin, n)
    ia, ib = boundary.edges[:, 0], boundary.edges[:, 1]
    # One sorted key per line: frame k's positions shifted by k·width, so a single binary
    # search serves all frames. Edge ends are clipped to just outside their frame's span
    # first; the shift rounds every value the same way wherever it is used, so each
    # vertex still falls on one consistent side of each line.
    span = float(np.max(position)) + 2.0
    width = 2.0 * span + 2.0
    order = np.lexsort((position, frame))
    key = position[order] + frame[order] * width
    shift = np.arange(len(u)) * width
    a = np.clip(along[ia], -1.0, span) + shift  # (E, frames)
    b = np.clip(along[ib], -1.0, span) + shift
    start = np.searchsorted(key, np.minimum(a, b).ravel(), side="left")
    count = np.searchsorted(key, np.maximum(a, b).ravel(), side="left") - start
    total = int(count.sum())
    if total == 0:
        return np.full(n_lines, np.nan), np.full(n_lines, np.nan)
    pair = np.repeat(np.arange(len(count)), count)  # flat (edge, frame) index
    # Consecutive sorted lines per pair: the start of its block plus 0, 1, 2, ...
    j = np.repeat(start - (np.cumsum(count) - count), count) + np.arange(total)
    edge, k = np.divmod(pair, len(u))
    line = order[j]
    ea, eb = ia[edge], ib[edge]
    pa, pb = along[ea, k], along[eb, k]
    lam = (position[line] - pa) / (pb - pa)
    ca = across[ea, k]
    t = ca + lam * (across[eb, k] - ca)
    by_line = np.lexsort((t, line))
    return nearest_runs(line[by_line], t[by_line], n_lines, merge_gap=merge_gap)


def convex_hull(points: FloatArray) -> FloatArray:
    """Vertices of the convex hull (no repeated closing vertex); 1 or 2 rows when degenerate.

    OpenCV picks the hull's vertices (on centred float32 copies, which only matters for
    points within ~1e-7 of an edge); the returned vertices are the exact float64 inputs.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) >= 3:
        centred = (pts - pts.mean(axis=0)).astype(np.float32)
        index = cv2.convexHull(centred, returnPoints=False)
        if index is not None and len(index) >= 3:
            hull: FloatArray = pts[np.asarray(index).ravel()]
            if shoelace_area(hull) > 0:
                return hull
    if len(pts) == 0:
        return pts
    # Degenerate (collinear or repeated) points: shapely returns a line or a point.
    geom = shapely.convex_hull(shapely.multipoints(pts))
    if isinstance(geom, shapely.Polygon):
        return np.asarray(geom.exterior.coords, dtype=np.float64)[:-1]
    return np.unique(np.asarray(shapely.get_coordinates(geom), dtype=np.float64), axis=0)


def hull_area(hull: FloatArray) -> float:
    """Area of a convex hull returned by `convex_hull` (0 when degenerate)."""
    return shoelace_area(hull) if len(hull) >= 3 else 0.0


@dataclass(frozen=True)
class Chord:
    """A measured chord, end points in image pixel coordinates (for drawing on the image)."""

    name: str
    start: tuple[float, float]
    end: tuple[float, float]
    length_mm: float


@dataclass(frozen=True)
class Rectangle:
    """Minimum-area enclosing rectangle (OpenCV `minAreaRect` semantics)."""

    centre: tuple[float, float]
    long_side: float
    short_side: float
    long_direction: tuple[float, float]  # unit vector along the long side
    corners: tuple[tuple[float, float], ...]  # 4 corners, in order around the rectangle


@dataclass(frozen=True)
class Caliper:
    """Minimum width of a convex hull and the chord that realises it."""

    width: float
    start: tuple[float, float]  # the hull vertex farthest from the supporting edge
    end: tuple[float, float]  # its foot on the supporting edge's line


def _edge_frames(hull: FloatArray) -> tuple[FloatArray, FloatArray]:
    edges = np.roll(hull, -1, axis=0) - hull
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    keep = lengths > 0
    u = edges[keep] / lengths[keep, None]
    return u, np.stack([-u[:, 1], u[:, 0]], axis=1)


def _pt(p: FloatArray) -> tuple[float, float]:
    return float(p[0]), float(p[1])


def min_area_rectangle(hull: FloatArray) -> Rectangle:
    """Rotating calipers: the minimum-area rectangle has a side along a hull edge."""
    if len(hull) < 3:
        return _degenerate_rectangle(hull)
    u, n = _edge_frames(hull)
    centre0 = hull.mean(axis=0)
    rel = hull - centre0
    pu = rel @ u.T  # (points, edges)
    pn = rel @ n.T
    umin, umax = pu.min(axis=0), pu.max(axis=0)
    nmin, nmax = pn.min(axis=0), pn.max(axis=0)
    area = (umax - umin) * (nmax - nmin)
    k = int(np.argmin(area))
    along, across = float(umax[k] - umin[k]), float(nmax[k] - nmin[k])
    uk, nk = u[k], n[k]
    corners = [
        centre0 + uk * cu + nk * cn
        for cu, cn in (
            (umin[k], nmin[k]),
            (umax[k], nmin[k]),
            (umax[k], nmax[k]),
            (umin[k], nmax[k]),
        )
    ]
    centre = centre0 + uk * (umin[k] + umax[k]) / 2 + nk * (nmin[k] + nmax[k]) / 2
    long_dir = uk if along >= across else nk
    return Rectangle(
        centre=_pt(centre),
        long_side=max(along, across),
        short_side=min(along, across),
        long_direction=_pt(long_dir),
        corners=tuple(_pt(c) for c in corners),
    )


def _degenerate_rectangle(hull: FloatArray) -> Rectangle:
    if len(hull) == 0:
        return Rectangle((math.nan, math.nan), 0.0, 0.0, (1.0, 0.0), ())
    a, b = hull[0], hull[-1]
    d = b - a
    length = float(np.hypot(d[0], d[1]))
    direction = _pt(d / length) if length > 0 else (1.0, 0.0)
    centre = _pt((a + b) / 2)
    return Rectangle(centre, length, 0.0, direction, (_pt(a), _pt(b), _pt(b), _pt(a)))


def min_caliper(hull: FloatArray) -> Caliper:
    """Minimum width of a convex polygon: attained normal to one of its edges."""
    if len(hull) < 3:
        p = _pt(hull[0]) if len(hull) else (math.nan, math.nan)
        return Caliper(0.0, p, p)
    _, n = _edge_frames(hull)
    centre0 = hull.mean(axis=0)
    rel = hull - centre0
    pn = rel @ n.T
    # Which edge each frame came from: edges of zero length were dropped in _edge_frames.
    edges = np.roll(hull, -1, axis=0) - hull
    keep = np.nonzero(np.hypot(edges[:, 0], edges[:, 1]) > 0)[0]
    # The hull's own edge lies at one extreme of pn; the width is the spread.
    width = pn.max(axis=0) - pn.min(axis=0)
    k = int(np.argmin(width))
    edge_start = hull[keep[k]]
    on_edge = float((edge_start - centre0) @ n[k])
    far = int(np.argmax(np.abs(pn[:, k] - on_edge)))
    start = hull[far]
    end = start - n[k] * (pn[far, k] - on_edge)
    return Caliper(float(width[k]), _pt(start), _pt(end))


def rasterize_polygon(points: FloatArray, image_shape: tuple[int, int]) -> BoolArray:
    """Pixels whose centre (i + 0.5) lies inside the polygon (even-odd rule), image-sized.

    A centre exactly on an edge follows the half-open rules y ∈ [y_lo, y_hi) for edges and
    x ∈ (x_left, x_right] along a row, so shared edges assign each pixel once.
    """
    rows, cols = image_shape
    mask = np.zeros((rows, cols), dtype=bool)
    pts = np.asarray(points, dtype=np.float64)
    if len(pts) < 3:
        return mask
    x0, y0 = pts[:, 0], pts[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    y_lo, y_hi = np.minimum(y0, y1), np.maximum(y0, y1)
    first = max(int(np.floor(y_lo.min() - 0.5)), 0)
    last = min(int(np.ceil(y_hi.max() - 0.5)), rows - 1)
    if last < first:
        return mask
    centres = np.arange(first, last + 1, dtype=np.float64) + 0.5
    hit = (y_lo[None, :] <= centres[:, None]) & (centres[:, None] < y_hi[None, :])
    row, edge = np.nonzero(hit)
    if len(row) == 0:
        return mask
    xa, ya, xb, yb = x0[edge], y0[edge], x1[edge], y1[edge]
    xc = xa + (centres[row] - ya) * (xb - xa) / (yb - ya)
    # Each crossing toggles the pixels whose centre lies strictly to its right.
    start = np.clip(np.floor(xc - 0.5).astype(np.int64) + 1, 0, cols)
    toggles = np.zeros((last - first + 1, cols + 1), dtype=np.int32)
    np.add.at(toggles, (row, start), 1)
    mask[first : last + 1] = (np.cumsum(toggles[:, :cols], axis=1) % 2).astype(bool)
    return mask
