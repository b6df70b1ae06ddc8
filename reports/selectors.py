"""What the study report reads from the database, in a fixed number of queries.

The dashboards' agreement pairs (each read of a group against its case's gold, with Dice,
IoU and the paired MSCC/MCC/TA/CR values: dashboards.selectors.agreement, one
implementation), the gold reads' stored results and the disc level of their axial images
(seed 000's per-level table: labelme image flags first, else from the gold read's sagittal
vertebral corners, measurements.levels), the model versions, the study design and the
case counts. Everything comes back as plain data: the report's computations never touch
the ORM.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count

from annotation.models import Case, CaseState, Project, Read, ReadKind
from annotation.selectors.design import design_of
from dashboards.models import PairKind
from dashboards.selectors.agreement import AgreementPair, agreement_rows
from inference.models import ModelVersion
from measurements.core.levels import ImageLevel, flag_levels
from measurements.levels import case_images, corner_image_ids, image_flags, read_levels
from measurements.models import MeasurementResult

# Reader groups of the report (seed 003): the annotators' reads before review, the
# independent readers ("manual group"), the model, and the reviewers' signed gold.
ANNOTATORS: str = PairKind.ANNOTATORS
READERS: str = PairKind.READERS
MODEL: str = PairKind.MODEL
GOLD = "gold"
COMPARED_KINDS: tuple[str, ...] = (ANNOTATORS, READERS, MODEL)
GROUPS: tuple[str, ...] = (ANNOTATORS, READERS, MODEL, GOLD)
GROUP_TITLES: dict[str, str] = {
    ANNOTATORS: "Annotators (before review)",
    READERS: "Independent readers",
    MODEL: "Model",
    GOLD: "Gold standard",
}


@dataclass(frozen=True)
class MeasuredImage:
    """One stored measurement result of a gold head revision."""

    image_id: int
    view: str
    values: dict[str, Any]
    algorithm_version: str


@dataclass
class GoldCase:
    """A gold case's signed read: its stored results, its image flags (labelme "flags" per
    image: the disc level of an axial slice) and the disc level of each axial image (flags
    first, else from the gold read's sagittal corners), for seed 000's per-level table."""

    case_id: int
    split: str  # "" when the case is in no split yet
    revision_id: int
    read_id: int = 0
    results: list[MeasuredImage] = field(default_factory=list)
    image_flags: dict[str, dict[str, Any]] = field(default_factory=dict)
    levels: dict[int, ImageLevel] = field(default_factory=dict)
    level_notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelVersionInfo:
    id: int
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
    # The dashboards' stored pairs (a read against its case's gold), one implementation of
    # which revision counts and of every per-case number (dashboards.selectors.agreement).
    pairs: list[AgreementPair]
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


def _gold_cases(project: Project) -> tuple[dict[int, GoldCase], dict[int, dict[str, Any]]]:
    """The gold cases, and each one's gold head shapes (for its sagittal corners)."""
    rows = (
        Read.objects.filter(case__project=project, case__state=CaseState.GOLD, kind=ReadKind.GOLD)
        .exclude(head=None)
        .values_list("case_id", "case__split", "id", "head_id", "head__image_meta", "head__shapes")
        .order_by("case_id")
    )
    cases: dict[int, GoldCase] = {}
    shapes: dict[int, dict[str, Any]] = {}
    for case_id, split, read_id, head, meta, head_shapes in rows:
        cases[case_id] = GoldCase(
            case_id=case_id,
            split=split,
            revision_id=head,
            read_id=read_id,
            image_flags=image_flags(meta),
        )
        shapes[case_id] = head_shapes if isinstance(head_shapes, dict) else {}
    return cases, shapes


def _attach_levels(cases: dict[int, GoldCase], shapes: dict[int, dict[str, Any]]) -> None:
    """Each gold case's axial image levels: image flags win, the rest from the gold read's
    own sagittal corners (measurements.levels, one query for every case)."""
    sagittal = {i for case_shapes in shapes.values() for i in corner_image_ids(case_shapes)}
    images = case_images(case_ids=cases, sagittal_ids=sagittal)
    for case_id, case in cases.items():
        found = read_levels(
            flags=flag_levels(case.image_flags),
            own=(case.read_id, shapes.get(case_id, {})),
            fallback=None,
            images=images[case_id],
        )
        case.levels, case.level_notes = found.levels, found.notes


def _attach_level_flags(project: Project, cases: dict[int, GoldCase]) -> None:
    """An image without level flags on the gold read takes them from another read of the
    case (a composed gold keeps no labelme flags; an imported labelme file of a read does)."""
    rows = (
        Read.objects.filter(case__project=project, case__state=CaseState.GOLD)
        .exclude(kind=ReadKind.GOLD)
        .exclude(head=None)
        .values_list("case_id", "head__image_meta")
        .order_by("case_id", "id")
    )
    for case_id, meta in rows:
        case = cases.get(case_id)
        if case is None:
            continue
        for key, flags in image_flags(meta).items():
            if flags and not case.image_flags.get(key):
                case.image_flags[key] = flags


def _attach_results(project: Project, cases: dict[int, GoldCase]) -> set[str]:
    by_revision = {case.revision_id: case for case in cases.values()}
    versions: set[str] = set()
    rows = MeasurementResult.objects.filter(
        revision__read__case__project=project,
        revision__read__kind=ReadKind.GOLD,
        revision__read__case__state=CaseState.GOLD,
    ).values_list("revision_id", "image_id", "view", "values", "algorithm_version")
    for revision_id, image_id, view, values, version in rows.order_by("revision_id", "image_id"):
        target = by_revision.get(revision_id)
        if target is None:  # an older revision of the gold read
            continue
        target.results.append(MeasuredImage(image_id, view, values, version))
        versions.add(version)
    return versions


def _model_versions(pairs: list[AgreementPair]) -> list[ModelVersionInfo]:
    ids = {p.model_version_id for p in pairs if p.model_version_id is not None}
    rows = ModelVersion.objects.filter(pk__in=ids).values_list("id", "name", "task", "sha256")
    return [ModelVersionInfo(*row) for row in rows.order_by("id")]


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
    cases, shapes = _gold_cases(project)
    _attach_level_flags(project, cases)
    _attach_levels(cases, shapes)
    del shapes
    versions = _attach_results(project, cases)
    pairs = agreement_rows(project=project, kinds=COMPARED_KINDS)
    reads_per_group = {
        group: len({p.read_id for p in pairs if p.kind == group}) for group in COMPARED_KINDS
    }
    reads_per_group[GOLD] = len(cases)
    return ReportData(
        project_name=project.name,
        blinded=project.blinded,
        design=_design_dict(project),
        cases_by_split_state=_counts(project),
        gold_cases=list(cases.values()),
        pairs=pairs,
        model_versions=_model_versions(pairs),
        algorithm_versions=sorted(versions),
        reads_per_group=reads_per_group,
    )
