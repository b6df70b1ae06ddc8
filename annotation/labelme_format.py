"""labelme JSON per image, both ways, round-trip exact.

Export builds the file labelme writes (version, flags, shapes, imagePath, imageData,
imageHeight, imageWidth) plus every unknown top-level key the imported file had; shapes
keep their unknown keys because revisions store them verbatim. ``imageData`` is not kept
(the pixels live in the pixel store): an import that carried it exports ``null``.
"""

from __future__ import annotations

from typing import Any

from annotation.shapes import long_text_problem

LABELME_VERSION = "5.5.0"
KNOWN_KEYS = ("version", "flags", "shapes", "imagePath", "imageData", "imageHeight", "imageWidth")


class LabelmeFormatError(ValueError):
    pass


def labelme_export(
    *,
    shapes: list[dict[str, Any]],
    meta: dict[str, Any] | None,
    image_path: str,
    rows: int,
    columns: int,
) -> dict[str, Any]:
    meta = meta or {}
    extra = dict(meta.get("extra", {}))
    data: dict[str, Any] = {
        "version": extra.pop("version", LABELME_VERSION),
        "flags": dict(meta.get("flags", {})),
        "shapes": shapes,
        "imagePath": extra.pop("imagePath", image_path),
        "imageData": None,
        "imageHeight": rows,
        "imageWidth": columns,
    }
    data.update(extra)
    return data


def labelme_parse(
    data: Any, *, rows: int, columns: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Split a labelme file into its shapes and what else it carried (flags, unknown keys)."""
    if not isinstance(data, dict):
        raise LabelmeFormatError("a labelme file must be a JSON object")
    shapes = data.get("shapes")
    if not isinstance(shapes, list):
        raise LabelmeFormatError("shapes: must be a list")
    height, width = data.get("imageHeight"), data.get("imageWidth")
    if height is not None and width is not None and (height, width) != (rows, columns):
        raise LabelmeFormatError(
            f"imageHeight×imageWidth is {height}×{width}, the image is {rows}×{columns}"
        )
    flags = data.get("flags") or {}
    if not isinstance(flags, dict):
        raise LabelmeFormatError("flags: must be an object")
    extra = {key: value for key, value in data.items() if key not in KNOWN_KEYS}
    for key in ("version", "imagePath"):
        if key in data:
            extra[key] = data[key]
    # Kept verbatim in the revision: the same text limit as inside a shape.
    problem = long_text_problem({"flags": flags, **extra})
    if problem:
        raise LabelmeFormatError(problem)
    return shapes, {"flags": flags, "extra": extra}
