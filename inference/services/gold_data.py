"""A project's signed gold standard as training slices: the signed revision of each gold
case of a split, its images' pixels, cord and canal masks and the 20 vertebral corners."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from django.db.models import OuterRef, Subquery

from annotation.models import Case, GoldSignature, Image, Project, ReadKind
from annotation.pixels import pixel_read
from inference.training.data import Task, TrainingSlice
from inference.training.nets import AXIAL_LABELS, KEYPOINT_NAMES, SAGITTAL_LABELS
from measurements.core.fusion import FusionError, shape_to_mask

AREA_TYPES = ("polygon", "rectangle", "mask")


def gold_revisions(*, project: Project, split: str) -> dict[int, int]:
    """{case id: revision id} of the split's cases whose gold read carries a signature: the
    latest signed revision (a gold edited after its signature counts as signed before)."""
    latest = (
        GoldSignature.objects.filter(read__case=OuterRef("pk"), read__kind=ReadKind.GOLD)
        .order_by("-signed_at", "-id")
        .values("revision_id")[:1]
    )
    rows = (
        Case.objects.filter(project=project, split=split)
        .annotate(signed_revision=Subquery(latest))
        .filter(signed_revision__isnull=False)
        .order_by("id")
        .values_list("id", "signed_revision")
    )
    return dict(rows)


def gold_count(*, project: Project, split: str) -> int:
    return (
        Case.objects.filter(
            project=project, split=split, reads__kind=ReadKind.GOLD, reads__signatures__isnull=False
        )
        .distinct()
        .count()
    )


def _masks(
    shapes: Iterable[Mapping[str, Any]], labels: tuple[str, ...], rows_cols: tuple[int, int]
) -> dict[str, np.ndarray | None]:
    """Per label the union of its area shapes; None for a label the slice does not carry
    (unknown, not empty: the gold may draw the cord on some slices only)."""
    out: dict[str, np.ndarray | None] = dict.fromkeys(labels)
    for shape in shapes:
        label = shape.get("label")
        if label not in out or (shape.get("shape_type") or "polygon") not in AREA_TYPES:
            continue
        try:
            mask = shape_to_mask(shape, image_shape=rows_cols)
        except FusionError:
            continue  # a degenerate outline teaches nothing
        previous = out[label]
        out[label] = mask if previous is None else previous | mask
    return out


def _keypoints(shapes: Iterable[Mapping[str, Any]]) -> np.ndarray | None:
    """The corners in KEYPOINT_NAMES order when all of them are on the slice, else None."""
    found: dict[str, list[float]] = {}
    for shape in shapes:
        points = shape.get("points") or []
        if shape.get("shape_type") == "point" and shape.get("label") in KEYPOINT_NAMES and points:
            found[str(shape["label"])] = [float(points[0][0]), float(points[0][1])]
    if any(name not in found for name in KEYPOINT_NAMES):
        return None
    return np.array([found[name] for name in KEYPOINT_NAMES], dtype=np.float64)


def gold_slices(*, task: Task, revisions: Mapping[int, int]) -> list[TrainingSlice]:
    """Training slices of the task's orientation from the given {case: revision} gold: one
    per image that carries a cord or canal shape or the full set of corners."""
    from annotation.models import Revision

    labels = SAGITTAL_LABELS if task == "sagittal" else AXIAL_LABELS
    shapes_by_image: dict[int, tuple[int, list[dict[str, Any]]]] = {}
    for revision in Revision.objects.filter(pk__in=revisions.values()).select_related("read"):
        for image_id, shapes in (revision.shapes or {}).items():
            shapes_by_image[int(image_id)] = (revision.read.case_id, shapes)
    images = Image.objects.filter(pk__in=shapes_by_image, series__orientation=task).select_related(
        "series"
    )
    out: list[TrainingSlice] = []
    for image in images.order_by("series__case_id", "series_id", "index"):
        case_id, shapes = shapes_by_image[image.pk]
        series = image.series
        rows_cols = (series.rows, series.columns)
        masks = _masks(shapes, labels, rows_cols)
        keypoints = _keypoints(shapes) if task == "sagittal" else None
        if all(m is None for m in masks.values()) and keypoints is None:
            continue
        pixels = pixel_read(
            image.pixel_path, dtype=series.dtype, rows=series.rows, columns=series.columns
        )
        out.append(
            TrainingSlice(
                image=pixels,
                spacing=(series.pixel_spacing_row, series.pixel_spacing_col),
                masks=masks,
                keypoints=keypoints,
                source=f"gold:case {case_id}:image {image.pk}",
            )
        )
    return out
