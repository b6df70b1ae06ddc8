"""Fetch an object and check that the user may see it, in one query where possible.

Outsiders get ``Http404`` (existence is not revealed); members lacking the role get
``PermissionDenied``. The rules themselves live in ``annotation.permissions``.
A request made with a personal API token limited to some projects is an outsider of the
others (``annotation.tokens.token_project_ids``).
"""

from __future__ import annotations

from django.http import Http404

from annotation.models import Case, Image, Membership, Project, Read, ReadKind, Series
from annotation.permissions import (
    UserLike,
    may_view_project,
    read_visible_to,
    require_append_revision,
)
from annotation.selectors.design import role_unaided
from annotation.tokens import token_project_ids


def in_token_scope(*, user: UserLike, project_id: int) -> bool:
    """Whether the request's token (if any) reaches this project."""
    scope = token_project_ids(user)
    return scope is None or project_id in scope


def membership_role(*, user: UserLike, project_id: int) -> str | None:
    if not user.is_authenticated or not in_token_scope(user=user, project_id=project_id):
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
    if (
        row is None
        or not may_view_project(role=row.role)
        or not in_token_scope(user=user, project_id=row.project_id)
    ):
        raise Http404("no such project")
    return row.project, row.role


def access_case(*, user: UserLike, case_id: int) -> tuple[Case, str]:
    if not user.is_authenticated:
        raise Http404("no such case")
    case = Case.objects.select_related("project").filter(pk=case_id).first()
    if case is None:
        raise Http404("no such case")
    role = membership_role(user=user, project_id=case.project_id)
    if role is None or not may_view_project(role=role):
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
    if role is None or not may_view_project(role=role):
        raise Http404("no such series")
    return series, role


def access_image(*, user: UserLike, image_id: int) -> Image:
    """The pixel API's check: one query joining image, series and the user's membership
    (any member may view a project's images: ``may_view_project``)."""
    if not user.is_authenticated:
        raise Http404("no such image")
    images = Image.objects.select_related("series").defer("series__header", "series__thumbnail")
    scope = token_project_ids(user)
    if scope is not None:
        images = images.filter(series__case__project_id__in=scope)
    image = images.filter(pk=image_id, series__case__project__memberships__user_id=user.pk).first()
    if image is None:
        raise Http404("no such image")
    return image


def access_read(*, user: UserLike, read_id: int) -> tuple[Read, str]:
    """A read the user may see (blinding applied), with their role in its project."""
    read = (
        Read.objects.select_related("case__project", "author").filter(pk=read_id).first()
        if user.is_authenticated
        else None
    )
    if read is None:
        raise Http404("no such read")
    role = membership_role(user=user, project_id=read.case.project_id)
    # Only a model read can be hidden by the design (an unaided role): ask only then.
    unaided = read.kind == ReadKind.MODEL and role_unaided(
        project_id=read.case.project_id, role=role
    )
    if role is None or not read_visible_to(
        read=read, user=user, role=role, blinded=read.case.project.blinded, unaided=unaided
    ):
        raise Http404("no such read")
    return read, role


def access_read_for_write(*, user: UserLike, read_id: int) -> tuple[Read, str]:
    """A read the user may append a revision to: every write route's one check (404 when
    they cannot see it, 403 naming the rule when they see it but may not change it)."""
    read, role = access_read(user=user, read_id=read_id)
    require_append_revision(read=read, user=user, role=role)
    return read, role
