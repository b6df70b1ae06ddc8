"""Output serializers shared by several API operations and the pages that embed replies.

Replies follow docs/API.md; an operation's own shapes stay nested in its API class.
Serializers read only what the selectors fetched (select_related/prefetch): no queries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.urls import reverse
from rest_framework import serializers

from annotation.models import Case, Read, Series
from annotation.models.imaging import Source
from annotation.permissions import may_append_revision


class IsoDateTimeField(serializers.Field):  # type: ignore[type-arg]
    """``datetime.isoformat()`` as stored (UTC, "+00:00"), as the contract has always sent."""

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


class AuthorSerializer(serializers.Serializer[User]):
    id = serializers.IntegerField()
    username = serializers.CharField(source="get_username")


class RevisionSummarySerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    parent = serializers.IntegerField(source="parent_id", allow_null=True)  # type: ignore[assignment]
    author = AuthorSerializer(allow_null=True)
    created_at = IsoDateTimeField()
    source = serializers.CharField()  # type: ignore[assignment]
    shape_count = serializers.IntegerField()
    message = serializers.CharField()


class RevisionFullSerializer(RevisionSummarySerializer):
    read = serializers.IntegerField(source="read_id")
    shapes = serializers.JSONField()
    case_fields = serializers.JSONField()
    restored_from = serializers.IntegerField(source="restored_from_id", allow_null=True)


class ReadHeadSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    created_at = IsoDateTimeField()
    author = AuthorSerializer(allow_null=True)


class ReadSerializer(serializers.Serializer[Any]):
    """A read as listed; ``editable`` is the write rule for the requesting user, whom the
    context names (``user`` and ``role``)."""

    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    kind = serializers.CharField()
    name = serializers.SerializerMethodField()
    author = AuthorSerializer(allow_null=True)
    head = ReadHeadSerializer(allow_null=True)
    revision_count = serializers.IntegerField()
    editable = serializers.SerializerMethodField()

    def get_name(self, read: Read) -> str:
        return read.name or (read.author.get_username() if read.author else "")

    def get_editable(self, read: Read) -> bool:
        return may_append_revision(read=read, user=self.context["user"], role=self.context["role"])


class SeriesSummarySerializer(serializers.Serializer[Series]):
    id = serializers.IntegerField()
    orientation = serializers.CharField()
    description = serializers.CharField()
    # Annotated by the case-list selector.
    num_slices = serializers.IntegerField(allow_null=True)


class CaseRowSerializer(serializers.Serializer[Any]):
    """A row of the case list (the API and the case-list page)."""

    id = serializers.IntegerField()
    pseudonym = serializers.CharField()
    state = serializers.CharField()
    split = serializers.CharField()
    series = SeriesSummarySerializer(many=True, source="series.all")
    thumbnail = serializers.SerializerMethodField()
    # Annotated by the selector: the reads the requesting user may see.
    read_count = serializers.IntegerField(default=0)
    updated_at = IsoDateTimeField()
    kind = serializers.SerializerMethodField()
    prelabel = serializers.SerializerMethodField()
    my_read = serializers.SerializerMethodField()
    last_change = serializers.SerializerMethodField()

    def get_kind(self, case: Case) -> str:
        """Phantom when every series is a generated phantom (annotated by the selector), else
        real."""
        if hasattr(case, "is_phantom"):
            return "phantom" if case.is_phantom else "real"
        series = list(case.series.all())
        phantom = bool(series) and all(s.source == Source.PHANTOM for s in series)
        return "phantom" if phantom else "real"

    def get_prelabel(self, case: Case) -> dict[str, str] | None:
        """The latest model read's models ("sagittal #3") and time; null when there is none
        or the study design keeps this role unaided."""
        name = getattr(case, "prelabel_name", None)
        at = getattr(case, "prelabel_at", None)
        if name is None or at is None:
            return None
        return {"model": str(name).removeprefix("model · "), "at": at.isoformat()}

    def get_my_read(self, case: Case) -> dict[str, Any]:
        """The requesting user's read: none, claimed (a live claim, no read yet),
        in_progress or submitted."""
        read_id = getattr(case, "my_read_id", None)
        if read_id is None:
            state = "claimed" if getattr(case, "my_claim", False) else "none"
            return {"id": None, "state": state, "revisions": 0}
        submitted = getattr(case, "my_read_submitted_at", None) is not None
        return {
            "id": read_id,
            "state": "submitted" if submitted else "in_progress",
            "revisions": getattr(case, "my_read_revisions", 0) or 0,
        }

    def get_last_change(self, case: Case) -> str:
        changed: datetime = getattr(case, "last_change", None) or case.updated_at
        return changed.isoformat()

    def get_thumbnail(self, case: Case) -> str | None:
        first = next(iter(case.series.all()), None)
        if first is None or not getattr(first, "has_thumbnail", True):
            return None
        return reverse("api-series-thumbnail", args=[first.pk])


class ImageRowSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    index = serializers.IntegerField()
    position = serializers.FloatField()


class SeriesSerializer(serializers.Serializer[Series]):
    id = serializers.IntegerField()
    uid = serializers.CharField()
    number = serializers.IntegerField()
    description = serializers.CharField()
    orientation = serializers.CharField()
    modality = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]
    rows = serializers.IntegerField()
    columns = serializers.IntegerField()
    pixel_spacing = serializers.SerializerMethodField()
    spacing_known = serializers.BooleanField()
    slice_thickness = serializers.FloatField(allow_null=True)
    slice_spacing = serializers.FloatField(allow_null=True)
    dtype = serializers.CharField()
    window = serializers.SerializerMethodField()
    row_direction = serializers.JSONField()
    column_direction = serializers.JSONField()
    images = ImageRowSerializer(many=True, source="images.all")

    def get_pixel_spacing(self, series: Series) -> list[float]:
        return [series.pixel_spacing_row, series.pixel_spacing_col]

    def get_window(self, series: Series) -> dict[str, float]:
        return {"center": series.window_center, "width": series.window_width}


class CaseProjectSerializer(serializers.Serializer[Any]):
    slug = serializers.CharField()
    name = serializers.CharField()
    role = serializers.SerializerMethodField()
    template = serializers.JSONField()
    blinded = serializers.BooleanField()

    def get_role(self, _project: Any) -> str:
        return str(self.context["role"])


class CaseDetailSerializer(serializers.Serializer[Case]):
    """What the case page needs to open: the API answer, also embedded in the page. The
    context names the user's ``role`` and the case's ``series`` (from ``case_detail``)."""

    id = serializers.IntegerField()
    pseudonym = serializers.CharField()
    state = serializers.CharField()
    split = serializers.CharField()
    project = CaseProjectSerializer()
    series = serializers.SerializerMethodField()

    def get_series(self, _case: Case) -> Any:
        return SeriesSerializer(self.context["series"], many=True).data


class ProjectRowSerializer(serializers.Serializer[Any]):
    """A project as its member lists it, from a Membership row annotated with case_count."""

    slug = serializers.CharField(source="project.slug")
    name = serializers.CharField(source="project.name")
    description = serializers.CharField(source="project.description")
    role = serializers.CharField()
    case_count = serializers.IntegerField()
