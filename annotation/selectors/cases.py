"""Reads of projects, cases, series and images for the API and the pages."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import BooleanField, Count, ExpressionWrapper, Prefetch, Q, QuerySet

from annotation.models import Case, Image, Membership, Project, Series
from annotation.permissions import UserLike, visible_reads_q
from annotation.selectors.design import role_unaided


def project_list_for_user(*, user: User) -> list[Membership]:
    """The user's memberships with their project and its ``case_count``, by project name."""
    return list(
        Membership.objects.filter(user_id=user.pk)
        .select_related("project")
        .annotate(case_count=Count("project__cases"))
        .order_by("project__name")
    )


def case_page(
    *,
    project: Project,
    user: UserLike,
    role: str,
    page: int,
    page_size: int,
    state: str | None = None,
) -> tuple[int, list[Case]]:
    """One page of a project's cases with their series: a fixed number of queries.
    ``read_count`` counts only the reads this user may see (blinding)."""
    cases: QuerySet[Case] = Case.objects.filter(project=project)
    if state:
        cases = cases.filter(state=state)
    count = cases.count()
    start = (page - 1) * page_size
    series_rows = (
        Series.objects.only("id", "case_id", "orientation", "description", "number")
        .annotate(num_slices=Count("images"))
        # Whether a thumbnail exists, without loading its bytes (no link to a 404).
        .annotate(has_thumbnail=ExpressionWrapper(~Q(thumbnail=b""), output_field=BooleanField()))
    )
    unaided = role_unaided(project_id=project.pk, role=role)
    visible = visible_reads_q(
        user=user, role=role, blinded=project.blinded, prefix="reads__", unaided=unaided
    )
    rows: list[Case] = list(
        cases.order_by("id")
        .annotate(read_count=Count("reads", filter=visible, distinct=True))
        .prefetch_related(Prefetch("series", queryset=series_rows))[start : start + page_size]
    )
    return count, rows


def case_detail(*, case: Case) -> list[Series]:
    """The series of a case with their images, in two queries."""
    images = Image.objects.only("id", "series_id", "index", "position").order_by("index")
    return list(
        Series.objects.filter(case=case)
        .defer("header", "thumbnail")
        .prefetch_related(Prefetch("images", queryset=images))
        .order_by("number", "id")
    )
