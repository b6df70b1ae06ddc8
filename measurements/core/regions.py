"""A region to measure: a polygon (measured exactly) or a mask (measured on its pixel squares)."""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from scipy import ndimage

from measurements.core.errors import InvalidInput
from measurements.core.geometry import (
    BoolArray,
    Boundary,
    FloatArray,
    Spacing,
    convex_hull,
    mask_boundary,
    polygon_boundary,
    px_to_mm,
    rasterize_polygon,
    shoelace_area,
)

_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True, eq=False)
class Region:
    """One structure on one image, in labelme pixel coordinates.

    Exactly one of `polygon` ((N, 2) x, y vertices, implicitly closed) and `mask` (bool,
    rows x cols, its [0, 0] pixel at image (row, col) = `origin`) is set. A polygon is its
    exact geometry; a mask is the union of its pixels' squares, so its area is the pixel
    count x pixel area and its chords run across whole pixels.
    """

    polygon: FloatArray | None = None
    mask: BoolArray | None = None
    origin: tuple[int, int] = (0, 0)

    @staticmethod
    def from_polygon(points: npt.ArrayLike) -> Region:
        """A polygon region; InvalidInput unless it has ≥ 3 finite vertices and some area."""
        pts = np.asarray(points, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3:
            raise InvalidInput(f"a polygon needs at least 3 points (x, y), got shape {pts.shape}")
        if not np.isfinite(pts).all():
            raise InvalidInput("a polygon has non-finite coordinates")
        if shoelace_area(pts) <= 0.0:
            raise InvalidInput("a polygon has zero area")
        return Region(polygon=pts)

    @staticmethod
    def from_mask(mask: npt.ArrayLike, origin: tuple[int, int] = (0, 0)) -> Region:
        """A mask region; `origin` is the image (row, col) of mask[0, 0]."""
        arr = np.asarray(mask, dtype=bool)
        if arr.ndim != 2:
            raise InvalidInput(f"a mask must be 2-D, got shape {arr.shape}")
        rows = np.nonzero(arr.any(axis=1))[0]
        if len(rows) == 0:
            return Region(
                mask=np.zeros((0, 0), dtype=bool), origin=(int(origin[0]), int(origin[1]))
            )
        cols = np.nonzero(arr.any(axis=0))[0]
        # Crop to the bounding box: whole-image masks would cost their empty pixels.
        top, left = int(rows[0]), int(cols[0])
        crop = arr[top : int(rows[-1]) + 1, left : int(cols[-1]) + 1]
        return Region(mask=crop, origin=(int(origin[0]) + top, int(origin[1]) + left))

    @property
    def kind(self) -> str:
        """'polygon' or 'mask': which definition of area the numbers use."""
        return "polygon" if self.polygon is not None else "mask"

    @cached_property
    def boundary_px(self) -> Boundary:
        """The outline as edges in pixel coordinates."""
        if self.polygon is not None:
            return polygon_boundary(self.polygon)
        assert self.mask is not None
        return mask_boundary(self.mask, self.origin)

    @cached_property
    def corner_points_px(self) -> FloatArray:
        """Points whose convex hull is the region's: polygon vertices or outline corners."""
        if self.polygon is not None:
            return self.polygon
        return np.unique(self.boundary_px.vertices, axis=0)

    @cached_property
    def pixel_count(self) -> int:
        """Number of mask pixels (0 for a polygon)."""
        return int(self.mask.sum()) if self.mask is not None else 0

    def is_empty(self) -> bool:
        """True for a mask without pixels."""
        return self.mask is not None and self.pixel_count == 0

    def area_mm2(self, spacing: Spacing) -> float:
        """Shoelace area of a polygon, or pixel count x pixel area of a mask, in mm²."""
        if self.polygon is not None:
            return shoelace_area(self.polygon) * spacing[0] * spacing[1]
        return self.pixel_count * spacing[0] * spacing[1]

    def merge_gap_mm(self, spacing: Spacing) -> float:
        """Gaps along a chord that do not split it: none for a polygon; for a mask, up to
        three pixel diagonals. A tilted line crossing the staircase outline of a mask (or of
        a coarse mask upsampled by pixel repetition) is otherwise cut into slivers, and a
        pinhole in a mask would split the chord."""
        return 0.0 if self.polygon is not None else 3.0 * float(np.hypot(*spacing))

    def boundary_mm(self, spacing: Spacing) -> Boundary:
        """The outline in millimetres."""
        return self.boundary_px.scaled(spacing)

    @cached_property
    def hull_px(self) -> FloatArray:
        """Convex hull vertices in pixel coordinates."""
        return convex_hull(self.corner_points_px)

    def hull_mm(self, spacing: Spacing) -> FloatArray:
        """Convex hull vertices in millimetres (scaling keeps a hull a hull)."""
        return px_to_mm(self.hull_px, spacing)

    def component_count(self) -> int:
        """8-connected components of a mask; 1 for a polygon."""
        if self.mask is None:
            return 1
        _, count = ndimage.label(self.mask, structure=_EIGHT_CONNECTED)
        return int(count)

    def rasterize(self, image_shape: tuple[int, int]) -> BoolArray:
        """Bool image of the pixels inside (polygon: pixel centres inside; mask: its pixels)."""
        if self.polygon is not None:
            return rasterize_polygon(self.polygon, image_shape)
        assert self.mask is not None
        out = np.zeros(image_shape, dtype=bool)
        r0, c0 = self.origin
        rows, cols = self.mask.shape
        top, left = max(r0, 0), max(c0, 0)
        bottom, right = min(r0 + rows, image_shape[0]), min(c0 + cols, image_shape[1])
        if bottom > top and right > left:
            out[top:bottom, left:right] = self.mask[top - r0 : bottom - r0, left - c0 : right - c0]
        return out


def decode_labelme_mask(data: str, points: npt.ArrayLike) -> Region:
    """A labelme 5 `mask` shape: base64 PNG of the crop plus its 2-point bounding box.

    labelme stores the crop of rows y1..y2 and columns x1..x2 (inclusive, integer pixel
    indices from the two points); a PNG one pixel smaller in each direction is accepted too.
    """
    try:
        raw = base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"mask is not valid base64: {exc}") from exc
    if not raw:
        raise InvalidInput("mask data is empty")
    try:
        image = cv2.imdecode(np.frombuffer(raw, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        image = None
    if image is None:
        raise InvalidInput("mask is not a readable PNG image")
    if image.ndim == 3:
        image = image.max(axis=2)
    mask = np.asarray(image) > 0
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) != 2 or not np.isfinite(pts).all():
        raise InvalidInput("a mask shape needs 2 finite points (its bounding box)")
    x1, y1 = (math.floor(v) for v in pts.min(axis=0))
    x2, y2 = (math.floor(v) for v in pts.max(axis=0))
    expected = (y2 - y1 + 1, x2 - x1 + 1)
    if mask.shape not in (expected, (expected[0] - 1, expected[1] - 1)):
        raise InvalidInput(
            f"mask PNG is {mask.shape[0]}x{mask.shape[1]} pixels but its bounding box is "
            f"{expected[0]}x{expected[1]}"
        )
    return Region.from_mask(mask, origin=(y1, x1))


def encode_labelme_mask(mask: npt.ArrayLike, origin: tuple[int, int] = (0, 0)) -> dict[str, Any]:
    """The `points` and `mask` fields of a labelme 5 mask shape for a bool mask whose [0, 0]
    pixel is at image (row, col) = `origin`; like labelme, it stores the bounding-box crop."""
    region = Region.from_mask(mask, origin)
    assert region.mask is not None
    if region.mask.size == 0:
        raise InvalidInput("an empty mask has no labelme shape")
    ok, png = cv2.imencode(".png", region.mask.astype(np.uint8))
    if not ok:
        raise InvalidInput("mask could not be encoded as PNG")
    r0, c0 = region.origin
    rows, cols = region.mask.shape
    return {
        "points": [[float(c0), float(r0)], [float(c0 + cols - 1), float(r0 + rows - 1)]],
        "mask": base64.b64encode(png.tobytes()).decode("ascii"),
    }
