"""Per-structure agreement between two reads of a case: Dice and HD95 for areas (cord,
canal), radial distance in mm per keypoint (the vertebral corners).

Pure derivation from the reads' shapes and the images' grids, with measurements.core doing
the arithmetic. Dice is pooled over the images (2|A∩B| summed / (|A|+|B|) summed, as a
volume Dice of the slices); HD95 is the largest of the per-image HD95s of the images where
both reads have the structure. Keypoints are matched by label across the case (one point
per label: the first), their distance taken in-plane with the first read's image spacing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from measurements.core import FusionError, hd95, keypoint_errors, shape_to_mask
from measurements.core.geometry import BoolArray

AREA_TYPES = frozenset({"polygon", "mask"})
KEYPOINTS = "corners"

ShapesByImage = Mapping[str, Sequence[Mapping[str, Any]]]


@dataclass(frozen=True)
class Grid:
    """An image's pixel grid: (rows, columns) and (row mm, column mm) or None if unknown."""

    rows: int
    columns: int
    spacing: tuple[float, float] | None


@dataclass(frozen=True)
class Structures:
    """What a template adjudicates: its area labels and its keypoint labels."""

    areas: tuple[str, ...]
    keypoints: frozenset[str]

    def names(self) -> list[str]:
        return [*self.areas, KEYPOINTS] if self.keypoints else list(self.areas)

    def of_shape(self, shape: Mapping[str, Any]) -> str | None:
        """The structure a shape belongs to, or None (calipers, boxes...)."""
        label = str(shape.get("label") or "")
        kind = shape.get("shape_type") or "polygon"
        if kind == "point" and label in self.keypoints:
            return KEYPOINTS
        if kind in AREA_TYPES and label in self.areas:
            return label
        return None


def template_structures(template: Mapping[str, Any]) -> Structures:
    """Area labels (polygon or mask shapes) and keypoint labels of a project template."""
    areas = tuple(
        str(label["name"])
        for label in template.get("labels") or []
        if isinstance(label, Mapping) and AREA_TYPES & set(label.get("shape_types") or [])
    )
    points = frozenset(
        str(p)
        for kp_set in template.get("keypoint_sets") or []
        if isinstance(kp_set, Mapping)
        for p in kp_set.get("points") or []
    )
    return Structures(areas=areas, keypoints=points)


@dataclass
class MaskCache:
    """Rasterised structures per (read, image, label): each is drawn once per payload."""

    grids: Mapping[str, Grid]
    masks: dict[tuple[int, str, str], BoolArray | None] = field(default_factory=dict)

    def mask(self, read_id: int, shapes: ShapesByImage, image: str, label: str) -> BoolArray | None:
        key = (read_id, image, label)
        if key not in self.masks:
            self.masks[key] = self._draw(shapes.get(image) or (), image, label)
        return self.masks[key]

    def _draw(self, items: Iterable[Mapping[str, Any]], image: str, label: str) -> BoolArray | None:
        grid = self.grids.get(image)
        if grid is None:
            return None
        out: BoolArray | None = None
        for shape in items:
            if (
                shape.get("label") != label
                or (shape.get("shape_type") or "polygon") not in AREA_TYPES
            ):
                continue
            try:
                drawn = shape_to_mask(shape, image_shape=(grid.rows, grid.columns))
            except FusionError:
                continue  # a malformed shape agrees with nothing
            out = drawn if out is None else out | drawn
        return out if out is not None and out.any() else None


def crop_to_union(a: BoolArray, b: BoolArray) -> tuple[BoolArray, BoolArray]:
    """Both masks cut to their union's box plus one pixel: Dice and HD95 are unchanged
    (the border pixel keeps inner surfaces inner) and the distance maps are small."""
    both = a | b
    rows, cols = np.flatnonzero(both.any(axis=1)), np.flatnonzero(both.any(axis=0))
    top, left = max(int(rows[0]) - 1, 0), max(int(cols[0]) - 1, 0)
    bottom, right = int(rows[-1]) + 2, int(cols[-1]) + 2
    return a[top:bottom, left:right], b[top:bottom, left:right]


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def area_agreement(
    *, cache: MaskCache, a: tuple[int, ShapesByImage], b: tuple[int, ShapesByImage], label: str
) -> dict[str, Any]:
    """Pooled Dice, worst per-image HD95 (mm) and how many images each read drew it on."""
    overlap = total = 0
    worst = math.nan
    images = sorted(set(a[1]) | set(b[1]), key=str)
    counts = {"both": 0, "only_a": 0, "only_b": 0}
    for image in images:
        ma, mb = cache.mask(a[0], a[1], image, label), cache.mask(b[0], b[1], image, label)
        if ma is None and mb is None:
            continue
        if ma is None or mb is None:
            counts["only_b" if ma is None else "only_a"] += 1
            total += int((ma if mb is None else mb).sum())  # type: ignore[union-attr]
            continue
        counts["both"] += 1
        ca, cb = crop_to_union(ma, mb)
        overlap += int(np.sum(ca & cb))
        total += int(ca.sum()) + int(cb.sum())
        spacing = cache.grids[image].spacing
        if spacing is not None:
            distance = hd95(ca, cb, spacing=spacing)
            worst = distance if math.isnan(worst) else max(worst, distance)
    dice = 2.0 * overlap / total if total else math.nan
    return {"dice": _finite(dice), "hd95_mm": _finite(worst), "images": counts}


def _keypoints(
    shapes: ShapesByImage, structures: Structures
) -> dict[str, tuple[str, tuple[float, float]]]:
    """label → (image, (x, y)) of the first point of each keypoint label."""
    found: dict[str, tuple[str, tuple[float, float]]] = {}
    for image, items in shapes.items():
        for shape in items:
            if structures.of_shape(shape) != KEYPOINTS:
                continue
            points = shape.get("points") or []
            label = str(shape.get("label"))
            if label in found or not points:
                continue
            try:
                x, y = float(points[0][0]), float(points[0][1])
            except (TypeError, ValueError, IndexError):
                continue
            if math.isfinite(x) and math.isfinite(y):
                found[label] = (str(image), (x, y))
    return found


def keypoint_agreement(
    *, grids: Mapping[str, Grid], a: ShapesByImage, b: ShapesByImage, structures: Structures
) -> dict[str, Any]:
    """Radial distance (mm) per keypoint both reads placed, their mean and the unmatched."""
    pa, pb = _keypoints(a, structures), _keypoints(b, structures)
    errors: dict[str, float | None] = {}
    for label in sorted(set(pa) & set(pb)):
        grid = grids.get(pa[label][0])
        if grid is None or grid.spacing is None:
            errors[label] = None
            continue
        result = keypoint_errors({label: pa[label][1]}, {label: pb[label][1]}, spacing=grid.spacing)
        errors[label] = result.errors_mm[label]
    values = [v for v in errors.values() if v is not None]
    return {
        "errors_mm": errors,
        "mean_mm": sum(values) / len(values) if values else None,
        "max_mm": max(values) if values else None,
        "missing": sorted(set(pa) ^ set(pb)),
    }


def pair_agreement(
    *,
    cache: MaskCache,
    structures: Structures,
    a: tuple[int, ShapesByImage],
    b: tuple[int, ShapesByImage],
) -> dict[str, Any]:
    """Every structure's agreement between reads a and b ((read id, shapes) each)."""
    out: dict[str, Any] = {"a": a[0], "b": b[0]}
    for label in structures.areas:
        out[label] = area_agreement(cache=cache, a=a, b=b, label=label)
    if structures.keypoints:
        out[KEYPOINTS] = keypoint_agreement(
            grids=cache.grids, a=a[1], b=b[1], structures=structures
        )
    return out
