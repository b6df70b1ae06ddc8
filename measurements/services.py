"""Measuring revisions: every saved revision gets its results, in the same transaction.

The pure layer (measurements/core) does the geometry; this module picks the view and
spacing from the image's series and stores values with algorithm version and parameters.
An image whose shapes did not change since the parent revision keeps the parent's result
(copied, so each revision still has its own rows): a save re-measures only what moved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from annotation.domain_events import RevisionSaved
from annotation.live import case_group, event_publish
from annotation.models import Image, Revision
from annotation.selectors.geometry import ImageGeometry, image_geometries
from measurements.core.case import ALGORITHM_VERSION, measure_image_shapes
from measurements.models import MeasurementResult
from measurements.preview import MEASURED_LABELS, ImageInfo, PreviewRequest, preview_run


def _relevant(shapes: object) -> bool:
    return isinstance(shapes, list) and any(
        isinstance(s, dict) and s.get("label") in MEASURED_LABELS for s in shapes
    )


def _view(geometry: ImageGeometry) -> str | None:
    return geometry.orientation if geometry.orientation in {"sagittal", "axial"} else None


def measure_image(
    *, shapes: list[dict[str, Any]], geometry: ImageGeometry, reference: str = "C3C7"
) -> dict[str, Any]:
    view = _view(geometry)
    result = measure_image_shapes(
        shapes=shapes,
        spacing=geometry.spacing,
        image_shape=(geometry.rows, geometry.columns),
        view=view,
        reference=reference,
        both_references=reference == "C3C7",
        with_profile=False,
    )
    result["image"] = geometry.id
    return result


def measure_shapes_by_image(
    *, case_id: int, shapes: Mapping[str, object], reference: str = "C3C7"
) -> list[dict[str, Any]]:
    """Results for each image of the case with measurable shapes (the live preview's answer)."""
    keys = [str(key) for key, items in shapes.items() if _relevant(items)]
    geometries = image_geometries(case_id=case_id, image_ids=keys)
    return [
        measure_image(shapes=shapes[key], geometry=geometries[key], reference=reference)  # type: ignore[arg-type]
        for key in keys
        if key in geometries
    ]


def measure_preview(*, case_id: int, body: bytes) -> list[dict[str, Any]]:
    """The live preview of a raw request body, parsed, checked and measured in a child
    process within MEASURE_PREVIEW_TIME_BUDGET_S (raises the Preview*Error exceptions of
    measurements.preview; PreviewInvalidError carries the 400 answer)."""
    image_ids = Image.objects.filter(series__case_id=case_id).values_list("pk", flat=True)
    geometries = image_geometries(case_id=case_id, image_ids=list(image_ids))
    images = {
        key: ImageInfo(rows=g.rows, columns=g.columns, spacing=g.spacing, view=_view(g))
        for key, g in geometries.items()
    }
    request = PreviewRequest(
        body=body,
        images=images,
        max_depth=settings.API_JSON_MAX_DEPTH,
        max_points=settings.MEASURE_PREVIEW_MAX_POINTS,
    )
    return preview_run(
        request=request,
        budget_s=settings.MEASURE_PREVIEW_TIME_BUDGET_S,
        slots=settings.MEASURE_PREVIEW_PROCESSES,
    )


def measurements_store(*, revision: Revision) -> list[MeasurementResult]:
    """Compute and store the results of one revision (called inside the save transaction)."""
    keys = [key for key, items in revision.shapes.items() if _relevant(items)]
    if not keys:
        return []
    parent_shapes: dict[str, Any] = {}
    reusable: dict[str, MeasurementResult] = {}
    if revision.parent_id is not None:
        parent = Revision.objects.only("shapes").get(pk=revision.parent_id)
        parent_shapes = parent.shapes
        unchanged = [k for k in keys if parent_shapes.get(k) == revision.shapes[k]]
        if unchanged:
            reusable = {
                str(row.image_id): row
                for row in MeasurementResult.objects.filter(
                    revision_id=revision.parent_id,
                    image_id__in=[int(k) for k in unchanged],
                    algorithm_version=ALGORITHM_VERSION,
                )
            }
    to_measure = [k for k in keys if k not in reusable]
    geometries = image_geometries(case_id=revision.read.case_id, image_ids=to_measure)
    rows = [
        MeasurementResult(
            revision=revision,
            image_id=old.image_id,
            view=old.view,
            values=old.values,
            chords=old.chords,
            warnings=old.warnings,
            missing=old.missing,
            algorithm_version=old.algorithm_version,
            parameters=old.parameters,
        )
        for old in reusable.values()
    ]
    for key in to_measure:
        if key not in geometries:
            continue
        result = measure_image(shapes=revision.shapes[key], geometry=geometries[key])
        rows.append(
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
        )
    return MeasurementResult.objects.bulk_create(rows)


def measurements_on_save(event: RevisionSaved) -> None:
    """Subscriber of RevisionSaved, in the save's transaction: store the revision's results."""
    measurements_store(revision=event.revision)


def measurements_announce(event: RevisionSaved) -> None:
    """Subscriber of RevisionSaved, after commit: `measurement.updated` to the case's
    viewers (through the same channel as every live event, so a worker's model read is
    announced too)."""
    read = event.revision.read
    event_publish(
        group=case_group(read.case_id),
        type="measurement.updated",
        payload={
            "revision": event.revision.pk,
            "read": read.pk,
            "read_kind": read.kind,
            "read_author": read.author_id,
        },
    )
