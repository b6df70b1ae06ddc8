"""The agreement dashboard: the stored AgreementRows of a project (filtered by split and by
the date their reference was signed) in typed rows, and their per-group summary.

Bounded queries: the rows (one), the model versions they name (one), the gold count (one),
whatever the number of cases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db.models import Exists, OuterRef, Q

from annotation.models import Case, CaseState, Project
from annotation.selectors.agreement import template_structures
from dashboards.models import AgreementRow, PairKind
from dashboards.selectors.group_stats import (
    AREA_METRICS,
    NEEDS_AREA,
    area_stats,
    empty_numbers,
    kappa_stats,
    number_stats,
)
from dashboards.selectors.progress import day_range
from dashboards.selectors.summaries import kappa_summary, not_enough
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
        "mean_radial_error_mm": group["keypoints"]["mean_radial_error_mm"],
        "icc2_1": {
            m: (v["icc2_1"]["value"] if v["status"] == "ok" else None)
            for m, v in group["measurements"].items()
        },
    }


def _rows_q(
    project: Project,
    split: str | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    prefix: str = "",
) -> Q:
    q = Q(**{f"{prefix}project": project})
    if split is not None:
        q &= Q(**{f"{prefix}case__split": split})
    return q & day_range(f"{prefix}reference_at", date_from, date_to)


def _structure_order(project: Project, found: Iterable[str]) -> list[str]:
    """Stored structure names ("sagittal cord"...): by view, then the template's label order."""
    order = {label: i for i, label in enumerate(template_structures(project.template).areas)}
    return sorted(
        set(found), key=lambda s: (s.split(" ", 1)[0], order.get(s.split(" ", 1)[-1], 99), s)
    )


def _group_body(
    group: tuple[str, int | None],
    areas: Mapping[tuple[str, int | None], Mapping[str, Any]],
    numbers: Mapping[tuple[str, int | None], Mapping[str, Any]],
    kappas: Mapping[tuple[str, int | None], Mapping[str, Any]],
    structures: Sequence[str],
    fields: Sequence[str],
) -> dict[str, Any]:
    missing = not_enough(0, NEEDS_AREA)
    by_structure = areas.get(group, {})
    return {
        **(numbers.get(group) or empty_numbers()),
        "structures": {
            s: by_structure.get(s) or {m: dict(missing) for m in AREA_METRICS} for s in structures
        },
        "kappa": {f: kappas.get(group, {}).get(f) or kappa_summary([]) for f in fields},
    }


def agreement_summary(
    *,
    project: Project,
    split: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> dict[str, Any]:
    """The agreement dashboard's JSON (docs/API.md, "Dashboards"), in a fixed number of
    queries: areas (4), numbers (1), kappa (1), model versions (1), gold count (1)."""
    rows = _rows_q(project, split, date_from, date_to)
    fields = categorical_fields(project.template)
    # The area and field tables carry their row's group and filter columns (models.RowCopy):
    # the same filter applies to them without a join.
    areas = area_stats(rows)
    numbers = number_stats(rows)
    kappas = kappa_stats(rows, fields)
    structures = _structure_order(project, (s for by in areas.values() for s in by))
    gold = Case.objects.filter(project=project, state=CaseState.GOLD)
    if split is not None:
        gold = gold.filter(split=split)
    n_gold = gold.count()
    # Every version that pre-labelled a case of the project, or is active, has a group:
    # one without pairs says what it lacks rather than vanishing.
    used = PrelabelJob.objects.filter(case__project=project, model_versions=OuterRef("pk"))
    versions = list(
        ModelVersion.objects.filter(
            Q(pk__in=sorted({v for k, v in numbers if v is not None}))
            | Q(status=ModelStatus.ACTIVE)
            | Q(Exists(used))
        ).order_by("created_at", "id")
    )
    body = partial(
        _group_body, areas=areas, numbers=numbers, kappas=kappas, structures=structures,
        fields=fields,
    )  # fmt: skip
    groups: list[dict[str, Any]] = [
        {
            "key": f"model:{version.pk}",
            "kind": PairKind.MODEL.value,
            "label": f"{version.name} ({version.task} #{version.pk}) vs gold",
            "model_version": _version_json(version),
            **body((PairKind.MODEL.value, version.pk)),
        }
        for version in versions
    ]
    for kind in (PairKind.ANNOTATORS, PairKind.READERS, PairKind.INTER_READER):
        groups.append(
            {
                "key": kind.value,
                "kind": kind.value,
                "label": GROUP_LABELS[kind],
                "model_version": None,
                **body((kind.value, None)),
            }
        )
    inter = groups.pop()
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
