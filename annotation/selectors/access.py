"""Fetch an object and check that the user may see it, in one query where possible.

Outsiders get ``Http404`` (existence is not revealed); members lacking the role get
``PermissionDenied``.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import Http404

from annotation.models import Case, Image, Membership, Project, Read, Role, Series

UserLike = User | AnonymousUser

REVIEW_ROLES = {Role.REVIEWER, Role.LEAD}


def membership_role(*, user: UserLike, project_id: int) -> str | None:
    if not user.is_authenticated:
        return None
    role = (
        Membership.objects.filter(project_id=project_id, user_id=user.pk)
        .values_list("role", flat=True)
        .first()
    )
    return role


def access_project(*, user: UserLike, slug: str) -> tuple[Project, str]:
    if not user.is_authenticated:
        raise Http404("no such project")
    row = (
        Membership.objects.filter(project__slug=slug, user_id=user.pk)
        .select_related("project")
        .first()
    )
    if row is None:
        raise Http404("no such project")
    return row.project, row.role


def access_case(*, user: UserLike, case_id: int) -> tuple[Case, str]:
    if not user.is_authenticated:
        raise Http404("no such case")
    case = Case.objects.select_related("project").filter(pk=case_id).first()
    if case is None:
        raise Http404("no such case")
    role = membership_role(user=user, project_id=case.project_id)
    if role is None:
        raise Http404("no such case")
    return case, role


def access_series(*, user: UserLike, series_id: int) -> tuple[Series, str]:
    series = (
        Series.objects.select_related("case").filter(pk=series_id).first()
        if user.is_authenticated
        else None
    )
    if series is None:
        raise Http404("no such series")
    role = membership_role(user=user, project_id=series.case.project_id)
    if role is None:
        raise Http404("no such series")
    return series, role


def access_image(*, user: UserLike, image_id: int) -> Image:
    """The pixel API's check: one query joining image, series and the user's membership."""
    if not user.is_authenticated:
        raise Http404("no such image")
    image = (
        Image.objects.select_related("series")
        .defer("series__header", "series__thumbnail")
        .filter(pk=image_id, series__case__project__memberships__user_id=user.pk)
        .first()
    )
    if image is None:
        raise Http404("no such image")
    return image


def read_visible(*, read: Read, user: UserLike, role: str, blinded: bool) -> bool:
    """Reviewers and leads see every read; with blinding, others see only their own."""
    if role in REVIEW_ROLES or not blinded:
        return True
    return read.author_id == user.pk or read.kind in {"model", "imported"}


def access_read(*, user: UserLike, read_id: int, write: bool = False) -> tuple[Read, str]:
    read = (
        Read.objects.select_related("case__project").filter(pk=read_id).first()
        if user.is_authenticated
        else None
    )
    if read is None:
        raise Http404("no such read")
    role = membership_role(user=user, project_id=read.case.project_id)
    if role is None or not read_visible(
        read=read, user=user, role=role, blinded=read.case.project.blinded
    ):
        raise Http404("no such read")
    if write and not (read.author_id == user.pk or role in REVIEW_ROLES):
        raise PermissionDenied("only the read's author and the reviewers may change it")
    return read, role
