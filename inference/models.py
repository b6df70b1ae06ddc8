"""The model registry and the record of pre-label jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ModelTask(models.TextChoices):
    SAGITTAL = "sagittal", "Sagittal cord, canal and vertebral corners"
    AXIAL = "axial", "Axial cord (and canal)"


class ModelStatus(models.TextChoices):
    CANDIDATE = "candidate", "Candidate"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class ModelVersion(models.Model):
    task = models.CharField(max_length=16, choices=ModelTask.choices)
    name = models.CharField(max_length=200)
    # Path relative to MODEL_DIR, or absolute for shipped models inside the repository.
    file = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField(default=0)
    # Input contract: size, normalisation, labels, keypoint names (inference/contract.py).
    contract = models.JSONField(default=dict)
    training_manifest = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=ModelStatus.choices, default=ModelStatus.CANDIDATE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task"],
                condition=models.Q(status="active"),
                name="modelversion_one_active_per_task",
            ),
            models.UniqueConstraint(fields=["task", "sha256"], name="modelversion_unique_file"),
        ]

    def __str__(self) -> str:
        return f"{self.task}:{self.name}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class PrelabelJob(models.Model):
    """One pre-label run of one case; its task result lives in the task backend."""

    case = models.ForeignKey(
        "annotation.Case", on_delete=models.CASCADE, related_name="prelabel_jobs"
    )
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.FloatField(default=0.0)
    message = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    read = models.ForeignKey(
        "annotation.Read", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    model_versions = models.ManyToManyField(ModelVersion, blank=True, related_name="jobs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Moved forward while the job runs: a RUNNING job whose heartbeat is old lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Per-image uncertainty of the prediction ({image id: score}) for active learning.
    uncertainty = models.JSONField(default=dict, blank=True)
    # Pre-labels whose calibrated confidence was under the model's threshold: not drawn in the
    # read but offered as suggestions. {image id: [{label, shape_type, points, confidence,
    # raw_confidence, threshold, reason}]}
    withheld = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat")]

    def __str__(self) -> str:
        return f"prelabel job {self.pk} ({self.status})"


class RetrainTrigger(models.TextChoices):
    LEAD = "lead", "Requested by a lead"
    GOLD_COUNT = "gold_count", "New gold cases in the train split"


class Strategy(models.TextChoices):
    """How the work queues order the cases they offer (active learning's case selection)."""

    FIRST = "first", "First come (import order)"
    RANDOM = "random", "Random (the control)"
    UNCERTAINTY = "uncertainty", "Model uncertainty"
    TTA = "tta", "Test-time-augmentation disagreement"
    OUTLIERS = "outliers", "Measurement outliers (MSCC, CR)"
    DISAGREEMENT = "disagreement", "Like the cases people corrected most"


class RetrainPolicy(models.Model):
    """A project's active-learning settings: how queues pick cases and when to retrain; a
    project without a row uses the field defaults."""

    project = models.OneToOneField(
        "annotation.Project", on_delete=models.CASCADE, related_name="retrain_policy"
    )
    # A run starts by itself once this many new train-split gold cases were signed.
    gold_threshold = models.PositiveIntegerField(default=20)
    # Promote a candidate by itself when it beats the active model on the tune split by
    # both margins (Dice up by margin_dice, keypoint error down by margin_keypoint_mm).
    auto_promote = models.BooleanField(default=False)
    margin_dice = models.FloatField(default=0.01)
    margin_keypoint_mm = models.FloatField(default=0.25)
    epochs = models.PositiveSmallIntegerField(default=3)
    steps_per_epoch = models.PositiveIntegerField(default=50)
    batch_size = models.PositiveSmallIntegerField(default=8)
    strategy = models.CharField(max_length=16, choices=Strategy.choices, default=Strategy.FIRST)

    def __str__(self) -> str:
        return f"retrain policy of project {self.project_id}"


class CaseScore(models.Model):
    """A case's selection score under one strategy (higher = offered sooner), computed by a
    background task and stored, so that ordering a queue never runs a model."""

    case = models.ForeignKey("annotation.Case", on_delete=models.CASCADE, related_name="+")
    strategy = models.CharField(max_length=16, choices=Strategy.choices)
    score = models.FloatField()
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    details = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["case_id", "strategy"]
        constraints = [
            models.UniqueConstraint(fields=["case", "strategy"], name="casescore_unique")
        ]
        indexes = [models.Index(fields=["strategy", "-score"], name="casescore_strategy_score")]

    def __str__(self) -> str:
        return f"{self.strategy} score of case {self.case_id}: {self.score:.3f}"


class RetrainJob(models.Model):
    """One fine-tuning run of a task's active model on a project's gold standard."""

    project = models.ForeignKey(
        "annotation.Project", on_delete=models.CASCADE, related_name="retrain_jobs"
    )
    task = models.CharField(max_length=16, choices=ModelTask.choices)
    trigger = models.CharField(max_length=16, choices=RetrainTrigger.choices)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    # {epoch, epochs, step, steps, loss, tune: {metrics of the last finished epoch}}
    progress = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # {epochs, steps_per_epoch, batch_size}: copied from the policy when requested.
    recipe = models.JSONField(default=dict, blank=True)
    # {"train": [case ids], "tune": [case ids], "test": [...]}: the gold the run used.
    data = models.JSONField(default=dict, blank=True)
    # Train-split gold cases when requested: the gold-count trigger counts from here.
    train_gold_count = models.PositiveIntegerField(default=0)
    base = models.ForeignKey(
        ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    candidate = models.ForeignKey(
        ModelVersion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="retrain_jobs",
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # Never two runs at once for one project and task, however they were asked for.
            models.UniqueConstraint(
                fields=["project", "task"],
                condition=models.Q(status__in=["queued", "running"]),
                name="retrainjob_one_open_per_project_task",
            )
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="retrain_status_heartbeat")]

    def __str__(self) -> str:
        return f"retrain job {self.pk} ({self.status})"
