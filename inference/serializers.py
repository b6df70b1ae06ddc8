"""The pre-label job as replies and live `job.progress` events show it (one shape for both)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from annotation.apis.serializers import IsoDateTimeField
from inference.models import ModelVersion, PrelabelJob, RetrainJob


class JobOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    status = serializers.CharField()
    progress = serializers.SerializerMethodField()
    message = serializers.CharField()
    error = serializers.CharField()
    read = serializers.IntegerField(source="read_id", allow_null=True)
    attempts = serializers.IntegerField()
    created_at = IsoDateTimeField()
    finished_at = IsoDateTimeField(allow_null=True)

    def get_progress(self, job: PrelabelJob) -> float:
        # Three decimals: enough for a progress bar, and stable across announcements.
        return round(job.progress, 3)


def job_data(job: PrelabelJob) -> dict[str, Any]:
    """One job's reply (and live event) payload."""
    return dict(JobOutputSerializer(job).data)


class ModelVersionOutputSerializer(serializers.Serializer[Any]):
    """A registered model as the models list shows it (the contract's labels, not the file)."""

    id = serializers.IntegerField()
    task = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    sha256 = serializers.CharField()
    metrics = serializers.SerializerMethodField()
    # The gold the version was trained and tuned on ("data" is the serializer's own).
    data_list = serializers.SerializerMethodField()
    weights = serializers.SerializerMethodField()
    created_at = IsoDateTimeField()

    def get_weights(self, version: ModelVersion) -> dict[str, Any]:
        """int8 or float32, the file's size, and why a quantisation was not kept."""
        metrics = version.metrics or {}
        record = metrics.get("quantisation") or {}
        # Read from the file at registration; versions registered before that, from the record.
        recorded = "int8" if "mask_agreement" in record and "kept_float" not in record else None
        return {
            "precision": metrics.get("precision") or recorded or "float32",
            "size_bytes": version.size_bytes,
            "kept_float": str(record.get("kept_float", "")),
        }

    def get_metrics(self, version: ModelVersion) -> dict[str, Any]:
        # Retrained candidates carry {"tune": {...}}; shipped and command-trained models their
        # metrics file, whose "held_out" lists slice names and whose "metrics.real" scores the
        # real slices held out of training (empty when every real volume was trained on).
        metrics = version.metrics or {}
        out = {k: metrics[k] for k in ("tune", "base_tune", "tune_drafted_by_base") if k in metrics}
        real = (metrics.get("metrics") or {}).get("real")
        if isinstance(real, dict) and real:
            out["held_out"] = real
        return out

    def get_data_list(self, version: ModelVersion) -> dict[str, Any]:
        return dict((version.training_manifest or {}).get("data") or {})


class RetrainJobOutputSerializer(serializers.Serializer[Any]):
    """A retraining run as replies and live `retrain.progress` events show it."""

    id = serializers.IntegerField()
    task = serializers.CharField()
    trigger = serializers.CharField()
    status = serializers.CharField()
    progress = serializers.JSONField()
    error = serializers.CharField()
    recipe = serializers.JSONField()
    data_list = serializers.JSONField(source="data")
    base = serializers.IntegerField(source="base_id", allow_null=True)
    candidate = serializers.IntegerField(source="candidate_id", allow_null=True)
    attempts = serializers.IntegerField()
    created_at = IsoDateTimeField()
    finished_at = IsoDateTimeField(allow_null=True)


def retrain_job_data(job: RetrainJob) -> dict[str, Any]:
    return dict(RetrainJobOutputSerializer(job).data)
