"""Reads of projects, cases, series and images for the API and the pages."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from annotation.models import (
    Case,
    CaseState,
    Claim,
    Image,
    Membership,
    Project,
    Read,
    ReadKind,
    Revision,
    Series,
)
from annotation.models.imaging import Source
from annotation.permissions import REVIEW_ROLES, UserLike, visible_reads_q
from annotation.selectors.design import role_unaided

# A generated phantom's series says so in its (kept, de-identified) header: the demo and the
# tests write ManufacturerModelName "Synthetic phantom" (fixtures/dicom_io.py).
PHANTOM_MODEL_NAME = "Synthetic phantom"
_MODEL_NAME_TAG = "00081090"  # ManufacturerModelName in the DICOM JSON header


class _HeaderModelName(Func):
    """The series header's ManufacturerModelName (its first value), on PostgreSQL and SQLite
    (a key of digits is an array index to Django's JSON key lookups)."""

    output_field = CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = f"(%(expressions)s -> '{_MODEL_NAME_TAG}' -> 'Value' ->> 0)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = f"json_extract(%(expressions)s, '$.\"{_MODEL_NAME_TAG}\".Value[0]')"
        return self.as_sql(compiler, connection, template=template, **extra)


def _phantom_q() -> Q:
    """A case every series of which is a phantom (generated, or a phantom's DICOM)."""
    series = Series.objects.filter(case=OuterRef("pk"))
    # A header without the attribute gives NULL, which NOT (model = ...) would not keep.
    model = Coalesce(_HeaderModelName("header"), Value(""))
    real = series.exclude(source=Source.PHANTOM).annotate(model=model)
    real = real.exclude(model=PHANTOM_MODEL_NAME)
    return Q(Exists(series)) & ~Q(Exists(real))


# The case list's views (?view=): the user's cases, the ones waiting for them, the finished.
CASE_VIEWS = ("mine", "todo", "done")
# Cases waiting for an annotator's or reader's read, and for a reviewer's decision.
_OPEN_FOR_READS = (
    CaseState.NEW,
    CaseState.PRELABELLED,
    CaseState.IN_ANNOTATION,
    CaseState.RETURNED,
)
_OPEN_FOR_REVIEW = (CaseState.SUBMITTED, CaseState.IN_REVIEW)


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
    view: str | None = None,
    split: str | None = None,
) -> tuple[int, list[Case]]:
    """One page of a project's cases with their series: a fixed number of queries.
    ``read_count`` counts only the reads this user may see (blinding); each row also carries
    the user's own read (``my_read_*``, ``my_claim``), the model's pre-label where this role
    may see it (``prelabel_name``, ``prelabel_at``) and ``last_change`` (the case or its
    latest visible revision)."""
    cases: QuerySet[Case] = _with_my_work(Case.objects.filter(project=project), user=user)
    if state:
        cases = cases.filter(state=state)
    if split:
        cases = cases.filter(split=split)
    if view:
        cases = cases.filter(_view_q(view=view, role=role))
    count = cases.count()
    start = (page - 1) * page_size
    series_rows = (
        Series.objects.only("id", "case_id", "orientation", "description", "number", "source")
        .annotate(num_slices=Count("images"))
        # Whether a thumbnail exists, without loading its bytes (no link to a 404).
        .annotate(has_thumbnail=ExpressionWrapper(~Q(thumbnail=b""), output_field=BooleanField()))
    )
    unaided = role_unaided(project_id=project.pk, role=role)
    visible = visible_reads_q(
        user=user, role=role, blinded=project.blinded, prefix="reads__", unaided=unaided
    )
    rows: list[Case] = list(
        _with_prelabel_and_change(cases, user=user, role=role, project=project, unaided=unaided)
        .order_by("id")
        .annotate(read_count=Count("reads", filter=visible, distinct=True))
        .prefetch_related(Prefetch("series", queryset=series_rows))[start : start + page_size]
    )
    return count, rows


def _with_my_work(cases: QuerySet[Case], *, user: UserLike) -> QuerySet[Case]:
    """The user's own read on each case (its revisions and submission) and live claim."""
    mine = Read.objects.filter(case=OuterRef("pk"), kind=ReadKind.HUMAN, author_id=user.pk)
    claims = Claim.objects.filter(
        case=OuterRef("pk"),
        user_id=user.pk or 0,  # anonymous users never reach a list
        released_at__isnull=True,
        expires_at__gt=timezone.now(),
    )
    return cases.annotate(
        my_read_id=Subquery(mine.values("id")[:1], output_field=IntegerField()),
        my_read_revisions=Subquery(mine.values("revision_count")[:1], output_field=IntegerField()),
        my_read_submitted_at=Subquery(
            mine.values("submitted_at")[:1], output_field=DateTimeField()
        ),
        my_claim=Exists(claims),
    )


def _view_q(*, view: str, role: str) -> Q:
    """``mine``: cases with the user's read or live claim. ``todo``: for annotators and
    readers, open cases whose read of theirs is not submitted; for reviewers and leads, cases
    waiting for review. ``done``: the user's read submitted, or (reviewers, leads) gold."""
    if view == "mine":
        return Q(my_read_id__isnull=False) | Q(my_claim=True)
    if view == "todo":
        if role in REVIEW_ROLES:
            return Q(state__in=_OPEN_FOR_REVIEW)
        return Q(state__in=_OPEN_FOR_READS, my_read_submitted_at__isnull=True)
    if view == "done":
        if role in REVIEW_ROLES:
            return Q(state=CaseState.GOLD)
        return Q(my_read_submitted_at__isnull=False)
    return Q()


def _with_prelabel_and_change(
    cases: QuerySet[Case], *, user: UserLike, role: str, project: Project, unaided: bool
) -> QuerySet[Case]:
    """The latest model read (its name says the model versions) unless the study design
    keeps this role unaided, and the time of the last change this user may see."""
    model_reads = Read.objects.filter(
        case=OuterRef("pk"), kind=ReadKind.MODEL, head__isnull=False
    ).order_by("-id")
    if unaided:
        prelabel_name: Any = Value(None, output_field=CharField())
        prelabel_at: Any = Value(None, output_field=DateTimeField())
    else:
        prelabel_name = Subquery(model_reads.values("name")[:1], output_field=CharField())
        prelabel_at = Subquery(
            model_reads.values("head__created_at")[:1], output_field=DateTimeField()
        )
    visible = visible_reads_q(
        user=user, role=role, blinded=project.blinded, prefix="read__", unaided=unaided
    )
    latest = (
        Revision.objects.filter(visible, read__case=OuterRef("pk"))
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    return cases.annotate(
        is_phantom=ExpressionWrapper(_phantom_q(), output_field=BooleanField()),
        prelabel_name=prelabel_name,
        prelabel_at=prelabel_at,
        last_change=Greatest(
            "updated_at",
            Coalesce(Subquery(latest, output_field=DateTimeField()), "updated_at"),
        ),
    )


def case_detail(*, case: Case) -> list[Series]:
    """The series of a case with their images, in two queries."""
    images = Image.objects.only("id", "series_id", "index", "position").order_by("index")
    return list(
        Series.objects.filter(case=case)
        .defer("header", "thumbnail")
        .prefetch_related(Prefetch("images", queryset=images))
        .order_by("number", "id")
    )
