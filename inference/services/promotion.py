"""Which model version pre-labels: promote a candidate, roll back to any earlier version,
or promote automatically when a candidate beats the active model on the tune split."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from annotation.label_templates import keypoint_names
from annotation.models import Project
from inference.models import ModelStatus, ModelVersion, RetrainPolicy
from inference.runtime.contract import ModelError, load_contract
from inference.services.registry import model_promote


def contract_problems(*, version: ModelVersion, project: Project) -> list[str]:
    """What in the model's contract the project's label template lacks (empty: it fits)."""
    try:
        contract = load_contract(version.contract)
    except ModelError as exc:
        return [f"the model's contract does not load: {exc}"]
    template = project.template or {}
    by_name = {label.get("name"): label for label in template.get("labels", [])}
    problems = []
    for label in contract.segmentation.labels:
        spec = by_name.get(label)
        if spec is None:
            problems.append(f"label {label!r} is not in the project's template")
        elif contract.task not in (spec.get("views") or [contract.task]):
            problems.append(f"label {label!r} is not drawn on {contract.task} views here")
    if contract.heatmap is not None:
        missing = sorted(set(contract.heatmap.keypoints) - keypoint_names(template))
        if missing:
            problems.append(f"keypoints {missing} are not in the project's template")
    return problems


def model_activate(*, version: ModelVersion, project: Project, user: User | None) -> ModelVersion:
    """Make `version` the active model of its task (a promotion or a rollback); the one
    active before is retired. Refused, naming why, when its contract does not fit the
    project's template; the active model is then unchanged."""
    problems = contract_problems(version=version, project=project)
    if problems:
        raise ValidationError({"model": problems})
    with transaction.atomic():
        locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status == ModelStatus.ACTIVE:
            return locked
        history = dict(locked.training_manifest or {})
        history.setdefault("activations", []).append(
            {"by": None if user is None else user.get_username(), "project": project.slug}
        )
        locked.training_manifest = history
        locked.save(update_fields=["training_manifest"])
        return model_promote(version=locked)


def model_promote_candidate(
    *, version: ModelVersion, project: Project, user: User | None
) -> ModelVersion:
    if version.status != ModelStatus.CANDIDATE:
        raise ValidationError(
            {"model": [f"model #{version.pk} is {version.status}, not a candidate"]}
        )
    return model_activate(version=version, project=project, user=user)


def _score(metrics: dict[str, Any]) -> tuple[float | None, float | None]:
    """(mean Dice over the structures, mean keypoint error in mm) of tune metrics."""
    dices = [v["mean"] for k, v in metrics.items() if k.endswith("_dice") and "mean" in v]
    keypoints = metrics.get("keypoint_mre_mm", {}).get("mean")
    return (sum(dices) / len(dices) if dices else None), keypoints


def candidate_beats(
    *, candidate: dict[str, Any], active: dict[str, Any], policy: RetrainPolicy
) -> bool:
    """Better on the tune split by both margins: Dice up, keypoint error down (where the
    tune gold has keypoints)."""
    dice_c, kp_c = _score(candidate)
    dice_a, kp_a = _score(active)
    if dice_c is None or dice_a is None or dice_c < dice_a + policy.margin_dice:
        return False
    if kp_c is None or kp_a is None:
        return kp_c is None and kp_a is None
    return kp_c <= kp_a - policy.margin_keypoint_mm
