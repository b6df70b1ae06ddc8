"""A project's study design as the services and pages use it (defaults until a lead saves one)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from annotation.models import Case, Project, Role, Split, StudyDesign


def design_of(*, project: Project) -> StudyDesign:
    """The saved design, or an unsaved one holding the defaults (8:1:1, seed 3, 10 %)."""
    design = StudyDesign.objects.filter(project=project).first()
    return design if design is not None else StudyDesign(project=project)


def role_unaided(*, project_id: int, role: str | None) -> bool:
    """True when the design hides the model's pre-label from this role (one query)."""
    if role is None:
        return False
    aided = StudyDesign.objects.filter(project_id=project_id).values_list("aided", flat=True)
    setting = next(iter(aided), None)
    if setting is None:
        setting = StudyDesign().aided
    return not bool(setting.get(str(role), True))


def reads_owed(*, design: StudyDesign, split: str, overlap: bool) -> dict[str, int]:
    """Reads a case of this split needs, per role; an overlap case one more annotator read.
    A case not yet split counts as train."""
    needed = {
        str(role): int(count)
        for role, count in design.reads_required.get(split or Split.TRAIN, {}).items()
    }
    if overlap:
        needed[Role.ANNOTATOR] = needed.get(Role.ANNOTATOR, 0) + 1
    return needed


@dataclass(frozen=True)
class SplitCounts:
    train: int
    tune: int
    test: int
    unassigned: int
    overlap: int


def split_counts(*, project: Project) -> SplitCounts:
    """How many cases each split holds (one query)."""
    counts = Case.objects.filter(project=project).aggregate(
        train=Count("id", filter=Q(split=Split.TRAIN)),
        tune=Count("id", filter=Q(split=Split.TUNE)),
        test=Count("id", filter=Q(split=Split.TEST)),
        unassigned=Count("id", filter=Q(split="")),
        overlap=Count("id", filter=Q(overlap=True)),
    )
    return SplitCounts(**counts)
