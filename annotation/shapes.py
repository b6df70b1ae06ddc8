"""Server-side validation of labelme shapes against a project template and image sizes.

Every save goes through here; a bad save is refused whole, listing each bad shape and why.
The rules mirror frontend/src/core/validation; the shared fixtures in
frontend/src/contract/fixtures keep the two in step (tests/annotation/test_shape_contract.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from annotation.label_templates import SHAPE_TYPES, keypoint_names

EXACT_POINTS = {"point": 1, "rectangle": 2, "line": 2, "circle": 2, "mask": 2}
MIN_POINTS = {"polygon": 3, "linestrip": 2}
MAX_SHAPES_PER_IMAGE = 2000
MAX_POINTS_PER_SHAPE = 20000


@dataclass(frozen=True)
class ShapeError:
    image: str
    index: int | None
    label: str | None
    message: str
    code: str = "invalid"

    def as_dict(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "index": self.index,
            "label": self.label,
            "code": self.code,
            "message": self.message,
        }


@dataclass(frozen=True)
class ImageBounds:
    rows: int
    columns: int


def _polygon_area(points: list[tuple[float, float]]) -> float:
    total = 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True):
        total += x0 * y1 - x1 * y0
    return abs(total) / 2.0


def _points(raw: Any) -> list[tuple[float, float]] | tuple[str, str]:
    if not isinstance(raw, list):
        return ("non_finite", "points must be a list of [x, y] pairs")
    if len(raw) > MAX_POINTS_PER_SHAPE:
        return ("point_count", f"too many points ({len(raw)} > {MAX_POINTS_PER_SHAPE})")
    points: list[tuple[float, float]] = []
    for item in raw:
        if (
            not isinstance(item, list | tuple)
            or len(item) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in item)
        ):
            return ("non_finite", "each point must be a pair of finite numbers [x, y]")
        x, y = float(item[0]), float(item[1])
        if not (math.isfinite(x) and math.isfinite(y)):
            return ("non_finite", "each point must be a pair of finite numbers [x, y]")
        points.append((x, y))
    return points


def _validate_shape(
    shape: Any,
    *,
    labels: dict[str, dict[str, Any]],
    keypoints: set[str],
    bounds: ImageBounds,
) -> tuple[str, str] | None:
    """The first problem of one shape as (code, message), checked in the same order as
    the frontend's validateShape; None when the shape is valid on its own."""
    if not isinstance(shape, dict):
        return ("label_missing", "a shape must be an object")
    label = shape.get("label")
    if not isinstance(label, str) or not label:
        return ("label_missing", "label is missing")
    shape_type = shape.get("shape_type") or "polygon"
    if label in keypoints:
        allowed = ["point"]
    elif label in labels:
        allowed = list(labels[label].get("shape_types", []))
    else:
        return ("unknown_label", f"unknown label {label!r} (not in the project template)")
    if shape_type not in SHAPE_TYPES:
        return ("unknown_shape_type", f"unknown shape type {shape_type!r}")
    if shape_type not in allowed:
        return (
            "shape_type_not_allowed",
            f"shape type {shape_type!r} is not allowed for {label!r} "
            f"(allowed: {', '.join(allowed)})",
        )
    points = _points(shape.get("points"))
    if isinstance(points, tuple):
        return points
    exact = EXACT_POINTS.get(shape_type)
    if exact is not None and len(points) != exact:
        plural = "s" if exact > 1 else ""
        return (
            "point_count",
            f"a {shape_type} needs exactly {exact} point{plural}, got {len(points)}",
        )
    minimum = MIN_POINTS.get(shape_type)
    if minimum is not None and len(points) < minimum:
        return ("point_count", f"a {shape_type} needs at least {minimum} points, got {len(points)}")
    for x, y in points:
        if not (0.0 <= x <= bounds.columns and 0.0 <= y <= bounds.rows):
            return (
                "outside_image",
                f"point ({x:g}, {y:g}) lies outside the image ({bounds.columns}×{bounds.rows})",
            )
    if shape_type == "polygon":
        if len(set(points)) < 3:
            return ("polygon_degenerate", "a polygon needs at least 3 distinct points")
        if _polygon_area(points) <= 1e-9:
            return ("polygon_degenerate", "a polygon must have a non-zero area")
    if shape_type in {"rectangle", "line", "circle"} and points[0] == points[1]:
        return ("points_coincide", f"a {shape_type}'s two points must differ")
    if shape_type == "mask" and not isinstance(shape.get("mask"), str):
        return ("mask_missing", "a mask shape needs its mask (base64 PNG)")
    return None


def shapes_validate(
    *,
    shapes: Any,
    template: dict[str, Any],
    images: dict[str, ImageBounds],
) -> list[ShapeError]:
    """Return every problem in a revision's shapes ({image id: [shape]}); empty if valid."""
    if not isinstance(shapes, dict):
        return [ShapeError("", None, None, "shapes must be an object keyed by image id")]
    labels = {label["name"]: label for label in template.get("labels", [])}
    keypoints = keypoint_names(template)
    errors: list[ShapeError] = []
    for image_key, items in shapes.items():
        key = str(image_key)
        bounds = images.get(key)
        if bounds is None:
            errors.append(ShapeError(key, None, None, "image is not part of this case"))
            continue
        if not isinstance(items, list):
            errors.append(ShapeError(key, None, None, "shapes of an image must be a list"))
            continue
        if len(items) > MAX_SHAPES_PER_IMAGE:
            errors.append(ShapeError(key, None, None, f"more than {MAX_SHAPES_PER_IMAGE} shapes"))
            continue
        used: set[str] = set()
        for index, shape in enumerate(items):
            label = shape.get("label") if isinstance(shape, dict) else None
            problem = _validate_shape(shape, labels=labels, keypoints=keypoints, bounds=bounds)
            if problem is None and label in keypoints:
                if label in used:
                    problem = (
                        "duplicate_keypoint",
                        f"keypoint {label!r} is used more than once on this image",
                    )
                used.add(str(label))
            if problem is not None:
                code, message = problem
                name = label if isinstance(label, str) else None
                errors.append(ShapeError(key, index, name, message, code))
    return errors


def case_fields_validate(*, fields: Any, template: dict[str, Any]) -> list[str]:
    if not isinstance(fields, dict):
        return ["case_fields must be an object"]
    known = {field["name"]: field for field in template.get("case_fields", [])}
    problems: list[str] = []
    for name, value in fields.items():
        spec = known.get(name)
        if spec is None:
            problems.append(f"unknown case field {name!r}")
        elif spec["type"] == "checkbox" and not isinstance(value, bool):
            problems.append(f"{name}: must be true or false")
        elif (
            spec["type"] == "choice" and value is not None and value not in spec.get("choices", [])
        ):
            problems.append(f"{name}: {value!r} is not one of {spec.get('choices')}")
        elif spec["type"] == "text" and not isinstance(value, str):
            problems.append(f"{name}: must be text")
    return problems
