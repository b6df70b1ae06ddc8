"""The review workflow's records: study design, claims, the case transition log, comments,
read submissions and gold signatures (issue 9).

States and splits live beside Case (imaging.py); this module keeps who does what, when.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from annotation.models.imaging import Case, CaseState, Image, Split
from annotation.models.projects import Project, Role
from annotation.models.reads import Read, Revision


def _default_reads_required() -> dict[str, dict[str, int]]:
    # Seed 003: every case one annotator read; test cases also one independent reader read.
    return {
        Split.TRAIN: {Role.ANNOTATOR: 1},
        Split.TUNE: {Role.ANNOTATOR: 1},
        Split.TEST: {Role.ANNOTATOR: 1, Role.READER: 1},
    }


def _default_aided() -> dict[str, bool]:
    # Whether the model's pre-label is shown to, and seeded into the reads of, each role.
    # Everyone is aided until the lead decides otherwise (seed 003's independent "manual
    # group" reader is set unaided on the settings page). Readers never ask for pre-labels.
    return {Role.ANNOTATOR: True, Role.READER: True, Role.REVIEWER: True, Role.LEAD: True}


class SplitMethod(models.TextChoices):
    RATIO = "ratio", "By ratio with a seed"
    LIST = "list", "By an uploaded list"


class StudyDesign(models.Model):
    """How a project's cases are split and read; one per project, edited by its lead."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="design")
    split_method = models.CharField(
        max_length=8, choices=SplitMethod.choices, default=SplitMethod.RATIO
    )
    seed = models.BigIntegerField(default=3)
    ratio_train = models.PositiveSmallIntegerField(default=8)
    ratio_tune = models.PositiveSmallIntegerField(default=1)
    ratio_test = models.PositiveSmallIntegerField(default=1)
    # {"train": {"annotator": 1}, "test": {"annotator": 1, "reader": 1}, ...}: reads each
    # case of the split needs, per role. Overlap cases need one more annotator read.
    reads_required = models.JSONField(default=_default_reads_required)
    # Share of cases (per cent, chosen from the seed) that get a second annotator read.
    overlap_percent = models.PositiveSmallIntegerField(default=10)
    # {"annotator": true, "reader": false, ...}; a role missing counts as aided.
    aided = models.JSONField(default=_default_aided)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    def __str__(self) -> str:
        return f"design of {self.project_id}"

    def is_aided(self, role: str | None) -> bool:
        return bool(self.aided.get(str(role), True)) if role is not None else False


class CaseTransition(models.Model):
    """One move of a case between states: the log behind the history page."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=16, choices=CaseState.choices)
    to_state = models.CharField(max_length=16, choices=CaseState.choices)
    # None: the system (a pre-label job, an expired claim).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["case_id", "at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="transition_case_at")]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.from_state} -> {self.to_state}"


class ClaimPurpose(models.TextChoices):
    ANNOTATE = "annotate", "Annotate"
    READ = "read", "Independent read"
    REVIEW = "review", "Review"


class ReleaseReason(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    EXPIRED = "expired", "Expired"
    RELEASED = "released", "Released"
    REASSIGNED = "reassigned", "Reassigned"
    DECIDED = "decided", "Returned or signed"


class Claim(models.Model):
    """A user's hold on one slot of work on a case, until it expires or is released.

    A case has slots per purpose: annotate 1 (and 2 on overlap cases), read 1 on test
    cases, review 1. At most one live (unreleased) claim per slot, and one per user and
    case, so two annotators of an overlap case hold different slots and never the same one.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="claims")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="claims"
    )
    purpose = models.CharField(max_length=16, choices=ClaimPurpose.choices)
    slot = models.PositiveSmallIntegerField(default=1)
    # The read this claim works on, once known (annotate/read: the user's own read).
    read = models.ForeignKey(
        Read, on_delete=models.SET_NULL, null=True, blank=True, related_name="claims"
    )
    claimed_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.CharField(max_length=16, choices=ReleaseReason.choices, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "purpose", "slot"],
                condition=models.Q(released_at__isnull=True),
                name="claim_one_live_per_slot",
            ),
            models.UniqueConstraint(
                fields=["case", "user"],
                condition=models.Q(released_at__isnull=True),
                name="claim_one_live_per_user_case",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "released_at"], name="claim_user_live"),
            models.Index(fields=["case", "released_at"], name="claim_case_live"),
            models.Index(fields=["released_at", "expires_at"], name="claim_expiry"),
        ]

    def __str__(self) -> str:
        return f"claim {self.pk}: {self.purpose}#{self.slot} of {self.case_id} by {self.user_id}"


class ReadSubmission(models.Model):
    """A read handed in by its author (Read.submitted_at says whether it stands)."""

    read = models.ForeignKey(Read, on_delete=models.CASCADE, related_name="submissions")
    revision = models.ForeignKey(
        Revision, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    # Written when the author submitted despite missing shapes; `missing` lists them.
    override_reason = models.TextField(blank=True)
    missing = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["read_id", "submitted_at", "id"]

    def __str__(self) -> str:
        return f"submission of read {self.read_id}"


class Comment(models.Model):
    """A remark on a case, optionally pinned to a point (x, y pixels) on one slice; replies
    share the thread root as `parent`; a root is resolved once for its thread."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="comments")
    # The read it was made on (blinding: a comment is visible to those who see its read).
    read = models.ForeignKey(
        Read, on_delete=models.CASCADE, null=True, blank=True, related_name="comments"
    )
    image = models.ForeignKey(
        Image, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    x = models.FloatField(null=True, blank=True)
    y = models.FloatField(null=True, blank=True)
    body = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    # The return (in_review -> returned) that handed this comment to the annotator.
    returned_with = models.ForeignKey(
        CaseTransition, on_delete=models.SET_NULL, null=True, blank=True, related_name="comments"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["case_id", "created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="comment_case_created")]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.case_id}"


class GoldSignature(models.Model):
    """A reviewer's signature on one revision of a gold read; a later change re-signs.

    One signature per revision: of two reviewers signing the same head at once, the
    database keeps one.
    """

    read = models.ForeignKey(Read, on_delete=models.CASCADE, related_name="signatures")
    revision = models.OneToOneField(Revision, on_delete=models.PROTECT, related_name="signature")
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["read_id", "signed_at", "id"]

    def __str__(self) -> str:
        return f"signature of revision {self.revision_id}"
