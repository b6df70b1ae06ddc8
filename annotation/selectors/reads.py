"""Reads and revisions as the API shows them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User

from annotation.models import Case, Read, Revision
from annotation.selectors.access import REVIEW_ROLES, read_visible
from annotation.selectors.geometry import image_geometries
from annotation.shapes import ImageBounds


def _author(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.get_username()}


def revision_summary(revision: Revision) -> dict[str, Any]:
    return {
        "id": revision.pk,
        "number": revision.number,
        "parent": revision.parent_id,
        "author": _author(revision.author),
        "created_at": revision.created_at.isoformat(),
        "source": revision.source,
        "shape_count": revision.shape_count,
        "message": revision.message,
    }


def revision_full(revision: Revision) -> dict[str, Any]:
    data = revision_summary(revision)
    data["read"] = revision.read_id
    data["shapes"] = revision.shapes
    data["case_fields"] = revision.case_fields
    data["restored_from"] = revision.restored_from_id
    return data


def read_payload(read: Read, *, user: User, role: str) -> dict[str, Any]:
    head = read.head
    return {
        "id": read.pk,
        "case": read.case_id,
        "kind": read.kind,
        "name": read.name or (read.author.get_username() if read.author else ""),
        "author": _author(read.author),
        "head": None
        if head is None
        else {
            "id": head.pk,
            "number": head.number,
            "created_at": head.created_at.isoformat(),
            "author": _author(head.author),
        },
        "revision_count": read.revision_count,
        "editable": read.kind in {"human", "gold"}
        and (read.author_id == user.pk or role in REVIEW_ROLES),
    }


def read_list_for_case(*, case: Case, user: User, role: str) -> list[dict[str, Any]]:
    reads = (
        Read.objects.filter(case=case)
        .select_related("author", "head__author")
        .defer("head__shapes", "head__case_fields")
        .order_by("id")
    )
    blinded = case.project.blinded
    return [
        read_payload(read, user=user, role=role)
        for read in reads
        if read_visible(read=read, user=user, role=role, blinded=blinded)
    ]


def revision_history(*, read: Read) -> list[dict[str, Any]]:
    rows = (
        Revision.objects.filter(read=read)
        .select_related("author")
        .only(
            "id",
            "number",
            "parent_id",
            "created_at",
            "source",
            "shape_count",
            "message",
            "author__id",
            "author__username",
        )
        .order_by("-number")
    )
    return [revision_summary(row) for row in rows]


def case_image_bounds(*, case_id: int, image_ids: Iterable[object]) -> dict[str, ImageBounds]:
    """Sizes of the named images of the case (the others are absent: not part of it)."""
    geometries = image_geometries(case_id=case_id, image_ids=image_ids)
    return {key: ImageBounds(rows=g.rows, columns=g.columns) for key, g in geometries.items()}
