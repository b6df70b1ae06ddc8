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
# Text in a shape (label, description, unknown keys) and a mask's base64 PNG.
MAX_STRING_CHARS = 10_000
MAX_MASK_CHARS = 4 * 1024**2
# Coordinates are pixels: anything beyond this is garbage, not an image position.
MAX_COORDINATE = 1e9


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


def _string_problem(value: Any, *, key: str = "") -> tuple[str, str] | None:
    """A string in a shape (any key, at any depth) longer than its limit. Nesting is
    bounded by the API's JSON depth limit (config/parsers.py)."""
    if isinstance(value, str):
        limit = MAX_MASK_CHARS if key == "mask" else MAX_STRING_CHARS
        if len(value) > limit:
            return ("string_too_long", f"{key or 'a value'}: text longer than {limit} characters")
        return None
    if isinstance(value, dict):
        for item_key, item in value.items():
            problem = _string_problem(str(item_key), key="a key") or _string_problem(
                item, key=key or str(item_key)
            )
            if problem:
                return problem
    elif isinstance(value, list) and key != "points":
        for item in value:
            problem = _string_problem(item, key=key)
            if problem:
                return problem
    return None


def long_text_problem(value: Any) -> str | None:
    """A message naming the first text in ``value`` longer than the shape text limit."""
    problem = _string_problem(value)
    return problem[1] if problem else None


def _coordinate(value: Any) -> float | None:
    """The value as a finite float inside the coordinate range; None when it is not one."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        return None
    return number if math.isfinite(number) and abs(number) <= MAX_COORDINATE else None


def _points(raw: Any) -> list[tuple[float, float]] | tuple[str, str]:
    if not isinstance(raw, list):
        return ("non_finite", "points must be a list of [x, y] pairs")
    if len(raw) > MAX_POINTS_PER_SHAPE:
        return ("point_count", f"too many points ({len(raw)} > {MAX_POINTS_PER_SHAPE})")
    points: list[tuple[float, float]] = []
    for item in raw:
        pair = [_coordinate(v) for v in item] if isinstance(item, list | tuple) else []
        if len(pair) != 2 or pair[0] is None or pair[1] is None:
            return ("non_finite", "each point must be a pair of finite numbers [x, y]")
        points.append((pair[0], pair[1]))
    return points


def _label_problem(
    shape: dict[str, Any], *, labels: dict[str, dict[str, Any]], keypoints: set[str]
) -> tuple[str, str] | None:
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
    return None


def _count_problem(shape_type: str, points: list[tuple[float, float]]) -> tuple[str, str] | None:
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
    return None


def _geometry_problem(
    shape: dict[str, Any], shape_type: str, points: list[tuple[float, float]]
) -> tuple[str, str] | None:
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
    problem = _string_problem(shape) or _label_problem(shape, labels=labels, keypoints=keypoints)
    if problem:
        return problem
    shape_type = shape.get("shape_type") or "polygon"
    points = _points(shape.get("points"))
    if isinstance(points, tuple):
        return points
    problem = _count_problem(shape_type, points)
    if problem:
        return problem
    for x, y in points:
        if not (0.0 <= x <= bounds.columns and 0.0 <= y <= bounds.rows):
            return (
                "outside_image",
                f"point ({x:g}, {y:g}) lies outside the image ({bounds.columns}×{bounds.rows})",
            )
    return _geometry_problem(shape, shape_type, points)


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


def _structure_problem(shape: Any) -> tuple[str, str] | None:
    if not isinstance(shape, dict):
        return ("label_missing", "a shape must be an object")
    problem = _string_problem(shape)
    if problem:
        return problem
    points = _points(shape.get("points"))
    return points if isinstance(points, tuple) else None


def shapes_structure_validate(*, shapes: dict[str, Any], max_points: int) -> list[ShapeError]:
    """Only the rules that keep unsaved shapes safe to compute on (the measurement preview):
    lists of objects, finite coordinates, text and count limits; labels are not checked."""
    errors: list[ShapeError] = []
    total = 0
    for key, items in shapes.items():
        if not isinstance(items, list) or len(items) > MAX_SHAPES_PER_IMAGE:
            message = f"shapes of an image must be a list of at most {MAX_SHAPES_PER_IMAGE}"
            errors.append(ShapeError(str(key), None, None, message, "shape_count"))
            continue
        for index, shape in enumerate(items):
            problem = _structure_problem(shape)
            if problem is not None:
                errors.append(ShapeError(str(key), index, None, problem[1], problem[0]))
            else:
                total += len(shape["points"])
    if total > max_points:
        message = f"{total} points in all, more than the {max_points} a preview measures"
        errors.append(ShapeError("", None, None, message, "point_count"))
    return errors


def case_fields_validate(*, fields: Any, template: dict[str, Any]) -> list[str]:
    if not isinstance(fields, dict):
        return ["case_fields must be an object"]
    known = {field["name"]: field for field in template.get("case_fields", [])}
    problems: list[str] = []
    for name, value in fields.items():
        spec = known.get(name)
        if spec is None:
            problems.append(f"unknown case field {name[:100]!r}")
        elif spec["type"] == "checkbox" and not isinstance(value, bool):
            problems.append(f"{name}: must be true or false")
        elif (
            spec["type"] == "choice" and value is not None and value not in spec.get("choices", [])
        ):
            problems.append(f"{name}: {repr(value)[:100]} is not one of {spec.get('choices')}")
        elif spec["type"] == "text" and not isinstance(value, str):
            problems.append(f"{name}: must be text")
        elif spec["type"] == "text" and len(value) > MAX_STRING_CHARS:
            problems.append(f"{name}: longer than {MAX_STRING_CHARS} characters")
    return problems
