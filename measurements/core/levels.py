"""Which axial image sits at which disc level, from a read's sagittal vertebral corners.

The label template has the 20 corners C3_AS, C3_AI, C3_PS, C3_PI … C7_PI (anterior/posterior,
superior/inferior) and no C2 or T1 corners. In patient space (LPS mm, see
measurements.core.patient):

- a vertebra's superior endplate runs from its AS to its PS corner, its inferior endplate
  from AI to PI; an endplate's centre is the mean of its two corners;
- disc Cn/n+1 (C3/4 … C6/7) is centred at the mean of Cn's inferior and Cn+1's superior
  corners; its axis is the mean of the two endplates' normals (each endplate's normal lies in
  the plane of the endplate and the line joining the endplate centres, pointing inferior),
  and its height the distance between the endplate centres along that axis;
- C2/3 has no C2 corners to measure: its centre is placed above C3's superior endplate by
  half the mean measured disc height, along that endplate's normal; C7/T1 likewise below
  C7's inferior endplate. Both are marked ``estimated``; without a measured disc they are
  not placed.
- With corners left out (a model's pre-label, a hurried read), a disc with at least one
  corner of each endplate is still placed, between the endplates' corner means, its axis
  along the two vertebrae's anterior/posterior walls (superior → inferior corner) or,
  lacking those, the first principal direction of all the corners; a note says so.

Each level takes the axial image whose plane passes closest to the disc centre (distance
along the plane's own normal, so oblique stacks work), provided that distance is within
``tolerance = half the disc height + half the slice spacing`` (LEVEL_TOLERANCE), the plane
faces the spine (its normal within MAX_TILT_DEG of the disc axis) and the disc's posterior
margin (at the canal, which an axial image of the cord shows) projects into the image, with
a disc height of slack.
An image takes at most one level (the closest first).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from measurements.core.labelme import KEYPOINT_PATTERN
from measurements.core.morphometry import normalise_level
from measurements.core.patient import SliceGeometry

VERTEBRAE: tuple[str, ...] = ("C3", "C4", "C5", "C6", "C7")
# The discs the corners measure: (upper, lower) vertebra.
MEASURED: tuple[tuple[str, str], ...] = tuple(
    (VERTEBRAE[i], VERTEBRAE[i + 1]) for i in range(len(VERTEBRAE) - 1)
)
LEVEL_TOLERANCE = "half the disc height + half the slice spacing"
# An axial plane tilted further than this from the disc does not cut it (a sagittal or
# coronal image passed by mistake never takes a level).
MAX_TILT_DEG = 45.0


@dataclass(frozen=True)
class Disc:
    level: str  # "C2/3" … "C7/T1"
    centre: tuple[float, float, float]  # LPS mm
    axis: tuple[float, float, float]  # unit, pointing inferior
    height_mm: float
    estimated: bool  # C2/3 and C7/T1: placed from the mean disc height
    # The disc's posterior margin (mean of its posterior corners), at the canal: every axial
    # image of the cord shows it, even one whose field of view leaves the disc centre out.
    posterior: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class AxialPlane:
    image_id: int
    geometry: SliceGeometry
    slice_spacing_mm: float | None  # of its series (None: unknown, counted as 0)


@dataclass(frozen=True)
class LevelAssignment:
    level: str
    image_id: int
    distance_mm: float  # from the disc centre to the image plane
    tolerance_mm: float
    estimated: bool


@dataclass(frozen=True)
class DiscLevels:
    discs: tuple[Disc, ...]
    assignments: tuple[LevelAssignment, ...]
    notes: tuple[str, ...]  # why a level has no image, or why there are no discs at all

    def by_image(self) -> dict[int, LevelAssignment]:
        return {a.image_id: a for a in self.assignments}


def _unit(v: np.ndarray) -> np.ndarray | None:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 and math.isfinite(n) else None


def _endplate(
    corners: Mapping[str, np.ndarray], vertebra: str, side: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(centre, anterior→posterior vector, posterior corner) of a vertebra's superior ("S")
    or inferior ("I") endplate, or None when a corner is missing."""
    a, p = corners.get(f"{vertebra}_A{side}"), corners.get(f"{vertebra}_P{side}")
    if a is None or p is None:
        return None
    return (a + p) / 2.0, p - a, p


def _normal(along: np.ndarray, towards: np.ndarray) -> np.ndarray | None:
    """The unit normal of an endplate (vector `along`) in the plane it spans with `towards`,
    on the side of `towards`."""
    e = _unit(along)
    if e is None:
        return None
    return _unit(towards - float(np.dot(towards, e)) * e)


def _tuple(v: np.ndarray) -> tuple[float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]))


def _wall_axis(corners: Mapping[str, np.ndarray], vertebrae: Sequence[str]) -> np.ndarray | None:
    """The column's local axis (pointing inferior) from the anterior and posterior walls
    (superior → inferior corner) of the given vertebrae, where both corners of a wall exist."""
    dirs = []
    for v in vertebrae:
        for side in ("A", "P"):
            top, bottom = corners.get(f"{v}_{side}S"), corners.get(f"{v}_{side}I")
            u = _unit(bottom - top) if top is not None and bottom is not None else None
            if u is not None:
                dirs.append(u)
    return _unit(np.sum(dirs, axis=0)) if dirs else None


def _column_axis(corners: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """The long axis of all the corners (their first principal direction, pointing from C3
    towards C7), when they span at least twice as far along it as across it."""
    if len(corners) < 3:
        return None
    labels = sorted(corners)
    pts = np.stack([corners[k] for k in labels])
    centred = pts - pts.mean(axis=0)
    _, sv, vt = np.linalg.svd(centred, full_matrices=False)
    if sv[0] < 2.0 * sv[1]:
        return None
    axis: np.ndarray = vt[0]
    # Order along the column: vertebra number, inferior corners half a vertebra lower.
    rank = np.asarray([int(k[1]) + (0.5 if k[-1] == "I" else 0.0) for k in labels])
    if float(np.dot(rank - rank.mean(), centred @ axis)) < 0:
        axis = -axis
    return axis


def _points(corners: Mapping[str, np.ndarray], names: Sequence[str]) -> list[np.ndarray]:
    return [corners[n] for n in names if n in corners]


def _full_disc(
    corners: Mapping[str, np.ndarray], upper: str, lower: str, level: str
) -> Disc | None:
    """A disc from all four corners: its axis the mean of the endplate normals."""
    top, bottom = _endplate(corners, upper, "I"), _endplate(corners, lower, "S")
    if top is None or bottom is None:
        return None
    gap = bottom[0] - top[0]
    n1, n2 = _normal(top[1], gap), _normal(bottom[1], gap)
    axis = _unit(n1 + n2) if n1 is not None and n2 is not None else None
    if axis is None:
        return None
    return Disc(
        level=level,
        centre=_tuple((top[0] + bottom[0]) / 2.0),
        axis=_tuple(axis),
        height_mm=abs(float(np.dot(gap, axis))),
        estimated=False,
        posterior=_tuple((top[2] + bottom[2]) / 2.0),
    )


def _partial_disc(
    corners: Mapping[str, np.ndarray],
    upper: str,
    lower: str,
    level: str,
    column: np.ndarray | None,
) -> Disc | None:
    """A disc from at least one corner of each endplate: centre between the endplates'
    corner means, axis along the two vertebrae's walls (else the whole column's), height
    from the matching anterior or posterior corner pairs along it."""
    top = _points(corners, (f"{upper}_AI", f"{upper}_PI"))
    bottom = _points(corners, (f"{lower}_AS", f"{lower}_PS"))
    axis = _wall_axis(corners, (upper, lower))
    axis = column if axis is None else axis
    if not top or not bottom or axis is None:
        return None
    top_c, bottom_c = np.mean(top, axis=0), np.mean(bottom, axis=0)
    pairs = [
        corners[f"{lower}_{side}S"] - corners[f"{upper}_{side}I"]
        for side in ("A", "P")
        if f"{lower}_{side}S" in corners and f"{upper}_{side}I" in corners
    ]
    gaps = pairs or [bottom_c - top_c]
    height = float(np.mean([abs(float(np.dot(g, axis))) for g in gaps]))
    centre = (top_c + bottom_c) / 2.0
    posterior = _points(corners, (f"{upper}_PI", f"{lower}_PS"))
    back = np.mean(posterior, axis=0) if posterior else centre
    return Disc(level, _tuple(centre), _tuple(axis), height, False, _tuple(back))


def _measured_discs(corners: Mapping[str, np.ndarray]) -> tuple[list[Disc], list[str]]:
    discs: list[Disc] = []
    notes: list[str] = []
    column = _column_axis(corners)
    for upper, lower in MEASURED:
        level = f"{upper}/{lower[1:]}"
        disc = _full_disc(corners, upper, lower, level)
        if disc is None:
            disc = _partial_disc(corners, upper, lower, level, column)
            if disc is not None:
                used = len(_points(corners, _disc_corners(upper, lower)))
                notes.append(f"{level}: placed from {used} of its 4 corners")
        if disc is None:
            notes.append(f"{level}: corners of {upper}'s inferior or {lower}'s superior missing")
            continue
        discs.append(disc)
    return discs, notes


def _disc_corners(upper: str, lower: str) -> tuple[str, ...]:
    return (f"{upper}_AI", f"{upper}_PI", f"{lower}_AS", f"{lower}_PS")


def _end_disc(
    corners: Mapping[str, np.ndarray],
    *,
    vertebra: str,
    side: str,
    level: str,
    height: float,
    column: np.ndarray | None,
) -> Disc | None:
    """C2/3 above C3 (side "S") or C7/T1 below C7 (side "I"), half a disc height away along
    the endplate's normal (all four corners of the vertebra), else along the vertebra's
    walls or the column's axis from whichever corners of that endplate exist."""
    opposite = "I" if side == "S" else "S"
    plate, other = _endplate(corners, vertebra, side), _endplate(corners, vertebra, opposite)
    if plate is not None and other is not None:
        # Towards the vertebra's other endplate, so "inferior" for C7's body seen from C3's.
        inward = _normal(plate[1], other[0] - plate[0])
        point, back = plate[0], plate[2]
    else:
        found = _points(corners, (f"{vertebra}_A{side}", f"{vertebra}_P{side}"))
        down = _wall_axis(corners, (vertebra,))
        down = column if down is None else down
        if not found or down is None:
            return None
        inward = down if side == "S" else -down
        point = np.mean(found, axis=0)
        back = corners.get(f"{vertebra}_P{side}", point)
    if inward is None:
        return None
    outward = -inward
    centre = point + outward * (height / 2.0)
    axis = inward if side == "S" else outward  # pointing inferior
    posterior = back + outward * (height / 2.0)
    return Disc(level, _tuple(centre), _tuple(axis), height, True, _tuple(posterior))


def disc_centres(corners: Mapping[str, Sequence[float]]) -> tuple[list[Disc], list[str]]:
    """The discs C2/3 … C7/T1 that the corners place (LPS mm), and notes on those they do not."""
    pts = {k: np.asarray(v, dtype=np.float64) for k, v in corners.items()}
    pts = {
        k: v
        for k, v in pts.items()
        if KEYPOINT_PATTERN.match(k) and v.shape == (3,) and bool(np.all(np.isfinite(v)))
    }
    measured, notes = _measured_discs(pts)
    if not measured:
        return [], [*notes, "C2/3, C7/T1: no measured disc height to place them by"]
    height = float(np.mean([d.height_mm for d in measured]))
    column = _column_axis(pts)
    out: list[Disc] = []
    for vertebra, side, level in (("C3", "S", "C2/3"), ("C7", "I", "C7/T1")):
        disc = _end_disc(
            pts, vertebra=vertebra, side=side, level=level, height=height, column=column
        )
        if disc is None:
            notes.append(f"{level}: {vertebra}'s corners missing")
        else:
            out.append(disc)
    discs = sorted([*measured, *out], key=lambda d: _ORDER.index(d.level))
    return discs, notes


_ORDER: tuple[str, ...] = ("C2/3", "C3/4", "C4/5", "C5/6", "C6/7", "C7/T1")


def _candidate(disc: Disc, plane: AxialPlane) -> tuple[float, float] | None:
    """(distance, tolerance) of a plane for a disc, or None when the plane cannot cut it."""
    centre = np.asarray(disc.centre)
    normal = plane.geometry.normal
    cos_tilt = abs(float(np.dot(normal, np.asarray(disc.axis))))
    if cos_tilt < math.cos(math.radians(MAX_TILT_DEG)):
        return None
    # The field of view must reach the canal behind the disc (a disc height of slack).
    if not plane.geometry.contains_projection(np.asarray(disc.posterior), margin_mm=disc.height_mm):
        return None
    spacing = plane.slice_spacing_mm if plane.slice_spacing_mm is not None else 0.0
    tolerance = disc.height_mm / 2.0 + max(spacing, 0.0) / 2.0
    return abs(plane.geometry.signed_distance(centre)), tolerance


def assign_levels(
    corners: Mapping[str, Sequence[float]], planes: Sequence[AxialPlane]
) -> DiscLevels:
    """Per disc level, the axial image closest to its centre within tolerance (see module)."""
    discs, notes = disc_centres(corners)
    candidates: list[tuple[float, int, LevelAssignment]] = []
    for disc in discs:
        for plane in planes:
            found = _candidate(disc, plane)
            if found is None or found[0] > found[1]:
                continue
            distance, tolerance = found
            assignment = LevelAssignment(
                disc.level, plane.image_id, distance, tolerance, disc.estimated
            )
            candidates.append((distance, plane.image_id, assignment))
    taken_levels: set[str] = set()
    taken_images: set[int] = set()
    chosen: list[LevelAssignment] = []
    for _, image_id, assignment in sorted(candidates, key=lambda c: (c[0], c[1])):
        if assignment.level in taken_levels or image_id in taken_images:
            continue
        taken_levels.add(assignment.level)
        taken_images.add(image_id)
        chosen.append(assignment)
    for disc in discs:
        if disc.level not in taken_levels:
            notes.append(f"{disc.level}: no axial image within {LEVEL_TOLERANCE}")
    chosen.sort(key=lambda a: _ORDER.index(a.level))
    return DiscLevels(discs=tuple(discs), assignments=tuple(chosen), notes=tuple(notes))


def _corner_point(shape: object) -> tuple[str, float, float] | None:
    if not isinstance(shape, Mapping) or shape.get("shape_type", "point") != "point":
        return None
    label, points = shape.get("label"), shape.get("points")
    if not isinstance(label, str) or not KEYPOINT_PATTERN.match(label):
        return None
    if not isinstance(points, Sequence) or len(points) != 1:
        return None
    xy = points[0]
    if not isinstance(xy, Sequence) or len(xy) != 2:
        return None
    try:
        x, y = float(xy[0]), float(xy[1])
    except (TypeError, ValueError):
        return None
    return (label, x, y) if math.isfinite(x) and math.isfinite(y) else None


def corners_in_patient_space(
    shapes: Mapping[str, object], sagittal: Mapping[int, SliceGeometry | str]
) -> tuple[dict[str, list[float]], list[str]]:
    """The vertebral corners (point shapes C3_AS … C7_PI) a read placed on its sagittal
    images, in LPS mm; a corner placed on several sagittal images is their mean. `shapes`
    is a revision's {"<image id>": [labelme shape, ...]}; `sagittal` the geometry (or why
    there is none) of the sagittal images. Notes say which corners could not be placed."""
    found: dict[str, list[np.ndarray]] = {}
    notes: list[str] = []
    for key, image_shapes in shapes.items():
        if not key.isdigit() or int(key) not in sagittal or not isinstance(image_shapes, list):
            continue
        points = [p for p in (_corner_point(s) for s in image_shapes) if p is not None]
        geometry = sagittal[int(key)]
        if points and isinstance(geometry, str):
            notes.append(f"corners on image {key} not placed: {geometry}")
            continue
        if not isinstance(geometry, SliceGeometry):
            continue
        for label, x, y in points:
            found.setdefault(label, []).append(geometry.to_patient(x, y))
    corners = {k: [float(c) for c in np.mean(v, axis=0)] for k, v in sorted(found.items())}
    return corners, notes


def flag_levels(flags: Mapping[str, Mapping[str, Any]]) -> dict[int, str]:
    """{image id: disc level} from labelme image flags named like a level and set true
    ({"<image id>": {"C4/5": true}}), as a labelme file or a person tags an axial slice."""
    levels: dict[int, str] = {}
    for key, entry in flags.items():
        for name, on in entry.items():
            level = normalise_level(str(name)) if on is True else None
            if level is not None and key.isdigit():
                levels[int(key)] = level
    return levels


FLAG = "flag"
CORNERS = "corners"


@dataclass(frozen=True)
class ImageLevel:
    """The disc level of one axial image and where it came from."""

    level: str
    source: str  # FLAG (a labelme image flag) or CORNERS (assign_levels)
    distance_mm: float | None = None  # CORNERS: disc centre to image plane
    estimated: bool = False  # CORNERS: C2/3 or C7/T1, placed from the mean disc height


def merged_levels(flags: Mapping[int, str], auto: DiscLevels) -> dict[int, ImageLevel]:
    """{image id: level}: explicit image flags win. An image that is flagged, or a level that
    is flagged on any image, takes nothing from the corners."""
    flagged = set(flags.values())
    out = {
        a.image_id: ImageLevel(a.level, CORNERS, a.distance_mm, a.estimated)
        for a in auto.assignments
        if a.image_id not in flags and a.level not in flagged
    }
    out.update({image: ImageLevel(level, FLAG) for image, level in flags.items()})
    return out
