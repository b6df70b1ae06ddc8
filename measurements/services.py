"""Measuring revisions: every saved revision gets its results, in the same transaction.

The pure layer (measurements/core) does the geometry; this module picks the view and
spacing from the image's series and stores values with algorithm version and parameters.
"""

from __future__ import annotations

from typing import Any

from annotation.models import Image, Revision
from measurements.core.case import measure_image_shapes
from measurements.models import MeasurementResult

# Labels whose presence makes an image worth measuring.
MEASURED_LABELS = {"cord", "canal", "d_i", "d_a", "d_b", "D_i", "D_a", "D_b", "T", "S"}


def _relevant(shapes: list[dict[str, Any]]) -> bool:
    return any(isinstance(s, dict) and s.get("label") in MEASURED_LABELS for s in shapes)


def measure_shapes_by_image(
    *, shapes: dict[str, list[dict[str, Any]]], images: dict[str, Image], reference: str = "C3C7"
) -> list[dict[str, Any]]:
    """Results for each image with measurable shapes: the API and the stored rows share it."""
    results: list[dict[str, Any]] = []
    for key, image_shapes in shapes.items():
        image = images.get(str(key))
        if image is None or not isinstance(image_shapes, list) or not _relevant(image_shapes):
            continue
        series = image.series
        view = series.orientation if series.orientation in {"sagittal", "axial"} else None
        spacing = (
            (series.pixel_spacing_row, series.pixel_spacing_col) if series.spacing_known else None
        )
        result = measure_image_shapes(
            shapes=image_shapes,
            spacing=spacing,
            image_shape=(series.rows, series.columns),
            view=view,
            reference=reference,
            both_references=reference == "C3C7",
        )
        result["image"] = image.pk
        result.pop("profile", None)
        results.append(result)
    return results


def case_images(*, case_id: int) -> dict[str, Image]:
    rows = (
        Image.objects.filter(series__case_id=case_id)
        .select_related("series")
        .defer("series__header", "series__thumbnail")
    )
    return {str(image.pk): image for image in rows}


def measurements_store(*, revision: Revision) -> list[MeasurementResult]:
    """Compute and store the results of one revision (called inside the save transaction)."""
    if not revision.shapes:
        return []
    images = case_images(case_id=revision.read.case_id)
    results = measure_shapes_by_image(shapes=revision.shapes, images=images)
    rows = [
        MeasurementResult(
            revision=revision,
            image_id=result["image"],
            view=result["view"] or "",
            values=result["values"],
            chords=result["chords"],
            warnings=result["warnings"],
            missing=result["missing"],
            algorithm_version=result["algorithm_version"],
            parameters=result["parameters"],
        )
        for result in results
    ]
    return MeasurementResult.objects.bulk_create(rows)
