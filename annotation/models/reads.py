"""Reads and their immutable revisions, and the outbox of live events.

A read is one reader's (or one model version's) annotation of a case. Saving never
changes a revision: it appends one whose parent is the read's head. The head moves by a
conditional update, so two saves on the same parent cannot both succeed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from annotation.models.imaging import Case


class ReadKind(models.TextChoices):
    HUMAN = "human", "Human"
    MODEL = "model", "Model"
    IMPORTED = "imported", "Imported"
    GOLD = "gold", "Gold standard"


class Read(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reads")
    kind = models.CharField(max_length=16, choices=ReadKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reads",
    )
    # Shown to users instead of an author for model and imported reads. Which model
    # versions made a model read is inference's record (PrelabelJob.read, .model_versions):
    # the base app keeps no link to the app above it.
    name = models.CharField(max_length=200, blank=True)
    head = models.ForeignKey(
        "annotation.Revision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    revision_count = models.PositiveIntegerField(default=0)
    # Set when its author submits it (ReadSubmission keeps each); cleared when a reviewer
    # returns the case, so the read is owed again.
    submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "author"],
                condition=models.Q(kind="human"),
                name="read_one_human_read_per_author",
            ),
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(kind="gold"), name="read_one_gold_per_case"
            ),
        ]

    def __str__(self) -> str:
        return f"read {self.pk} of case {self.case_id}"


class RevisionSource(models.TextChoices):
    SAVE = "save", "Save"
    RESTORE = "restore", "Restore"
    IMPORT = "import", "Import"
    MODEL = "model", "Model"


class Revision(models.Model):
    read = models.ForeignKey(Read, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="revisions",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # {"<image id>": [labelme shape, ...]}: shapes in labelme's shape format per image.
    shapes = models.JSONField(default=dict)
    # Case-level fields (labelme "flags"): {"name": value}.
    case_fields = models.JSONField(default=dict)
    # Per image, what a labelme file carried besides its shapes, kept so that an import
    # exports back unchanged: {"<image id>": {"flags": {...}, "extra": {unknown keys}}}.
    image_meta = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=16, choices=RevisionSource.choices)
    restored_from = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    message = models.CharField(max_length=500, blank=True)
    shape_count = models.PositiveIntegerField(default=0)
    # Where each shape came from (gold reads): {"<image id>": [{"read": id, "revision": id,
    # "method": "take" | "majority_vote" | "staple" | "keypoint_mean" | "edit"}, ...]}, one
    # entry per shape in the order of `shapes`.
    provenance = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["read_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["read", "number"], name="revision_unique_number"),
            # One child per parent: the database itself refuses a second save on a stale head.
            models.UniqueConstraint(
                fields=["parent"],
                condition=models.Q(parent__isnull=False),
                name="revision_one_child_per_parent",
            ),
        ]

    def __str__(self) -> str:
        return f"revision {self.number} of read {self.read_id}"


class LiveEvent(models.Model):
    """Outbox row: an event written by a process that cannot reach the server's channel layer."""

    group = models.CharField(max_length=100)
    type = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.type} to {self.group}"
