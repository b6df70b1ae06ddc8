"""What the study report reads from the database, in a fixed number of queries.

Every gold case (state gold, a gold read with a head) with the heads of its other reads,
their stored measurement results, the shapes of the gold and model heads (for Dice/IoU),
the images' geometry, the model versions behind the model reads and the study design.
Everything comes back as plain data: the report's computations never touch the ORM.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count

from annotation.models import (
    Case,
    CaseState,
    Image,
    Membership,
    Project,
    Read,
    ReadKind,
    Revision,
    Role,
)
from annotation.selectors.design import design_of
from inference.models import PrelabelJob
from measurements.models import MeasurementResult

# Reader groups of the report (seed 003): the annotators' reads before review, the
# independent readers ("manual group"), the model, and the reviewers' signed gold.
ANNOTATORS = "annotators"
READERS = "readers"
MODEL = "model"
GOLD = "gold"
GROUPS: tuple[str, ...] = (ANNOTATORS, READERS, MODEL, GOLD)
GROUP_TITLES: dict[str, str] = {
    ANNOTATORS: "Annotators (before review)",
    READERS: "Independent readers",
    MODEL: "Model",
    GOLD: "Gold standard",
}
_ROLE_GROUP: dict[str, str] = {Role.ANNOTATOR: ANNOTATORS, Role.READER: READERS}


@dataclass(frozen=True)
class ImageGeometry:
    rows: int
    columns: int
    spacing: tuple[float, float]  # (row mm, column mm)
    orientation: str


@dataclass(frozen=True)
class MeasuredImage:
    """One stored measurement result of a head revision."""

    image_id: int
    view: str
    values: dict[str, Any]
    algorithm_version: str


@dataclass
class GroupRead:
    """The head of one read that counts for a group on a gold case."""

    read_id: int
    revision_id: int
    group: str
    results: list[MeasuredImage] = field(default_factory=list)


@dataclass
class GoldCase:
    case_id: int
    split: str  # "" when the case is in no split yet
    gold: GroupRead
    # One read per group (the first annotator's read on overlap cases; the newest model read).
    reads: dict[str, GroupRead] = field(default_factory=dict)
    # Shapes of the gold and model heads, by image id (str), and the gold head's image
    # flags (labelme "flags" per image: the disc level of an axial slice).
    gold_shapes: dict[str, Any] = field(default_factory=dict)
    model_shapes: dict[str, Any] | None = None
    gold_image_flags: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelVersionInfo:
    name: str
    task: str
    sha256: str


@dataclass
class ReportData:
    """Everything the report is computed from."""

    project_name: str
    blinded: bool
    design: dict[str, Any]
    cases_by_split_state: dict[str, dict[str, int]]
    gold_cases: list[GoldCase]
    images: dict[int, ImageGeometry]
    model_versions: list[ModelVersionInfo]
    algorithm_versions: list[str]
    reads_per_group: dict[str, int]


def _design_dict(project: Project) -> dict[str, Any]:
    design = design_of(project=project)
    return {
        "split_method": design.split_method,
        "seed": design.seed,
        "ratio": [design.ratio_train, design.ratio_tune, design.ratio_test],
        "reads_required": design.reads_required,
        "overlap_percent": design.overlap_percent,
        "aided": design.aided,
    }


def _gold_cases(project: Project) -> dict[int, GoldCase]:
    rows = (
        Read.objects.filter(case__project=project, case__state=CaseState.GOLD, kind=ReadKind.GOLD)
        .exclude(head=None)
        .values_list("id", "case_id", "case__split", "head_id")
        .order_by("case_id")
    )
    return {
        case_id: GoldCase(
            case_id=case_id, split=split, gold=GroupRead(read_id=rid, revision_id=head, group=GOLD)
        )
        for rid, case_id, split, head in rows
    }


def _attach_reads(project: Project, cases: dict[int, GoldCase]) -> None:
    roles = dict(Membership.objects.filter(project=project).values_list("user_id", "role"))
    rows = (
        Read.objects.filter(
            case__project=project,
            case__state=CaseState.GOLD,
            kind__in=[ReadKind.HUMAN, ReadKind.MODEL],
        )
        .exclude(head=None)
        .values_list("id", "case_id", "kind", "author_id", "head_id")
        .order_by("case_id", "id")
    )
    for rid, case_id, kind, author_id, head in rows:
        case = cases.get(case_id)
        if case is None:
            continue
        group = MODEL if kind == ReadKind.MODEL else _ROLE_GROUP.get(roles.get(author_id, ""))
        if group is None:  # a reviewer's or lead's own read: not a reader group of the study
            continue
        if group == MODEL or group not in case.reads:  # the newest model read wins
            case.reads[group] = GroupRead(read_id=rid, revision_id=head, group=group)


def _attach_results(project: Project, cases: dict[int, GoldCase]) -> set[str]:
    by_revision: dict[int, GroupRead] = {}
    for case in cases.values():
        by_revision[case.gold.revision_id] = case.gold
        for read in case.reads.values():
            by_revision[read.revision_id] = read
    versions: set[str] = set()
    rows = MeasurementResult.objects.filter(
        revision__read__case__project=project, revision__read__case__state=CaseState.GOLD
    ).values_list("revision_id", "image_id", "view", "values", "algorithm_version")
    for revision_id, image_id, view, values, version in rows.order_by("revision_id", "image_id"):
        target = by_revision.get(revision_id)
        if target is None:  # an older revision, or a read of no group
            continue
        target.results.append(MeasuredImage(image_id, view, values, version))
        versions.add(version)
    return versions


def _attach_shapes(cases: dict[int, GoldCase]) -> None:
    wanted: dict[int, tuple[GoldCase, str]] = {}
    for case in cases.values():
        wanted[case.gold.revision_id] = (case, GOLD)
        model = case.reads.get(MODEL)
        if model is not None:
            wanted[model.revision_id] = (case, MODEL)
    rows = Revision.objects.filter(pk__in=list(wanted)).values_list("id", "shapes", "image_meta")
    for revision_id, shapes, meta in rows:
        case, group = wanted[revision_id]
        if group == GOLD:
            case.gold_shapes = shapes
            case.gold_image_flags = {
                key: dict(entry.get("flags") or {})
                for key, entry in (meta or {}).items()
                if isinstance(entry, dict)
            }
        else:
            case.model_shapes = shapes


def _images(project: Project) -> dict[int, ImageGeometry]:
    rows = Image.objects.filter(
        series__case__project=project, series__case__state=CaseState.GOLD
    ).values_list(
        "id",
        "series__rows",
        "series__columns",
        "series__pixel_spacing_row",
        "series__pixel_spacing_col",
        "series__orientation",
    )
    return {
        pk: ImageGeometry(rows=r, columns=c, spacing=(sr, sc), orientation=o)
        for pk, r, c, sr, sc, o in rows
    }


def _model_versions(cases: dict[int, GoldCase]) -> list[ModelVersionInfo]:
    model_reads = [c.reads[MODEL].read_id for c in cases.values() if MODEL in c.reads]
    rows = (
        PrelabelJob.objects.filter(read_id__in=model_reads)
        .exclude(model_versions=None)
        .values_list("model_versions__name", "model_versions__task", "model_versions__sha256")
        .distinct()
        .order_by("model_versions__task", "model_versions__name")
    )
    return [ModelVersionInfo(name=n, task=t, sha256=s) for n, t, s in rows]


def _counts(project: Project) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = defaultdict(dict)
    rows = (
        Case.objects.filter(project=project).values_list("split", "state").annotate(n=Count("id"))
    )
    for split, state, n in rows.order_by():
        table[split or "unassigned"][state] = n
    return dict(table)


def report_data(*, project: Project) -> ReportData:
    """Everything the report needs, in a number of queries that does not grow with cases."""
    cases = _gold_cases(project)
    _attach_reads(project, cases)
    versions = _attach_results(project, cases)
    _attach_shapes(cases)
    reads_per_group = {
        group: sum(1 for c in cases.values() if group in c.reads) for group in GROUPS[:-1]
    }
    reads_per_group[GOLD] = len(cases)
    return ReportData(
        project_name=project.name,
        blinded=project.blinded,
        design=_design_dict(project),
        cases_by_split_state=_counts(project),
        gold_cases=list(cases.values()),
        images=_images(project),
        model_versions=_model_versions(cases),
        algorithm_versions=sorted(versions),
        reads_per_group=reads_per_group,
    )
