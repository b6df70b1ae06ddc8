"""De-identified imaging data: a case holds series, a series holds one image per slice."""

from __future__ import annotations

from django.db import models

from annotation.models.projects import Project


class CaseState(models.TextChoices):
    """new -> prelabelled -> in_annotation -> submitted -> in_review -> returned
    (-> in_annotation) -> gold; gold reopens to in_review (annotation.services.cases)."""

    NEW = "new", "New"
    PRELABELLED = "prelabelled", "Pre-labelled"
    IN_ANNOTATION = "in_annotation", "In annotation"
    SUBMITTED = "submitted", "Submitted"
    IN_REVIEW = "in_review", "In review"
    RETURNED = "returned", "Returned"
    GOLD = "gold", "Gold"


class Split(models.TextChoices):
    TRAIN = "train", "Train"
    TUNE = "tune", "Tune"
    TEST = "test", "Test"


class Case(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="cases")
    # The only name a user ever sees, e.g. "CASE-0007".
    pseudonym = models.CharField(max_length=64)
    # HMAC of the source study identity under the project salt: re-imports of the same
    # study land in the same case without storing the identifier itself.
    source_key = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=CaseState.choices, default=CaseState.NEW)
    # "" until the study design assigns one.
    split = models.CharField(max_length=16, choices=Split.choices, blank=True, default="")
    # Chosen by the design for a second annotator read (inter-reader agreement).
    overlap = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "pseudonym"], name="case_unique_pseudonym"),
            models.UniqueConstraint(fields=["project", "source_key"], name="case_unique_source"),
        ]
        indexes = [
            models.Index(fields=["project", "id"], name="case_project_id"),
            # "Next case" walks one split of a project oldest first (annotation.selectors.queue).
            models.Index(fields=["project", "split", "created_at", "id"], name="case_queue_order"),
        ]

    def __str__(self) -> str:
        return self.pseudonym


class Orientation(models.TextChoices):
    SAGITTAL = "sagittal", "Sagittal"
    AXIAL = "axial", "Axial"
    CORONAL = "coronal", "Coronal"
    OTHER = "other", "Other"


class Source(models.TextChoices):
    DICOM = "dicom", "DICOM"
    NIFTI = "nifti", "NIfTI"
    LABELME = "labelme", "labelme"
    PHANTOM = "phantom", "Phantom"


class Series(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="series")
    # Replacement UID derived from the source UID under the project salt.
    uid = models.CharField(max_length=64)
    number = models.IntegerField(default=0)
    description = models.CharField(max_length=200, blank=True)
    orientation = models.CharField(max_length=16, choices=Orientation.choices)
    modality = models.CharField(max_length=16, default="MR")
    source = models.CharField(max_length=16, choices=Source.choices)
    rows = models.PositiveIntegerField()
    columns = models.PositiveIntegerField()
    # Millimetres between pixel centres: (row spacing, column spacing) as in DICOM.
    pixel_spacing_row = models.FloatField()
    pixel_spacing_col = models.FloatField()
    spacing_known = models.BooleanField(default=True)
    slice_thickness = models.FloatField(null=True, blank=True)
    slice_spacing = models.FloatField(null=True, blank=True)
    # Direction cosines of image rows and columns in patient coordinates (LPS).
    row_direction = models.JSONField(default=list)
    column_direction = models.JSONField(default=list)
    dtype = models.CharField(max_length=8)
    window_center = models.FloatField()
    window_width = models.FloatField()
    # The de-identified header of the first instance (no pixel data).
    header = models.JSONField(default=dict, blank=True)
    thumbnail = models.BinaryField(blank=True, default=b"")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "uid"], name="series_unique_uid")]
        verbose_name_plural = "series"

    def __str__(self) -> str:
        return f"{self.case_id}/{self.orientation}/{self.number}"


class Image(models.Model):
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="images")
    index = models.PositiveIntegerField()
    # Signed distance (mm) along the slice normal; sorts slices and is shown to users.
    position = models.FloatField()
    image_position = models.JSONField(default=list)
    uid = models.CharField(max_length=64)
    # Path of the raw little-endian pixel file relative to PIXEL_ROOT.
    pixel_path = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    min_value = models.FloatField()
    max_value = models.FloatField()

    class Meta:
        ordering = ["series_id", "index"]
        constraints = [
            models.UniqueConstraint(fields=["series", "index"], name="image_unique_index")
        ]

    def __str__(self) -> str:
        return f"{self.series_id}#{self.index}"
