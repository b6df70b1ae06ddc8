"""Reads and revisions as the API shows them: models, fetched with what the replies need."""

from __future__ import annotations

from collections.abc import Iterable

from annotation.models import Case, Read, Revision
from annotation.permissions import UserLike, visible_reads_q
from annotation.selectors.design import role_unaided
from annotation.selectors.geometry import image_geometries
from annotation.shapes import ImageBounds


def read_list_for_case(*, case: Case, user: UserLike, role: str) -> list[Read]:
    """The case's reads this user may see (blinding), with head and authors, by id."""
    unaided = role_unaided(project_id=case.project_id, role=role)
    visible = visible_reads_q(user=user, role=role, blinded=case.project.blinded, unaided=unaided)
    return list(
        Read.objects.filter(visible, case=case)
        .select_related("author", "head__author")
        .defer("head__shapes", "head__case_fields", "head__image_meta")
        .order_by("id")
    )


def read_with_head(*, read_id: int) -> Read:
    """A read with its authors and its head revision in full (after access_read)."""
    return Read.objects.select_related("author", "head__author").get(pk=read_id)


def revision_history(*, read: Read) -> list[Revision]:
    return list(
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


def case_image_bounds(*, case_id: int, image_ids: Iterable[object]) -> dict[str, ImageBounds]:
    """Sizes of the named images of the case (the others are absent: not part of it)."""
    geometries = image_geometries(case_id=case_id, image_ids=image_ids)
    return {key: ImageBounds(rows=g.rows, columns=g.columns) for key, g in geometries.items()}
