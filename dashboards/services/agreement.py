"""Keep one AgreementRow per (read, reference) pair of a case, recomputed for that case alone
when one of its reads is submitted, its gold is signed or reopened, or a model read arrives.

Which revision counts: a model read's head; an annotator's read at its first submission
(before review); an independent reader's at its latest submission; the gold read's latest
signed revision while the case is gold. Inter-reader rows pair the annotators' reads of an
overlap case (no gold needed).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from annotation.models import (
    Case,
    CaseState,
    GoldSignature,
    Membership,
    Read,
    ReadKind,
    ReadSubmission,
    Revision,
    Role,
)
from annotation.selectors.agreement import Grid, MaskCache, template_structures
from annotation.selectors.geometry import image_geometries
from dashboards.models import AgreementArea, AgreementField, AgreementRow, PairKind
from dashboards.services.counter import dashboard_counter_bump
from dashboards.services.pairs import RevisionData, categorical_fields, pair_values
from inference.models import PrelabelJob
from inference.services.prelabel import TASK_FOR_ORIENTATION
from measurements.core.agreement import success_rates
from measurements.models import MeasurementResult


@dataclass(frozen=True)
class Counted:
    """A read at the revision that counts, with its group and the time it was handed in."""

    read: Read
    revision_id: int
    kind: str
    at: datetime
    # (model version, the orientations it read) of a model read.
    model_versions: tuple[tuple[int, frozenset[str]], ...] = ()


def _gold(case: Case, reads: list[Read]) -> tuple[Read, int, datetime] | None:
    if case.state != CaseState.GOLD:
        return None
    gold = next((r for r in reads if r.kind == ReadKind.GOLD), None)
    if gold is None:
        return None
    signature = (
        GoldSignature.objects.filter(read=gold)
        .order_by("-signed_at", "-id")
        .values_list("revision_id", "signed_at")
        .first()
    )
    return None if signature is None else (gold, signature[0], signature[1])


def _human_reads(case: Case, reads: list[Read]) -> list[Counted]:
    humans = {r.pk: r for r in reads if r.kind == ReadKind.HUMAN and r.author_id is not None}
    if not humans:
        return []
    roles = dict(
        Membership.objects.filter(
            project_id=case.project_id, user_id__in=[r.author_id for r in humans.values()]
        ).values_list("user_id", "role")
    )
    submissions: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    for read_id, revision_id, at in (
        ReadSubmission.objects.filter(read_id__in=humans, revision_id__isnull=False)
        .order_by("submitted_at", "id")
        .values_list("read_id", "revision_id", "submitted_at")
    ):
        submissions[read_id].append((revision_id, at))
    out: list[Counted] = []
    for read_id, handed in sorted(submissions.items()):
        read = humans[read_id]
        role = roles.get(read.author_id or 0)
        if role == Role.ANNOTATOR:
            out.append(Counted(read, handed[0][0], PairKind.ANNOTATORS, handed[0][1]))
        elif role == Role.READER:
            out.append(Counted(read, handed[-1][0], PairKind.READERS, handed[-1][1]))
    return out


def _model_reads(reads: list[Read]) -> list[Counted]:
    models = {r.pk: r for r in reads if r.kind == ReadKind.MODEL and r.head_id is not None}
    if not models:
        return []
    versions: dict[int, set[tuple[int, frozenset[str]]]] = defaultdict(set)
    for read_id, version_id, task in PrelabelJob.objects.filter(
        read_id__in=models, model_versions__isnull=False
    ).values_list("read_id", "model_versions", "model_versions__task"):
        versions[read_id].add((version_id, _views(task)))
    return [
        Counted(r, r.head_id or 0, PairKind.MODEL, r.created_at, tuple(sorted(versions[r.pk])))
        for r in models.values()
        if versions[r.pk]
    ]


def _views(task: str) -> frozenset[str]:
    """The orientations whose series a model version of this task pre-labels."""
    return frozenset(o for o, t in TASK_FOR_ORIENTATION.items() if t == task)


def revision_data(case_id: int, revision_ids: set[int]) -> dict[int, RevisionData]:
    measured: dict[int, dict[str, dict[int, dict[str, Any]]]] = defaultdict(
        lambda: {"sagittal": {}, "axial": {}}
    )
    for revision_id, image_id, view, values in MeasurementResult.objects.filter(
        revision_id__in=revision_ids, view__in=("sagittal", "axial")
    ).values_list("revision_id", "image_id", "view", "values"):
        measured[revision_id][view][image_id] = values
    return {
        pk: RevisionData(
            id=pk,
            shapes=shapes,
            case_fields=fields,
            sagittal=measured[pk]["sagittal"],
            axial=measured[pk]["axial"],
        )
        for pk, shapes, fields in Revision.objects.filter(pk__in=revision_ids).values_list(
            "pk", "shapes", "case_fields"
        )
    }


def _pairs(case: Case, reads: list[Read]) -> list[tuple[Counted, tuple[Read, int, datetime]]]:
    """(the read as counted, its reference (read, revision, when)) for every pair of the case."""
    counted = _human_reads(case, reads)
    gold = _gold(case, reads)
    pairs: list[tuple[Counted, tuple[Read, int, datetime]]] = []
    if gold is not None:
        pairs += [(c, gold) for c in [*_model_reads(reads), *counted]]
    if case.overlap:
        annotators = [c for c in counted if c.kind == PairKind.ANNOTATORS]
        for i, first in enumerate(annotators):
            for second in annotators[i + 1 :]:
                as_pair = Counted(first.read, first.revision_id, PairKind.INTER_READER, first.at)
                pairs.append((as_pair, (second.read, second.revision_id, max(first.at, second.at))))
    return pairs


def agreement_rows_compute(*, case_id: int) -> list[AgreementRow]:
    """The case's agreement rows as they should be now (not saved)."""
    case = Case.objects.select_related("project").get(pk=case_id)
    reads = list(Read.objects.filter(case_id=case_id))
    pairs = _pairs(case, reads)
    if not pairs:
        return []
    revisions = revision_data(
        case_id, {c.revision_id for c, _ in pairs} | {ref[1] for _, ref in pairs}
    )
    images = {key for data in revisions.values() for key in data.shapes}
    geometries = image_geometries(case_id=case_id, image_ids=images)
    cache = MaskCache(
        grids={
            k: Grid(rows=g.rows, columns=g.columns, spacing=g.spacing)
            for k, g in geometries.items()
        }
    )
    structures = template_structures(case.project.template)
    fields = categorical_fields(case.project.template)
    rows: list[AgreementRow] = []
    for counted, (reference, reference_revision, at) in pairs:
        # A model read made by several versions (the sagittal model's shapes and the axial
        # model's) gives each version the part it produced; one version made all of it.
        shared = len(counted.model_versions) > 1
        for version, views in counted.model_versions or ((None, None),):
            values = pair_values(
                cache=cache,
                geometries=geometries,
                structures=structures,
                fields=fields,
                a=revisions[counted.revision_id],
                b=revisions[reference_revision],
                views=views if shared else None,
            )
            rows.append(
                AgreementRow(
                    project_id=case.project_id,
                    case_id=case_id,
                    kind=counted.kind,
                    model_version_id=version,
                    read_id=counted.read.pk,
                    reference_id=reference.pk,
                    revision_id=counted.revision_id,
                    reference_revision_id=reference_revision,
                    author_id=counted.read.author_id,
                    reference_at=at,
                    **values,
                )
            )
    return rows


def _columns(row: AgreementRow) -> None:
    """Copy the row's figures into its plain columns (keypoint shares by
    measurements.core's success_rates)."""
    for key, (value, reference) in row.measurements.items():
        setattr(row, key, value)
        setattr(row, f"{key}_reference", reference)
    errors = row.keypoint_errors
    row.keypoints = len(errors)
    row.keypoint_error_sum_mm = float(sum(errors))
    row.keypoint_mean_mm = row.keypoint_error_sum_mm / len(errors) if errors else None
    shares = success_rates(errors, (2.0, 4.0))
    row.keypoints_within_2mm = round(shares[2.0] * len(errors)) if errors else 0
    row.keypoints_within_4mm = round(shares[4.0] * len(errors)) if errors else 0


def _text(value: Any) -> str | None:
    return None if value is None else str(value)[:200]


def agreement_rows_save(rows: list[AgreementRow], *, batch_size: int = 2000) -> None:
    """Insert the rows with their plain columns, AgreementArea and AgreementField rows."""
    for row in rows:
        _columns(row)
    AgreementRow.objects.bulk_create(rows, batch_size=batch_size)
    AgreementArea.objects.bulk_create(
        (
            AgreementArea(
                row=row, **_copied(row), structure=name, dice=v[0], iou=v[1], hd95_mm=v[2]
            )
            for row in rows
            for name, v in row.areas.items()
        ),
        batch_size=batch_size,
    )
    AgreementField.objects.bulk_create(
        (
            AgreementField(
                row=row, **_copied(row), field=name, value=_text(v[0]), reference=_text(v[1])
            )
            for row in rows
            for name, v in row.case_fields.items()
        ),
        batch_size=batch_size,
    )


def _copied(row: AgreementRow) -> dict[str, Any]:
    """The row's columns its parts repeat (models.RowCopy)."""
    return {
        "project_id": row.project_id,
        "case_id": row.case_id,
        "kind": row.kind,
        "model_version_id": row.model_version_id,
        "reference_at": row.reference_at,
    }


def agreement_case_refresh(*, case_id: int) -> int:
    """Replace the case's agreement rows by a fresh computation; the number of rows. The
    agreement dashboard's counter moves when the case had or has rows (a submission
    before gold, outside an overlap case, changes none)."""
    with transaction.atomic():
        rows = agreement_rows_compute(case_id=case_id)
        deleted, _ = AgreementRow.objects.filter(case_id=case_id).delete()
        agreement_rows_save(rows)
        if deleted or rows:
            project_id = rows[0].project_id if rows else _project_of(case_id)
            dashboard_counter_bump(project_id=project_id, parts=("agreement",))
    return len(rows)


def _project_of(case_id: int) -> int:
    return Case.objects.values_list("project_id", flat=True).get(pk=case_id)
