"""Read labelme shapes into regions, keypoints and caliper lines, never raising on user data."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from measurements.core.errors import InvalidInput
from measurements.core.regions import Region, decode_labelme_mask

Point = tuple[float, float]
Segment = tuple[Point, Point]

KEYPOINT_PATTERN = re.compile(r"^C[3-7]_(AS|AI|PS|PI)$")
SAGITTAL_CALIPERS: tuple[str, ...] = ("d_i", "d_a", "d_b", "D_i", "D_a", "D_b")
AXIAL_CALIPERS: tuple[str, ...] = ("T", "S")


@dataclass
class ParsedShapes:
    """Shapes of one image grouped by what they are; `warnings` says what was skipped."""

    regions: dict[str, list[Region]] = field(default_factory=dict)
    points: dict[str, list[Point]] = field(default_factory=dict)
    lines: dict[str, list[Segment]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def region(self, label: str) -> Region | None:
        """The region labelled `label`; with several, the largest (and a warning)."""
        found = [r for r in self.regions.get(label, []) if not r.is_empty()]
        if not found:
            return None
        if len(found) > 1:
            self.warnings.append(f"{len(found)} shapes labelled {label!r}: the largest is used")
            return max(found, key=lambda r: r.area_mm2((1.0, 1.0)))
        return found[0]

    def keypoints(self) -> dict[str, Point]:
        """One point per keypoint label (the first, with a warning when repeated)."""
        out: dict[str, Point] = {}
        for label, pts in self.points.items():
            if len(pts) > 1:
                self.warnings.append(f"{len(pts)} points labelled {label!r}: the first is used")
            out[label] = pts[0]
        return out

    def line(self, label: str) -> Segment | None:
        """The caliper line labelled `label` (the first, with a warning when repeated)."""
        found = self.lines.get(label, [])
        if not found:
            return None
        if len(found) > 1:
            self.warnings.append(f"{len(found)} lines labelled {label!r}: the first is used")
        return found[0]

    def has_sagittal_marks(self) -> bool:
        """Vertebral keypoints or sagittal calipers are present."""
        return any(KEYPOINT_PATTERN.match(k) for k in self.points) or any(
            k in self.lines for k in SAGITTAL_CALIPERS
        )


def _points(shape: Mapping[str, Any]) -> list[Point]:
    raw = shape.get("points")
    if isinstance(raw, list) and raw and isinstance(raw[0], list):
        # Fast path for well-formed input; anything odd falls through to the checks below.
        try:
            arr = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError):
            arr = None
        if arr is not None and arr.ndim == 2 and arr.shape[1] == 2 and np.isfinite(arr).all():
            return [(float(x), float(y)) for x, y in arr.tolist()]
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise InvalidInput("points is not a list")
    out: list[Point] = []
    for p in raw:
        if not isinstance(p, Sequence) or isinstance(p, str) or len(p) != 2:
            raise InvalidInput("a point is not [x, y]")
        try:
            x, y = float(p[0]), float(p[1])
        except (TypeError, ValueError) as exc:
            raise InvalidInput("a point has a non-numeric coordinate") from exc
        if not (math.isfinite(x) and math.isfinite(y)):
            raise InvalidInput("a point has a non-finite coordinate")
        out.append((x, y))
    return out


def _parse_one(shape: Mapping[str, Any], parsed: ParsedShapes, label: str) -> None:
    shape_type = shape.get("shape_type") or "polygon"
    pts = _points(shape)
    if shape_type == "polygon":
        parsed.regions.setdefault(label, []).append(Region.from_polygon(pts))
    elif shape_type == "rectangle":
        if len(pts) != 2:
            raise InvalidInput("a rectangle needs 2 points")
        (xa, ya), (xb, yb) = pts
        corners = [(xa, ya), (xb, ya), (xb, yb), (xa, yb)]
        parsed.regions.setdefault(label, []).append(Region.from_polygon(corners))
    elif shape_type == "mask":
        data = shape.get("mask")
        if not isinstance(data, str) or not data:
            raise InvalidInput("a mask shape has no mask data")
        parsed.regions.setdefault(label, []).append(decode_labelme_mask(data, pts))
    elif shape_type == "point":
        if len(pts) != 1:
            raise InvalidInput("a point needs exactly 1 point")
        parsed.points.setdefault(label, []).append(pts[0])
    elif shape_type == "line" or (shape_type == "linestrip" and len(pts) == 2):
        if len(pts) != 2:
            raise InvalidInput("a caliper line needs exactly 2 points")
        parsed.lines.setdefault(label, []).append((pts[0], pts[1]))
    # Other types (circle, linestrip of more points, boxes of other templates) measure nothing.


def parse_shapes(shapes: Sequence[Mapping[str, Any]]) -> ParsedShapes:
    """Group labelme shapes; a malformed shape is skipped with a warning naming it."""
    parsed = ParsedShapes()
    for index, shape in enumerate(shapes):
        if not isinstance(shape, Mapping):
            parsed.warnings.append(f"shape {index}: not an object, skipped")
            continue
        label = str(shape.get("label") or "").strip()
        try:
            _parse_one(shape, parsed, label)
        except InvalidInput as exc:
            parsed.warnings.append(f"shape {index} ({label or 'no label'}): {exc}, skipped")
    return parsed
