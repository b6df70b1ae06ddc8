"""The agreement of two revisions of one case, computed by measurements.core: Dice, IoU and
HD95 per structure and view, keypoint radial errors, the paired MSCC/MCC/TA/CR values and the
paired categorical case fields. No statistic is computed here, only gathered."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from annotation.selectors.agreement import (
    Grid,
    MaskCache,
    ShapesByImage,
    Structures,
    crop_to_union,
    keypoint_agreement,
)
from annotation.selectors.geometry import ImageGeometry
from measurements.core.agreement import dice, hd95, iou
from measurements.core.geometry import BoolArray

MEASUREMENTS: tuple[str, ...] = ("mscc", "mcc", "ta", "cr")
SAGITTAL_MEASUREMENTS = frozenset({"mscc", "mcc"})
CATEGORICAL_FIELD_TYPES = frozenset({"checkbox", "choice"})


@dataclass(frozen=True)
class RevisionData:
    """What a pair needs of one revision: its shapes, case fields and stored measurements
    ({image id: values})."""

    id: int
    shapes: ShapesByImage
    case_fields: Mapping[str, Any]
    sagittal: Mapping[int, Mapping[str, Any]]
    axial: Mapping[int, Mapping[str, Any]]


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def area_values(
    *,
    cache: MaskCache,
    a: RevisionData,
    b: RevisionData,
    label: str,
    images: Sequence[str],
) -> list[float | None] | None:
    """[Dice, IoU, HD95 mm] of one label over the images of one view, or None when neither
    read drew it there. Dice and IoU pool the images (masks concatenated); HD95 is the worst
    of the images where both drew it."""
    flat_a: list[BoolArray] = []
    flat_b: list[BoolArray] = []
    worst = math.nan
    for image in images:
        ma = cache.mask(a.id, a.shapes, image, label)
        mb = cache.mask(b.id, b.shapes, image, label)
        if ma is None and mb is None:
            continue
        grid = cache.grids[image]
        empty = np.zeros((grid.rows, grid.columns), dtype=bool)
        ca, cb = crop_to_union(empty if ma is None else ma, empty if mb is None else mb)
        flat_a.append(ca.ravel())
        flat_b.append(cb.ravel())
        if ma is not None and mb is not None and grid.spacing is not None:
            distance = hd95(ca, cb, spacing=grid.spacing)
            worst = distance if math.isnan(worst) else max(worst, distance)
    if not flat_a:
        return None
    pa, pb = np.concatenate(flat_a), np.concatenate(flat_b)
    return [_finite(dice(pa, pb)), _finite(iou(pa, pb)), _finite(worst)]


def _first_value(results: Mapping[int, Mapping[str, Any]], key: str) -> float | None:
    """The value of the first image (by id) that has it; the manual caliper's if no shape
    gave it (the reader group measures with calipers)."""
    for name in (key, f"manual_{key}"):
        for image in sorted(results):
            value = results[image].get(name)
            if isinstance(value, int | float) and math.isfinite(value):
                return float(value)
    return None


def _axial_pair(a: RevisionData, b: RevisionData, key: str) -> list[float | None]:
    """TA and CR are read on the narrowest level: the axial image where the reference (b)
    has its smallest TA among the images both measured; else each read's first value."""
    both = [i for i in sorted(set(a.axial) & set(b.axial)) if _first_value({i: b.axial[i]}, "ta")]
    if both:
        image = min(both, key=lambda i: _first_value({i: b.axial[i]}, "ta") or math.inf)
        return [
            _first_value({image: a.axial[image]}, key),
            _first_value({image: b.axial[image]}, key),
        ]
    return [_first_value(a.axial, key), _first_value(b.axial, key)]


def measurement_view(key: str) -> str:
    """The orientation a measurement is read on."""
    return "sagittal" if key in SAGITTAL_MEASUREMENTS else "axial"


def measurement_pairs(a: RevisionData, b: RevisionData) -> dict[str, list[float | None]]:
    out: dict[str, list[float | None]] = {}
    for key in MEASUREMENTS:
        if key in SAGITTAL_MEASUREMENTS:
            pair = [_first_value(a.sagittal, key), _first_value(b.sagittal, key)]
        else:
            pair = _axial_pair(a, b, key)
        if pair != [None, None]:
            out[key] = pair
    return out


def categorical_fields(template: Mapping[str, Any]) -> list[str]:
    return [
        str(f["name"])
        for f in template.get("case_fields") or []
        if isinstance(f, Mapping) and f.get("type") in CATEGORICAL_FIELD_TYPES and f.get("name")
    ]


def pair_values(
    *,
    cache: MaskCache,
    geometries: Mapping[str, ImageGeometry],
    structures: Structures,
    fields: Sequence[str],
    a: RevisionData,
    b: RevisionData,
    views: frozenset[str] | None = None,
) -> dict[str, Any]:
    """Everything an AgreementRow stores about the pair (a = the read, b = its reference).

    `views` keeps only what was drawn on images of those orientations, and the measurements
    read there (MSCC and MCC sagittal, TA and CR axial): the part of a model read that one of
    its model versions produced (None: everything)."""
    drawn = sorted(set(a.shapes) | set(b.shapes), key=str)
    by_view: dict[str, list[str]] = {}
    for image in drawn:
        if image in geometries and (views is None or geometries[image].orientation in views):
            by_view.setdefault(geometries[image].orientation, []).append(image)
    areas: dict[str, list[float | None]] = {}
    for view, images in sorted(by_view.items()):
        for label in structures.areas:
            values = area_values(cache=cache, a=a, b=b, label=label, images=images)
            if values is not None:
                areas[f"{view} {label}"] = values
    errors: list[float] = []
    if structures.keypoints:
        grids: Mapping[str, Grid] = cache.grids
        kept = {image for images in by_view.values() for image in images}
        shapes_a = a.shapes if views is None else {k: v for k, v in a.shapes.items() if k in kept}
        shapes_b = b.shapes if views is None else {k: v for k, v in b.shapes.items() if k in kept}
        found = keypoint_agreement(grids=grids, a=shapes_a, b=shapes_b, structures=structures)
        errors = [float(v) for v in found["errors_mm"].values() if v is not None]
    case_fields = {
        name: [a.case_fields.get(name), b.case_fields.get(name)]
        for name in fields
        if a.case_fields.get(name) is not None or b.case_fields.get(name) is not None
    }
    return {
        "areas": areas,
        "keypoint_errors": errors,
        "measurements": {
            key: pair
            for key, pair in measurement_pairs(a, b).items()
            if views is None or measurement_view(key) in views
        },
        "case_fields": case_fields,
    }
