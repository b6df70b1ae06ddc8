"""Creating reads: a reader's own read, a model's read, an imported read."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from annotation.models import Case, Read, ReadKind
from annotation.models.reads import RevisionSource
from annotation.selectors.access import membership_role
from annotation.selectors.design import role_unaided
from annotation.services.revisions import revision_create


def read_get_or_create_human(*, case: Case, author: User) -> tuple[Read, bool]:
    """The user's own read of a case. A new read starts from the newest model read, if any,
    so the annotator corrects the pre-labels instead of drawing from nothing, unless the
    study design keeps the author's role unaided."""
    existing = Read.objects.filter(case=case, author_id=author.pk, kind=ReadKind.HUMAN).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            read = Read.objects.create(case=case, kind=ReadKind.HUMAN, author=author)
            seed = (
                None
                if _unaided(case=case, author=author)
                else (
                    Read.objects.filter(case=case, kind=ReadKind.MODEL, head__isnull=False)
                    .select_related("head")
                    .order_by("-id")
                    .first()
                )
            )
            if seed is not None and seed.head is not None:
                revision_create(
                    read=read,
                    parent_id=None,
                    shapes=seed.head.shapes,
                    case_fields=seed.head.case_fields,
                    author=author,
                    source=RevisionSource.MODEL,
                    message=f"started from {seed.name or 'model read'}",
                )
    except IntegrityError:
        # Two tabs opened the case at once: the other one created the read.
        return Read.objects.get(case=case, author_id=author.pk, kind=ReadKind.HUMAN), False
    return read, True


def _unaided(*, case: Case, author: User) -> bool:
    role = membership_role(user=author, project_id=case.project_id)
    return role_unaided(project_id=case.project_id, role=role)


@transaction.atomic
def read_create_imported(
    *,
    case: Case,
    name: str,
    shapes: dict[str, list[dict[str, Any]]],
    case_fields: dict[str, Any] | None = None,
) -> Read:
    """Shapes that came with the data (NIfTI masks, a labelme folder) become their own read."""
    read = Read.objects.create(case=case, kind=ReadKind.IMPORTED, name=name[:200])
    revision_create(
        read=read,
        parent_id=None,
        shapes=shapes,
        case_fields=case_fields,
        source=RevisionSource.IMPORT,
        message=f"imported {name}"[:500],
    )
    return read
