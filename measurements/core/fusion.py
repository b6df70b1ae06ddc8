"""Fusing several reads of one structure into one: masks by majority vote or STAPLE
(SimpleITK's `STAPLEImageFilter`), keypoints by their mean, with the provenance to record.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt
import shapely
from scipy import ndimage

from measurements.core.geometry import BoolArray, FloatArray
from measurements.core.labelme import parse_shapes

TieRule = Literal["out", "in"]
FusionMethod = Literal["copy", "majority_vote", "staple", "mean"]
Point = tuple[float, float]

STAPLE_THRESHOLD = 0.5
STAPLE_MAX_ITERATIONS = 100  # bounds the time of a request; real slices converge in < 20


class FusionError(ValueError):
    """Reads that cannot be fused; the message names the read and the problem."""


def _binary(mask: npt.ArrayLike, index: int) -> BoolArray:
    arr = np.asarray(mask)
    if arr.ndim not in (2, 3):
        raise FusionError(f"mask {index} must be 2-D (a slice) or 3-D, got shape {arr.shape}")
    if arr.size == 0:
        raise FusionError(f"mask {index} has no pixels (shape {arr.shape})")
    if arr.dtype == np.bool_:
        return arr
    if not np.issubdtype(arr.dtype, np.number) or not np.isin(arr, (0, 1)).all():
        raise FusionError(f"mask {index} must hold only 0/1 or True/False values")
    out: BoolArray = arr != 0
    return out


def _stack(masks: Sequence[npt.ArrayLike]) -> BoolArray:
    """The reads' masks as one (reads, ...) bool array; FusionError unless they share a grid."""
    if len(masks) == 0:
        raise FusionError("no masks to fuse: give the mask of at least one read")
    arrays = [_binary(m, i) for i, m in enumerate(masks)]
    first = arrays[0].shape
    for i, arr in enumerate(arrays[1:], start=1):
        if arr.shape != first:
            raise FusionError(
                f"mask {i} has shape {arr.shape} but mask 0 has {first}: "
                "fused masks must lie on one image grid"
            )
    return np.stack(arrays)


def majority_vote(masks: Sequence[npt.ArrayLike], *, tie: TieRule = "out") -> BoolArray:
    """Pixels that more than half of the reads have.

    With an even number of reads a pixel that exactly half of them have is a tie: `tie="out"`
    (the default, a strict majority) leaves it out, `tie="in"` takes it in. One read fuses to
    itself. FusionError on no masks, masks of different shapes or non-binary values.
    """
    if tie not in get_args(TieRule):
        raise FusionError(f"tie must be one of {get_args(TieRule)}, got {tie!r}")
    stack = _stack(masks)
    votes = stack.sum(axis=0, dtype=np.int32) * 2
    out: BoolArray = votes >= len(stack) if tie == "in" else votes > len(stack)
    return out


@dataclass(frozen=True, eq=False)
class StapleResult:
    """STAPLE's estimate of the true structure and of each read's quality.

    `probability` is the per-pixel probability of the true structure, `mask` the pixels
    whose probability is above the threshold; `sensitivity` and `specificity` hold one
    value per read, in the order the reads were given.
    """

    mask: BoolArray
    probability: FloatArray
    sensitivity: tuple[float, ...]
    specificity: tuple[float, ...]
    iterations: int


def staple(
    masks: Sequence[npt.ArrayLike],
    *,
    threshold: float = STAPLE_THRESHOLD,
    confidence_weight: float = 1.0,
    max_iterations: int = STAPLE_MAX_ITERATIONS,
) -> StapleResult:
    """STAPLE (Warfield 2004) of binary reads by SimpleITK's `STAPLEImageFilter`.

    The filter runs on the whole grid given (its prior is the foreground share of that grid,
    so a crop changes the estimate). A pixel is in the fused mask when its probability is
    strictly above `threshold`. Where the filter's estimate is undefined (every read empty,
    or every read full) the reads agree trivially: the result is that mask, probability 0
    or 1 and every sensitivity and specificity 1.0.
    """
    if not 0.0 < threshold < 1.0:
        raise FusionError(f"threshold must lie strictly between 0 and 1, got {threshold}")
    if not (math.isfinite(confidence_weight) and confidence_weight > 0):
        raise FusionError(f"confidence_weight must be positive, got {confidence_weight}")
    if max_iterations < 1:
        raise FusionError(f"max_iterations must be at least 1, got {max_iterations}")
    stack = _stack(masks)
    if not stack.any() or stack.all():
        return _unanimous(stack)
    # Imported here: SimpleITK costs ~0.4 s and ~100 MB per process that imports the core.
    import SimpleITK

    images = [SimpleITK.GetImageFromArray(m.view(np.uint8)) for m in stack]
    fusion: Any = SimpleITK.STAPLEImageFilter()  # type: ignore[no-untyped-call]
    fusion.SetForegroundValue(1.0)
    fusion.SetConfidenceWeight(float(confidence_weight))
    fusion.SetMaximumIterations(int(max_iterations))
    probability = np.asarray(SimpleITK.GetArrayFromImage(fusion.Execute(images)), dtype=np.float64)
    sensitivity = tuple(float(v) for v in fusion.GetSensitivity())
    specificity = tuple(float(v) for v in fusion.GetSpecificity())
    if not np.isfinite(probability).all() or not np.isfinite(sensitivity + specificity).all():
        raise FusionError("STAPLE found no finite estimate for these reads; use majority vote")
    return StapleResult(
        mask=probability > threshold,
        probability=probability,
        sensitivity=sensitivity,
        specificity=specificity,
        iterations=int(fusion.GetElapsedIterations()),
    )


def _unanimous(stack: BoolArray) -> StapleResult:
    ones = (1.0,) * len(stack)
    return StapleResult(
        mask=stack[0].copy(),
        probability=stack[0].astype(np.float64),
        sensitivity=ones,
        specificity=ones,
        iterations=0,
    )


def _coordinate(value: Any, index: int, label: str) -> Point:
    try:
        x, y = (float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise FusionError(f"read {index}: keypoint {label!r} is not an (x, y) pair") from exc
    if not (math.isfinite(x) and math.isfinite(y)):
        raise FusionError(f"read {index}: keypoint {label!r} has a non-finite coordinate")
    return x, y


def keypoint_mean(point_sets: Sequence[Mapping[str, Point]]) -> dict[str, Point]:
    """Per keypoint label, the mean (x, y) of the reads that have it.

    A label that some reads lack is the mean of the reads that have it (one read: its own
    point). Labels come in the order of their first appearance. Sums are exactly rounded
    (math.fsum), so the mean of exactly representable points is exact.
    """
    if len(point_sets) == 0:
        raise FusionError("no keypoints to fuse: give the keypoints of at least one read")
    collected: dict[str, list[Point]] = {}
    for index, points in enumerate(point_sets):
        if not isinstance(points, Mapping):
            raise FusionError(f"read {index}: keypoints must map a label to (x, y)")
        for label, value in points.items():
            collected.setdefault(str(label), []).append(_coordinate(value, index, str(label)))
    return {
        label: (
            math.fsum(p[0] for p in pts) / len(pts),
            math.fsum(p[1] for p in pts) / len(pts),
        )
        for label, pts in collected.items()
    }


def _image_shape(image_shape: tuple[int, int]) -> tuple[int, int]:
    if len(image_shape) != 2 or min(int(image_shape[0]), int(image_shape[1])) < 1:
        raise FusionError(f"image_shape must be (rows, cols) > 0, got {image_shape!r}")
    return int(image_shape[0]), int(image_shape[1])


def shape_to_mask(shape: Mapping[str, Any], *, image_shape: tuple[int, int]) -> BoolArray:
    """The pixels of one labelme area shape (polygon, rectangle or mask) on the image grid.

    Polygons take the pixels whose centre lies inside (as the measurements and the agreement
    figures do); a mask shape is placed at its bounding box. FusionError on other shape
    types or malformed shapes.
    """
    rows_cols = _image_shape(image_shape)
    parsed = parse_shapes([shape])
    if parsed.warnings:
        raise FusionError(parsed.warnings[0])
    regions = [r for found in parsed.regions.values() for r in found]
    if not regions:
        kind = shape.get("shape_type") or "polygon"
        raise FusionError(f"a {kind} shape has no area: fuse polygons, rectangles or masks")
    return regions[0].rasterize(rows_cols)


def _largest_component(mask: BoolArray) -> BoolArray:
    labels, count = ndimage.label(mask)  # 4-connected, as a polygon's interior is
    if count == 0:
        raise FusionError("an empty mask has no polygon")
    sizes = np.bincount(labels.ravel())[1:]
    filled: BoolArray = ndimage.binary_fill_holes(labels == int(np.argmax(sizes)) + 1)
    return filled


def _pixel_outline(mask: BoolArray) -> FloatArray:
    """The outer ring of the union of the mask's pixel squares, as (x, y) pixel corners."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    step = np.diff(padded, axis=1)
    row, start = np.nonzero(step == 1)
    _, stop = np.nonzero(step == -1)
    # One 4-connected component: its squares unite into one polygon.
    union = shapely.union_all(shapely.box(start, row, stop, row + 1))
    ring = np.asarray(union.exterior.coords, dtype=np.float64)[:-1]
    return _drop_collinear(ring)


def _drop_collinear(ring: FloatArray) -> FloatArray:
    before, after = ring - np.roll(ring, 1, axis=0), np.roll(ring, -1, axis=0) - ring
    cross = before[:, 0] * after[:, 1] - before[:, 1] * after[:, 0]
    dot = (before * after).sum(axis=1)
    out: FloatArray = ring[(cross != 0) | (dot <= 0)]
    return out


def _cut_corners(ring: FloatArray) -> FloatArray:
    """Marching squares at 0.5: the ring through the midpoints of the unit pixel edges.

    Each corner of the staircase is cut at 0.5 px along its two edges, so every pixel centre
    stays on its side: rasterising the result gives the mask back.
    """
    nxt = np.roll(ring, -1, axis=0)
    length = np.abs(nxt - ring).sum(axis=1)[:, None]
    unit = (nxt - ring) / length
    first, last = ring + 0.5 * unit, nxt - 0.5 * unit
    points = np.stack([first, last], axis=1).reshape(-1, 2)
    keep = np.ones(len(points), dtype=bool)
    keep[1::2] = length[:, 0] > 1  # a unit edge has a single midpoint
    return _drop_collinear(points[keep])


def mask_to_polygon(mask: npt.ArrayLike, *, tolerance: float = 0.0) -> list[list[float]]:
    """The outline of a mask's largest component as labelme polygon points.

    Points are [x, y] in labelme pixel coordinates (a pixel centre at i + 0.5), the ring not
    closed, starting at the top-most then left-most point and running clockwise on screen.
    The component is 4-connected with its holes filled (a labelme polygon has none); the
    outline is the 0.5 iso-line (marching squares), which rasterises back to the component.
    `tolerance` > 0 (px) simplifies it (Douglas-Peucker), as labelme does to AI masks.
    """
    arr = _binary(mask, 0)
    if arr.ndim != 2:
        raise FusionError(f"a polygon needs a 2-D mask, got shape {arr.shape}")
    if not (math.isfinite(tolerance) and tolerance >= 0):
        raise FusionError(f"tolerance must be a length in pixels >= 0, got {tolerance}")
    ring = _cut_corners(_pixel_outline(_largest_component(arr)))
    if tolerance > 0:
        simple = shapely.Polygon(ring).simplify(tolerance, preserve_topology=True)
        ring = np.asarray(simple.exterior.coords, dtype=np.float64)[:-1]
    x, y = ring[:, 0], ring[:, 1]
    if np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)) < 0:
        ring = ring[::-1]  # positive in (x, y-down) is clockwise on screen
    start = int(np.lexsort((ring[:, 0], ring[:, 1]))[0])
    points: list[list[float]] = np.roll(ring, -start, axis=0).tolist()
    return points


@dataclass(frozen=True)
class SourceRevision:
    """One read's revision that a fused structure was made from."""

    read: int
    revision: int


@dataclass(frozen=True)
class Provenance:
    """Where one structure of a gold revision came from: the reads' revisions and the method.

    `method` is "copy" (taken from one read unchanged), "majority_vote" or "staple" (masks)
    or "mean" (keypoints); `parameters` holds the method's settings (tie rule, threshold).
    """

    label: str
    method: FusionMethod
    sources: tuple[SourceRevision, ...]
    parameters: Mapping[str, str | float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.method not in get_args(FusionMethod):
            raise FusionError(
                f"method must be one of {get_args(FusionMethod)}, not {self.method!r}"
            )
        if not self.sources:
            raise FusionError(f"{self.label!r}: provenance needs at least one source revision")
        if self.method == "copy" and len(self.sources) != 1:
            raise FusionError(f"{self.label!r}: a copy comes from exactly one revision")

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON data, as stored per shape of a gold revision."""
        return {
            "label": self.label,
            "method": self.method,
            "sources": [{"read": s.read, "revision": s.revision} for s in self.sources],
            "parameters": dict(self.parameters),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Provenance:
        """The inverse of `as_dict`; FusionError naming the bad field."""
        try:
            sources = tuple(
                SourceRevision(read=int(s["read"]), revision=int(s["revision"]))
                for s in data["sources"]
            )
            return cls(
                label=str(data["label"]),
                method=data["method"],
                sources=sources,
                parameters=dict(data.get("parameters") or {}),
            )
        except FusionError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise FusionError(f"provenance is malformed: {exc!r}") from exc
