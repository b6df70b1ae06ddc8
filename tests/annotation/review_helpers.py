"""A case under review: the annotator's, the reader's and a model's reads of the same
sagittal slice (cord, canal, three vertebral corners), each a little apart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User

from annotation.models import Case, CaseState, Image, Read, ReadKind, Revision
from annotation.services.revisions import revision_create

CORNERS = ("C3_AS", "C3_AI", "C3_PS")


def square(label: str, x: float, y: float, w: float, h: float) -> dict[str, Any]:
    points = [[x, y], [x + w, y], [x + w, y + h], [x, y + h]]
    return {"label": label, "shape_type": "polygon", "points": points, "flags": {}}


def point(label: str, x: float, y: float) -> dict[str, Any]:
    return {"label": label, "shape_type": "point", "points": [[x, y]], "flags": {}}


def read_shapes(*, shift: float, corners_shift: tuple[float, float] = (0, 0)) -> list[Any]:
    """Cord, canal, three corners and a marker (not adjudicated), moved by ``shift`` px."""
    dx, dy = corners_shift
    return [
        square("cord", 12 + shift, 10, 8, 30),
        square("canal", 8 + shift, 6, 18, 40),
        *(point(name, 30 + dx + 2 * i, 8 + dy + 10 * i) for i, name in enumerate(CORNERS)),
        point("marker", 3, 3),
    ]


@dataclass
class Review:
    case: Case
    sagittal: Image
    axial: Image
    annotator: Read
    reader: Read
    model: Read

    def heads(self) -> dict[str, Revision]:
        return {
            name: Revision.objects.get(
                read=read, number=Read.objects.get(pk=read.pk).revision_count
            )
            for name, read in (
                ("annotator", self.annotator),
                ("reader", self.reader),
                ("model", self.model),
            )
        }


def make_review(*, case: Case, cast: dict[str, User], state: str = CaseState.IN_REVIEW) -> Review:
    images = Image.objects.filter(series__case=case).select_related("series")
    sagittal = images.filter(series__orientation="sagittal").order_by("index")[1]
    axial = images.filter(series__orientation="axial").order_by("index")[1]
    reads = {}
    for name, kind, author, shift, corners in (
        ("annotator", ReadKind.HUMAN, cast["annotator"], 0.0, (0.0, 0.0)),
        ("reader", ReadKind.HUMAN, cast["reader"], 2.0, (1.0, 0.0)),
        ("model", ReadKind.MODEL, None, 4.0, (3.0, 4.0)),
    ):
        read = Read.objects.create(case=case, kind=kind, author=author, name="")
        shapes = {str(sagittal.pk): read_shapes(shift=shift, corners_shift=corners)}
        if name != "reader":
            shapes[str(axial.pk)] = [square("cord", 20 + shift, 20, 6, 5)]
        revision_create(read=read, parent_id=None, shapes=shapes, author=author)
        reads[name] = read
    Case.objects.filter(pk=case.pk).update(state=state)
    case.state = state
    return Review(case=case, sagittal=sagittal, axial=axial, **reads)
