"""Disc levels of the axial images of cases, from a read's sagittal vertebral corners
(measurements.core.levels) with explicit labelme image flags winning; the geometry comes
from the stored series (DICOM ImageOrientationPatient / ImagePositionPatient / PixelSpacing,
or the same values that NIfTI ingest derives from the affine).

One query for the images of any number of cases (`case_images`); the rest is pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from annotation.models import Image, Read, ReadKind, Revision
from annotation.models.imaging import Orientation
from measurements.core.levels import (
    AxialPlane,
    DiscLevels,
    ImageLevel,
    assign_levels,
    corners_in_patient_space,
    flag_levels,
    merged_levels,
)
from measurements.core.patient import SliceGeometry, slice_geometry


@dataclass
class CaseImages:
    """A case's axial images with their planes, and the geometry of its sagittal images
    (or why an image has none)."""

    axial: list[AxialPlane] = field(default_factory=list)
    axial_problems: set[str] = field(default_factory=set)
    sagittal: dict[int, SliceGeometry | str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReadLevels:
    """The levels of a read's axial images: {image id: level}, whose corners placed the
    automatic ones (a read id, None when no corners were used) and notes on what is missing."""

    levels: dict[int, ImageLevel]
    corners_read_id: int | None
    notes: tuple[str, ...]


def corner_image_ids(shapes: Mapping[str, Any]) -> set[int]:
    """Images of a revision's shapes that carry a point (where corners may be)."""
    return {
        int(key)
        for key, image_shapes in shapes.items()
        if key.isdigit()
        and isinstance(image_shapes, list)
        and any(isinstance(s, dict) and s.get("shape_type") == "point" for s in image_shapes)
    }


def case_images(*, case_ids: Iterable[int], sagittal_ids: Iterable[int]) -> dict[int, CaseImages]:
    """{case id: CaseImages} for every axial image of the cases and the named sagittal
    images (those carrying corners), in one query."""
    cases = set(case_ids)
    out: dict[int, CaseImages] = {case_id: CaseImages() for case_id in cases}
    if not cases:
        return out
    rows = (
        Image.objects.filter(series__case_id__in=cases)
        .filter(
            Q(series__orientation=Orientation.AXIAL)
            | Q(pk__in=set(sagittal_ids), series__orientation=Orientation.SAGITTAL)
        )
        .values_list(
            "id",
            "image_position",
            "series__case_id",
            "series__orientation",
            "series__row_direction",
            "series__column_direction",
            "series__pixel_spacing_row",
            "series__pixel_spacing_col",
            "series__spacing_known",
            "series__rows",
            "series__columns",
            "series__slice_spacing",
        )
        .order_by("id")
    )
    for pk, ipp, case_id, orientation, row, col, sr, sc, known, rows_, cols, gap in rows:
        geometry = slice_geometry(
            image_position=ipp,
            row_direction=row,
            column_direction=col,
            spacing=(sr, sc) if known else (0.0, 0.0),
            shape=(rows_, cols),
        )
        target = out[case_id]
        if orientation == Orientation.SAGITTAL:
            target.sagittal[pk] = geometry
        elif isinstance(geometry, SliceGeometry):
            target.axial.append(AxialPlane(pk, geometry, gap))
        else:
            target.axial_problems.add(geometry)
    return out


def auto_levels(shapes: Mapping[str, Any], images: CaseImages) -> DiscLevels:
    """The levels a revision's sagittal corners give the case's axial images; without
    corners or geometry, none, and the notes say why."""
    corners, notes = corners_in_patient_space(shapes, images.sagittal)
    if not corners:
        why = "no vertebral corners on a sagittal image with geometry"
        return DiscLevels((), (), (*notes, why))
    if not images.axial:
        problems = sorted(images.axial_problems) or ["the case has no axial image"]
        why = f"no axial image with geometry ({'; '.join(problems)})"
        return DiscLevels((), (), (*notes, why))
    found = assign_levels(corners, images.axial)
    if not found.discs:
        why = f"no disc placeable from the {len(corners)} of 20 vertebral corners placed"
        return DiscLevels((), (), (*notes, *found.notes, why))
    if not found.assignments:
        why = "no axial image within tolerance of a disc the corners place"
        return DiscLevels(found.discs, (), (*notes, *found.notes, why))
    return DiscLevels(found.discs, found.assignments, (*notes, *found.notes))


def read_levels(
    *,
    flags: Mapping[int, str],
    own: tuple[int, Mapping[str, Any]] | None,
    fallback: tuple[int, Mapping[str, Any]] | None,
    images: CaseImages,
) -> ReadLevels:
    """Levels of one read's axial images: its image flags win; the rest from its own
    sagittal corners (`own`: read id, head shapes), else from `fallback`'s (the case's gold
    read, when the requester may see it), else none. `flags`: flag_levels of its image
    flags."""
    notes: list[str] = []
    for source in (own, fallback):
        if source is None:
            continue
        read_id, shapes = source
        found = auto_levels(shapes, images)
        if found.discs:
            return ReadLevels(merged_levels(flags, found), read_id, found.notes)
        notes.extend(found.notes)
    empty = DiscLevels((), (), ())
    return ReadLevels(merged_levels(flags, empty), None, tuple(dict.fromkeys(notes)))


def meta_levels(meta: Any) -> dict[int, str]:
    """{image id: level} of a revision's image_meta flags."""
    return flag_levels(image_flags(meta))


def image_flags(meta: Any) -> dict[str, dict[str, Any]]:
    """The labelme image flags of a revision's image_meta: {"<image id>": {flag: value}}."""
    if not isinstance(meta, dict):
        return {}
    return {
        key: dict(entry.get("flags") or {})
        for key, entry in meta.items()
        if isinstance(entry, dict) and isinstance(entry.get("flags") or {}, dict)
    }


def case_read_levels(*, case_id: int, reads: list[Read]) -> dict[int, ReadLevels]:
    """{read id: ReadLevels} for the given reads of one case (those the requester may see):
    each read's image flags (its own first, then the other given reads'), then its own
    sagittal corners, else the gold read's when it is among `reads`. Two queries."""
    heads = {r.head_id: r.pk for r in reads if r.head_id is not None}
    stored: dict[int, tuple[dict[str, Any], dict[int, str]]] = {}
    for revision_id, shapes, meta in Revision.objects.filter(pk__in=heads).values_list(
        "id", "shapes", "image_meta"
    ):
        stored[heads[revision_id]] = (shapes if isinstance(shapes, dict) else {}, meta_levels(meta))
    sagittal = {i for shapes, _ in stored.values() for i in corner_image_ids(shapes)}
    images = case_images(case_ids=[case_id], sagittal_ids=sagittal)[case_id]
    gold = next((r.pk for r in reads if r.kind == ReadKind.GOLD and r.pk in stored), None)
    out: dict[int, ReadLevels] = {}
    for read in reads:
        shapes, own_flags = stored.get(read.pk, ({}, {}))
        flags: dict[int, str] = {}
        for other, (_, other_flags) in stored.items():
            if other != read.pk:
                flags.update(other_flags)
        flags.update(own_flags)
        fallback = (gold, stored[gold][0]) if gold is not None and gold != read.pk else None
        out[read.pk] = read_levels(
            flags=flags,
            own=(read.pk, shapes) if read.pk in stored else None,
            fallback=fallback,
            images=images,
        )
    return out
