"""The dashboards' incremental aggregates: per-person activity on a case, and one agreement
row per (read, reference) pair. Both are rebuilt from scratch by `manage.py dashboard_rebuild`
and kept up to date by the domain-event subscribers in dashboards.services."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class CaseActivity(models.Model):
    """One person's revisions on one case: how many, when, and the active time between them
    (gaps between consecutive revisions of up to ACTIVE_GAP_S count; longer ones are idle)."""

    project = models.ForeignKey("annotation.Project", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey("annotation.Case", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    revisions = models.PositiveIntegerField(default=0)
    active_seconds = models.FloatField(default=0.0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        ordering = ["case_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="activity_unique_case_user")
        ]
        indexes = [models.Index(fields=["project", "user"], name="activity_project_user")]

    def __str__(self) -> str:
        return f"activity of {self.user_id} on {self.case_id}"


class PairKind(models.TextChoices):
    MODEL = "model", "Model version vs gold"
    ANNOTATORS = "annotators", "Annotators (before review) vs gold"
    READERS = "readers", "Independent readers vs gold"
    INTER_READER = "inter_reader", "Annotator vs annotator (overlap cases)"


class AgreementRow(models.Model):
    """Agreement of one read (at the revision that counts) with its reference: the signed
    gold revision, or for inter-reader rows the other annotator's read."""

    project = models.ForeignKey("annotation.Project", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey("annotation.Case", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=PairKind.choices)
    model_version = models.ForeignKey(
        "inference.ModelVersion", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    read = models.ForeignKey("annotation.Read", on_delete=models.CASCADE, related_name="+")
    reference = models.ForeignKey("annotation.Read", on_delete=models.CASCADE, related_name="+")
    revision_id = models.BigIntegerField()
    reference_revision_id = models.BigIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # When the reference became what it is (gold signed, or the later submission): the
    # dashboards' date filter.
    reference_at = models.DateTimeField()
    # {structure: [dice, iou, hd95_mm]} (None where undefined), e.g. "sagittal cord".
    areas = models.JSONField(default=dict)
    # Radial error (mm) of each keypoint both reads placed.
    keypoint_errors = models.JSONField(default=list)
    # {"mscc": [value, reference value], ...} (None where a read lacks it).
    measurements = models.JSONField(default=dict)
    # {field: [value, reference value]} for categorical case fields.
    case_fields = models.JSONField(default=dict)
    # The same figures as plain columns (and AgreementArea / AgreementField rows), so that
    # the dashboards aggregate them in SQL and read only numbers, never JSON.
    mscc = models.FloatField(null=True, blank=True)
    mscc_reference = models.FloatField(null=True, blank=True)
    mcc = models.FloatField(null=True, blank=True)
    mcc_reference = models.FloatField(null=True, blank=True)
    ta = models.FloatField(null=True, blank=True)
    ta_reference = models.FloatField(null=True, blank=True)
    cr = models.FloatField(null=True, blank=True)
    cr_reference = models.FloatField(null=True, blank=True)
    keypoints = models.PositiveIntegerField(default=0)
    keypoint_error_sum_mm = models.FloatField(default=0.0)
    keypoint_mean_mm = models.FloatField(null=True, blank=True)
    keypoints_within_2mm = models.PositiveIntegerField(default=0)
    keypoints_within_4mm = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["case_id", "kind", "read_id", "model_version_id"]
        indexes = [
            models.Index(fields=["project", "reference_at"], name="agreement_project_at"),
            models.Index(fields=["case"], name="agreement_case"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} agreement of read {self.read_id} on case {self.case_id}"


class RowCopy(models.Model):
    """The AgreementRow's group (kind, model version) and filter columns (project, case for
    its split, reference_at) copied onto each of its parts, so that the dashboards aggregate
    a narrow part table alone instead of joining it to the wide rows (JSON included)."""

    project = models.ForeignKey(
        "annotation.Project", on_delete=models.CASCADE, null=True, db_index=False, related_name="+"
    )
    case = models.ForeignKey(
        "annotation.Case", on_delete=models.CASCADE, null=True, db_index=False, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=PairKind.choices, default="", blank=True)
    model_version = models.ForeignKey(
        "inference.ModelVersion",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    reference_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class AgreementArea(RowCopy):
    """One structure's overlap in an AgreementRow (the dashboards group these in SQL)."""

    row = models.ForeignKey(AgreementRow, on_delete=models.CASCADE, related_name="area_values")
    structure = models.CharField(max_length=100)
    dice = models.FloatField(null=True, blank=True)
    iou = models.FloatField(null=True, blank=True)
    hd95_mm = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["row_id", "structure"]
        indexes = [
            models.Index(fields=["project", "kind", "model_version"], name="agreementarea_group")
        ]

    def __str__(self) -> str:
        return f"{self.structure} of agreement row {self.row_id}"


class AgreementField(RowCopy):
    """One categorical case field of an AgreementRow: the read's and the reference's values
    (as text; None when missing), counted in SQL for Cohen's kappa."""

    row = models.ForeignKey(AgreementRow, on_delete=models.CASCADE, related_name="field_values")
    field = models.CharField(max_length=100)
    # None: the read did not give the field (kappa drops the pair); "" would be an answer.
    value = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    reference = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["row_id", "field"]
        indexes = [
            models.Index(fields=["project", "kind", "model_version"], name="agreementfield_group")
        ]

    def __str__(self) -> str:
        return f"{self.field} of agreement row {self.row_id}"


class DashboardCounter(models.Model):
    """A project's dashboard change counters, one per dashboard: bumped in the transaction
    of every domain event that changes one of its figures (and by a rebuild), so that a
    cached answer keyed on it (dashboards/selectors/cached.py) is never served after the
    change commits. A save changes progress only; a submission or a signature both."""

    project = models.OneToOneField(
        "annotation.Project", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    progress = models.BigIntegerField(default=0)
    agreement = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"dashboard counters {self.progress}/{self.agreement} of {self.project_id}"
