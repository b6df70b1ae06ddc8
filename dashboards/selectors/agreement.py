"""The agreement dashboard: the stored AgreementRows of a project (filtered by split and by
the date their reference was signed) in typed rows, and their per-group summary.

Bounded queries: the rows (one), the model versions they name (one), the gold count (one),
whatever the number of cases.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q

from annotation.models import Case, CaseState, Project
from annotation.selectors.agreement import template_structures
from dashboards.models import AgreementRow, PairKind
from dashboards.selectors.summaries import (
    distribution,
    kappa_summary,
    keypoint_summary,
    measurement_summary,
    not_enough,
)
from dashboards.services.pairs import MEASUREMENTS, categorical_fields
from inference.models import ModelStatus, ModelVersion, PrelabelJob

GROUP_ORDER = (PairKind.MODEL, PairKind.ANNOTATORS, PairKind.READERS)
GROUP_LABELS = {
    PairKind.ANNOTATORS: "Annotators (before review) vs gold",
    PairKind.READERS: "Independent readers vs gold",
    PairKind.INTER_READER: "Inter-reader (annotator pairs on overlap cases)",
}


@dataclass(frozen=True)
class AreaValues:
    dice: float | None
    iou: float | None
    hd95_mm: float | None


@dataclass(frozen=True)
class AgreementPair:
    """One stored pair: a read (at the revision that counts) against its reference."""

    case_id: int
    case_pseudonym: str
    split: str
    kind: str  # PairKind: model | annotators | readers | inter_reader
    model_version_id: int | None
    read_id: int
    reference_read_id: int
    author_id: int | None
    reference_at: dt.datetime
    areas: Mapping[str, AreaValues]
    keypoint_errors_mm: tuple[float, ...]
    measurements: Mapping[str, tuple[float | None, float | None]]
    case_fields: Mapping[str, tuple[object, object]]


def _filtered(
    project: Project, split: str | None, date_from: dt.date | None, date_to: dt.date | None
) -> Any:
    rows = AgreementRow.objects.filter(project=project)
    if split is not None:
        rows = rows.filter(case__split=split)
    if date_from is not None:
        rows = rows.filter(reference_at__date__gte=date_from)
    if date_to is not None:
        rows = rows.filter(reference_at__date__lte=date_to)
    return rows


def agreement_rows(
    *,
    project: Project,
    split: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    kinds: Iterable[str] | None = None,
) -> list[AgreementPair]:
    """The project's agreement pairs (one query), ordered by case, kind and read."""
    rows = _filtered(project, split, date_from, date_to)
    if kinds is not None:
        rows = rows.filter(kind__in=list(kinds))
    out: list[AgreementPair] = []
    for row in rows.values_list(
        "case_id",
        "case__pseudonym",
        "case__split",
        "kind",
        "model_version_id",
        "read_id",
        "reference_id",
        "author_id",
        "reference_at",
        "areas",
        "keypoint_errors",
        "measurements",
        "case_fields",
    ).order_by("case_id", "kind", "read_id", "model_version_id"):
        areas = {name: AreaValues(*values) for name, values in row[9].items()}
        out.append(
            AgreementPair(
                case_id=row[0],
                case_pseudonym=row[1],
                split=row[2],
                kind=row[3],
                model_version_id=row[4],
                read_id=row[5],
                reference_read_id=row[6],
                author_id=row[7],
                reference_at=row[8],
                areas=areas,
                keypoint_errors_mm=tuple(row[10]),
                measurements={k: (v[0], v[1]) for k, v in row[11].items()},
                case_fields={k: (v[0], v[1]) for k, v in row[12].items()},
            )
        )
    return out


def _group(
    rows: Sequence[tuple[Any, ...]], structures: Sequence[str], fields: Sequence[str]
) -> dict[str, Any]:
    """Summary of one group's raw rows (case_id, areas, keypoint errors, measurements,
    case fields)."""
    by_structure: dict[str, dict[str, Any]] = {}
    for name in structures:
        values = [r[1][name] for r in rows if name in r[1]]
        by_structure[name] = {
            "dice": distribution([v[0] for v in values], unit_range=True),
            "iou": distribution([v[1] for v in values], unit_range=True),
            "hd95_mm": distribution([v[2] for v in values]),
        }
    errors = [e for r in rows for e in r[2]]
    return {
        "n_cases": len({r[0] for r in rows}),
        "n_pairs": len(rows),
        "structures": by_structure,
        "keypoints": keypoint_summary(errors),
        "measurements": {
            m: measurement_summary([r[3][m] for r in rows if m in r[3]]) for m in MEASUREMENTS
        },
        "kappa": {f: kappa_summary([r[4][f] for r in rows if f in r[4]]) for f in fields},
    }


def _version_json(version: ModelVersion) -> dict[str, Any]:
    return {
        "id": version.pk,
        "name": version.name,
        "task": version.task,
        "created_at": version.created_at.isoformat(),
    }


def _trend_point(group: Mapping[str, Any], structures: Sequence[str]) -> dict[str, Any]:
    def mean(stat: Mapping[str, Any]) -> float | None:
        return stat.get("mean") if stat["status"] == "ok" else None

    return {
        "model_version": group["model_version"]["id"],
        "label": group["label"],
        "created_at": group["model_version"]["created_at"],
        "n_cases": group["n_cases"],
        "dice": {s: mean(group["structures"][s]["dice"]) for s in structures},
        "mean_radial_error_mm": mean(group["keypoints"]["radial_error_mm"]),
        "icc2_1": {
            m: (v["icc2_1"]["value"] if v["status"] == "ok" else None)
            for m, v in group["measurements"].items()
        },
    }


def _structures_of(project: Project, raw: Sequence[tuple[Any, ...]]) -> list[str]:
    """Stored structure names ("sagittal cord"...) in the template's label order."""
    areas = template_structures(project.template).areas
    seen = {name for r in raw for name in r[2]}
    order = {label: i for i, label in enumerate(areas)}
    return sorted(seen, key=lambda s: (s.split(" ", 1)[0], order.get(s.split(" ", 1)[-1], 99), s))


def agreement_summary(
    *,
    project: Project,
    split: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> dict[str, Any]:
    """The agreement dashboard's JSON (docs/API.md, "Dashboards")."""
    raw = list(
        _filtered(project, split, date_from, date_to).values_list(
            "kind", "model_version_id", "areas", "case_id", "keypoint_errors", "measurements",
            "case_fields",
        )
    )  # fmt: skip
    gold = Case.objects.filter(project=project, state=CaseState.GOLD)
    if split is not None:
        gold = gold.filter(split=split)
    n_gold = gold.count()
    structures = _structures_of(project, raw)
    fields = categorical_fields(project.template)
    grouped: dict[tuple[str, int | None], list[tuple[Any, ...]]] = defaultdict(list)
    for kind, version, areas, case_id, errors, measurements, case_fields in raw:
        grouped[(kind, version)].append((case_id, areas, errors, measurements, case_fields))
    # Every version that pre-labelled a case of the project, or is active, has a group:
    # one without pairs says what it lacks rather than vanishing.
    used = PrelabelJob.objects.filter(case__project=project, model_versions=OuterRef("pk"))
    versions = {
        v.pk: v
        for v in ModelVersion.objects.filter(
            Q(pk__in=sorted({v for _, v in grouped if v is not None}))
            | Q(status=ModelStatus.ACTIVE)
            | Q(Exists(used))
        )
    }
    groups: list[dict[str, Any]] = []
    for version_id in sorted(versions, key=lambda pk: (versions[pk].created_at, pk)):
        version = versions[version_id]
        groups.append(
            {
                "key": f"model:{version_id}",
                "kind": PairKind.MODEL.value,
                "label": f"{version.name} ({version.task} #{version_id}) vs gold",
                "model_version": _version_json(version),
                **_group(grouped[(PairKind.MODEL, version_id)], structures, fields),
            }
        )
    for kind in (PairKind.ANNOTATORS, PairKind.READERS):
        groups.append(
            {
                "key": kind.value,
                "kind": kind.value,
                "label": GROUP_LABELS[kind],
                "model_version": None,
                **_group(grouped[(kind, None)], structures, fields),
            }
        )
    inter = {
        "key": PairKind.INTER_READER.value,
        "kind": PairKind.INTER_READER.value,
        "label": GROUP_LABELS[PairKind.INTER_READER],
        "model_version": None,
        **_group(grouped[(PairKind.INTER_READER, None)], structures, fields),
    }
    empty = None
    if n_gold == 0:
        empty = not_enough(0, "no gold yet: needs at least one signed gold case")
    return {
        "project": project.slug,
        "filters": {
            "split": split,
            "from": date_from.isoformat() if date_from else None,
            "to": date_to.isoformat() if date_to else None,
        },
        "n_gold": n_gold,
        "empty": empty,
        "structures": structures,
        "measurements": list(MEASUREMENTS),
        "case_fields": fields,
        "groups": groups,
        "inter_reader": inter,
        "trend": [_trend_point(g, structures) for g in groups if g["kind"] == PairKind.MODEL],
    }
