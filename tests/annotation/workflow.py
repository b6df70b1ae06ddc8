"""Builders shared by the review-workflow tests (design, queue, submit): complete reads,
users in a role, cases with a split."""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.auth.models import User
from django.test import Client

from annotation.label_templates import VERTEBRAE
from annotation.models import Case, Image, Project, Read, ReadKind
from annotation.models.reads import RevisionSource
from annotation.services.projects import membership_set
from annotation.services.revisions import revision_create

_numbers = itertools.count(1)


def member(project: Project, role: str) -> tuple[User, Client]:
    user = User.objects.create(username=f"{role}-{next(_numbers)}")
    membership_set(project=project, user=user, role=role)
    client = Client()
    client.force_login(user)
    return user, client


def bare_cases(project: Project, count: int, **fields: Any) -> list[Case]:
    """Cases without series (the queue only needs rows), oldest first."""
    start = next(_numbers) * 10_000
    return [
        Case.objects.create(
            project=project, pseudonym=f"Q-{start + i:06d}", source_key=f"q-{start + i}", **fields
        )
        for i in range(count)
    ]


def _polygon(label: str, x0: float, x1: float, y0: float, y1: float) -> dict[str, Any]:
    points = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    return {"label": label, "shape_type": "polygon", "points": points, "flags": {}}


def _point(label: str, x: float, y: float) -> dict[str, Any]:
    return {"label": label, "shape_type": "point", "points": [[x, y]], "flags": {}}


def corners(*, flip: str | None = None) -> list[dict[str, Any]]:
    """The 20 vertebral corners, plausible (anterior left, C3 on top); `flip` names one
    vertebra whose superior and inferior corners are swapped."""
    out = []
    for k, v in enumerate(VERTEBRAE):
        top, bottom = 5.0 + 11 * k, 13.0 + 11 * k
        if v == flip:
            top, bottom = bottom, top
        out += [_point(f"{v}_AS", 10, top), _point(f"{v}_AI", 10, bottom)]
        out += [_point(f"{v}_PS", 30, top), _point(f"{v}_PI", 30, bottom)]
    return out


def complete_shapes(
    case: Case, *, leave_out: tuple[str, ...] = (), flip: str | None = None
) -> dict[str, Any]:
    """Shapes meeting the cervical template on make_case's images: cord and canal and the
    corners on the sagittal mid-slice, cord and canal on an axial slice."""
    images = list(
        Image.objects.filter(series__case=case)
        .select_related("series")
        .order_by("series__number", "index")
    )
    sagittal = [i for i in images if i.series.orientation == "sagittal"]
    axial = [i for i in images if i.series.orientation == "axial"]
    mid = sagittal[(len(sagittal) - 1) // 2]
    on_mid = [
        _polygon("cord", 15, 20, 5, 60),
        _polygon("canal", 12, 23, 4, 61),
        *corners(flip=flip),
    ]
    on_axial = [_polygon("cord", 20, 28, 20, 28), _polygon("canal", 16, 32, 16, 32)]
    shapes = {str(mid.pk): on_mid, str(axial[0].pk): on_axial}
    return {
        key: [
            s
            for s in value
            if s["label"] not in leave_out and not any(s["label"].startswith(p) for p in leave_out)
        ]
        for key, value in shapes.items()
    }


def human_read(case: Case, author: User, shapes: dict[str, Any] | None = None) -> Read:
    read = Read.objects.create(case=case, kind=ReadKind.HUMAN, author=author)
    revision_create(
        read=read, parent_id=None, shapes=shapes or {}, author=author, source=RevisionSource.SAVE
    )
    read.refresh_from_db()
    return read
