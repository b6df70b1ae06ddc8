"""Comments of a case as a user may see them (blinding), with their authors, in one query."""

from __future__ import annotations

from annotation.models import Case, Comment
from annotation.permissions import UserLike, visible_comments_q
from annotation.selectors.design import role_unaided


def comment_list_for_case(*, case: Case, user: UserLike, role: str) -> list[Comment]:
    """The case's comments this user may see, oldest first (threads: ``parent`` = root)."""
    visible = visible_comments_q(
        user=user,
        role=role,
        blinded=case.project.blinded,
        unaided=role_unaided(project_id=case.project_id, role=role),
    )
    return list(
        Comment.objects.filter(visible, case=case)
        .select_related("author", "resolved_by", "read")
        .order_by("created_at", "id")
    )
