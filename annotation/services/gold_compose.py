"""Composing gold shapes per structure from other reads' head revisions: take a structure
from one read, or fuse it (masks by majority vote or STAPLE, keypoints by their mean), and
record for every resulting shape where it came from (measurements.core.fusion.Provenance).

Pure computation on the reads' shapes and the images' grids; gold.py does the checks and
the write. Provenance of a revision is {"<image id>": [entry per shape, in order]}.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from annotation.models import Read
from annotation.selectors.agreement import KEYPOINTS, Grid, Structures
from annotation.services.cases import WorkflowError
from measurements.core import (
    FusionError,
    Provenance,
    SourceRevision,
    keypoint_mean,
    majority_vote,
    mask_to_polygon,
    shape_to_mask,
    staple,
)

Shape = dict[str, Any]
ShapesByImage = dict[str, list[Shape]]
ProvenanceByImage = dict[str, list[dict[str, Any] | None]]

FUSE_METHODS = {"majority": "majority_vote", "staple": "staple", "mean": "mean"}


class ComposeError(WorkflowError):
    """A compose request that cannot be carried out (400); ``field`` names the bad part."""

    status = 400
    code = "compose_invalid"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, **{field: [message]})
        self.field = field


@dataclass(frozen=True)
class StructureSpec:
    """One structure's instruction: copy from one read, or fuse several by a method."""

    structure: str
    reads: tuple[Read, ...]  # each with its head loaded
    method: str  # "copy", "majority_vote", "staple" or "mean"


@dataclass
class Composition:
    shapes: ShapesByImage
    provenance: ProvenanceByImage

    def add(self, image: str, shape: Shape, provenance: Provenance) -> None:
        self.shapes.setdefault(image, []).append(shape)
        self.provenance.setdefault(image, []).append(provenance.as_dict())


def structure_of(shape: Mapping[str, Any], structures: Structures) -> str | None:
    """The adjudicated structure a shape belongs to: an area label, "corners", or any other
    label taken as a whole (calipers, boxes)."""
    found = structures.of_shape(shape)
    if found is not None:
        return found
    label = shape.get("label")
    return str(label) if isinstance(label, str) and label else None


def _source(read: Read) -> SourceRevision:
    assert read.head is not None
    return SourceRevision(read=read.pk, revision=read.head.pk)


def _copy(spec: StructureSpec, structures: Structures, out: Composition) -> None:
    read = spec.reads[0]
    assert read.head is not None
    for image, items in read.head.shapes.items():
        for shape in items:
            if structure_of(shape, structures) == spec.structure:
                label = str(shape.get("label"))
                out.add(str(image), dict(shape), Provenance(label, "copy", (_source(read),)))


def _polygon(label: str, points: list[list[float]]) -> Shape:
    return {
        "label": label,
        "points": points,
        "group_id": None,
        "description": "",
        "shape_type": "polygon",
        "flags": {},
    }


def _masks_on(read: Read, image: str, label: str, grid: Grid) -> np.ndarray[Any, Any]:
    assert read.head is not None
    mask = np.zeros((grid.rows, grid.columns), dtype=bool)
    for shape in read.head.shapes.get(image) or []:
        if shape.get("label") == label and (shape.get("shape_type") or "polygon") != "point":
            mask |= shape_to_mask(shape, image_shape=(grid.rows, grid.columns))
    return mask


def _fuse_area(
    spec: StructureSpec, grids: Mapping[str, Grid], out: Composition, field: str
) -> None:
    label = spec.structure
    images = sorted(
        {
            str(image)
            for read in spec.reads
            for image, items in read.head.shapes.items()  # type: ignore[union-attr]
            if any(s.get("label") == label for s in items)
        },
        key=str,
    )
    parameters: dict[str, str | float] = (
        {"tie": "out"} if spec.method == "majority_vote" else {"threshold": 0.5}
    )
    provenance = Provenance(label, spec.method, tuple(_source(r) for r in spec.reads), parameters)  # type: ignore[arg-type]
    for image in images:
        grid = grids.get(image)
        if grid is None:
            raise ComposeError(field, f"image {image} is not an image of this case")
        try:
            masks = [_masks_on(read, image, label, grid) for read in spec.reads]
            fused = majority_vote(masks) if spec.method == "majority_vote" else staple(masks).mask
            if fused.any():
                out.add(image, _polygon(label, mask_to_polygon(fused)), provenance)
        except FusionError as exc:
            raise ComposeError(field, f"{label} on image {image}: {exc}") from exc


def _points_of(read: Read, keypoints: frozenset[str]) -> dict[str, tuple[str, tuple[float, float]]]:
    """label → (image, (x, y)): the first point of each keypoint label in the read."""
    found: dict[str, tuple[str, tuple[float, float]]] = {}
    assert read.head is not None
    for image, items in read.head.shapes.items():
        for shape in items:
            label = shape.get("label")
            if shape.get("shape_type") == "point" and label in keypoints and label not in found:
                x, y = shape["points"][0]
                found[str(label)] = (str(image), (float(x), float(y)))
    return found


def _fuse_keypoints(spec: StructureSpec, keypoints: frozenset[str], out: Composition) -> None:
    per_read = [_points_of(read, keypoints) for read in spec.reads]
    means = keypoint_mean([{k: v[1] for k, v in points.items()} for points in per_read])
    for label, (x, y) in means.items():
        having = [(r, p[label][0]) for r, p in zip(spec.reads, per_read, strict=True) if label in p]
        # The slice most of the reads placed it on (the first read's on a tie).
        image = Counter(img for _, img in having).most_common(1)[0][0]
        sources = tuple(_source(r) for r, _ in having)
        shape: Shape = {
            "label": label,
            "points": [[x, y]],
            "group_id": None,
            "description": "",
            "shape_type": "point",
            "flags": {},
        }
        if len(sources) == 1:
            out.add(image, shape, Provenance(label, "copy", sources))
        else:
            out.add(image, shape, Provenance(label, "mean", sources))


def compose(
    *,
    base: ShapesByImage,
    base_provenance: ProvenanceByImage,
    specs: Sequence[StructureSpec],
    structures: Structures,
    grids: Mapping[str, Grid],
) -> Composition:
    """The gold shapes: ``base`` (the gold head) without the structures being recomposed,
    then each structure built from its reads. FusionError problems become ComposeError."""
    redo = {spec.structure for spec in specs}
    out = Composition(shapes={}, provenance={})
    for image, items in base.items():
        kept = base_provenance.get(image) or []
        for index, shape in enumerate(items):
            if structure_of(shape, structures) in redo:
                continue
            out.shapes.setdefault(image, []).append(shape)
            out.provenance.setdefault(image, []).append(kept[index] if index < len(kept) else None)
    for spec in specs:
        field = f"structures.{spec.structure}"
        if spec.method == "copy":
            _copy(spec, structures, out)
        elif spec.structure == KEYPOINTS:
            _fuse_keypoints(spec, structures.keypoints, out)
        else:
            _fuse_area(spec, grids, out, field)
    return Composition(
        shapes={k: v for k, v in out.shapes.items() if v},
        provenance={k: v for k, v in out.provenance.items() if out.shapes.get(k)},
    )
