"""Corrections of the model's pre-labels (active learning's lessons): whenever a person's
read is submitted, or a gold read signed, on a case that has a model read made before it,
record what changed: Dice and HD95 per structure, the displacement of every corner in mm, the
measurement deltas, and the model versions. The numbers come from the dashboards' pair
machinery (measurements.core underneath), one row per (read, revision), announced live so
the dashboards and the training queue see it once committed."""

from __future__ import annotations

import logging
import math
from typing import Any

from django.db import IntegrityError, transaction

from annotation.domain_events import GoldSigned, ReadSubmitted
from annotation.live import event_publish, project_group
from annotation.models import Read, ReadKind, ReadSubmission, Revision
from annotation.selectors.agreement import Grid, MaskCache, keypoint_agreement, template_structures
from annotation.selectors.geometry import image_geometries
from dashboards.services.agreement import revision_data
from dashboards.services.pairs import pair_values
from inference.models import PrelabelJob
from measurements.models import Correction

logger = logging.getLogger(__name__)

CORRECTION_RECORDED = "correction.recorded"
HUMAN, GOLD = "human", "gold"


def _model_read_before(read: Read, revision: Revision) -> Read | None:
    """The case's latest model read whose pre-label existed when the revision was made."""
    return (
        Read.objects.filter(
            case_id=read.case_id,
            kind=ReadKind.MODEL,
            head__isnull=False,
            head__created_at__lte=revision.created_at,
        )
        .order_by("-head__created_at", "-id")
        .first()
    )


def _magnitude(areas: dict[str, dict[str, float | None]]) -> float | None:
    """Mean over the structures of 1 - Dice: 0 when the person kept the pre-label."""
    losses = [1.0 - v["dice"] for v in areas.values() if v["dice"] is not None]
    return sum(losses) / len(losses) if losses else None


def _delta(model: float | None, human: float | None) -> float | None:
    if model is None or human is None:
        return None
    value = human - model
    return value if math.isfinite(value) else None


def correction_values(*, model_read: Read, read: Read, revision_id: int) -> dict[str, Any]:
    """Everything a Correction stores about the pair (not saved)."""
    case = read.case
    assert model_read.head_id is not None
    data = revision_data(read.case_id, {model_read.head_id, revision_id})
    model, human = data[model_read.head_id], data[revision_id]
    images = set(model.shapes) | set(human.shapes)
    geometries = image_geometries(case_id=read.case_id, image_ids=images)
    grids = {
        k: Grid(rows=g.rows, columns=g.columns, spacing=g.spacing) for k, g in geometries.items()
    }
    structures = template_structures(case.project.template)
    pair = pair_values(
        cache=MaskCache(grids=grids),
        geometries=geometries,
        structures=structures,
        fields=(),
        a=model,
        b=human,
    )
    areas = {name: {"dice": v[0], "hd95_mm": v[2]} for name, v in pair["areas"].items()}
    corners = keypoint_agreement(grids=grids, a=model.shapes, b=human.shapes, structures=structures)
    return {
        "areas": areas,
        "keypoints": corners["errors_mm"],
        "measurements": {
            name: {"model": m, "human": h, "delta": _delta(m, h)}
            for name, (m, h) in pair["measurements"].items()
        },
        "magnitude": _magnitude(areas),
    }


def correction_record(*, read_id: int, revision_id: int) -> Correction | None:
    """Record the correction a submitted human read or a signed gold revision makes of the
    case's model read; None when there is nothing to compare. Idempotent per (read,
    revision): a second call returns the stored row."""
    read = Read.objects.select_related("case__project").get(pk=read_id)
    if read.kind not in (ReadKind.HUMAN, ReadKind.GOLD):
        return None
    found = Correction.objects.filter(read_id=read_id, revision_id=revision_id).first()
    if found is not None:
        return found
    revision = Revision.objects.only("pk", "created_at").get(pk=revision_id)
    model_read = _model_read_before(read, revision)
    if model_read is None or model_read.head_id is None:
        return None
    values = correction_values(model_read=model_read, read=read, revision_id=revision_id)
    versions = sorted(
        {
            v
            for v in PrelabelJob.objects.filter(read=model_read).values_list(
                "model_versions", flat=True
            )
            if v is not None
        }
    )
    try:
        with transaction.atomic():
            correction = Correction.objects.create(
                project_id=read.case.project_id,
                case_id=read.case_id,
                model_read=model_read,
                model_revision_id=model_read.head_id,
                model_version_ids=versions,
                read=read,
                revision_id=revision_id,
                kind=GOLD if read.kind == ReadKind.GOLD else HUMAN,
                **values,
            )
            event_publish(
                group=project_group(read.case.project_id),
                type=CORRECTION_RECORDED,
                # No read or author: every member's socket may get it.
                payload={
                    "project": read.case.project_id,
                    "case": read.case_id,
                    "kind": correction.kind,
                    "magnitude": correction.magnitude,
                },
            )
    except IntegrityError:  # recorded meanwhile by another worker
        return Correction.objects.get(read_id=read_id, revision_id=revision_id)
    return correction


def correction_on_submit(event: ReadSubmitted) -> None:
    """ReadSubmitted, after commit: queue the correction of the submitted revision."""
    from dashboards.tasks import correction_record_task

    revision_id = (
        ReadSubmission.objects.filter(read_id=event.read_id, revision_id__isnull=False)
        .order_by("-submitted_at", "-id")
        .values_list("revision_id", flat=True)
        .first()
    )
    if revision_id is not None:
        correction_record_task.enqueue(read_id=event.read_id, revision_id=revision_id)


def correction_on_gold(event: GoldSigned) -> None:
    """GoldSigned, after commit: queue the correction the signed gold makes."""
    from dashboards.tasks import correction_record_task

    if event.revision_id is not None:
        correction_record_task.enqueue(read_id=event.read_id, revision_id=event.revision_id)
