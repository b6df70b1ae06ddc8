"""The lead's study design: splits by ratio with a seed or by an uploaded list, overlap cases
for a second annotator read, reads required per split, aided or unaided per role."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from annotation.domain_events import CasesImported
from annotation.models import Case, Project, Role, Split, SplitMethod, StudyDesign
from annotation.selectors.design import design_of
from annotation.services.cases import WorkflowError

SPLITS: tuple[str, ...] = (Split.TRAIN, Split.TUNE, Split.TEST)
# Roles whose reads a design may ask for per case (reviewers make gold, not reads).
READ_ROLES: tuple[str, ...] = (Role.ANNOTATOR, Role.READER)
MAX_READS_PER_ROLE = 3
SPLIT_LIST_MAX_BYTES = 2 * 1024 * 1024


class DesignError(WorkflowError):
    """A design or split list the server refuses; `extra` maps the field to its message."""

    status = 400
    code = "invalid_design"


def _rank(*, seed: int, purpose: str, pseudonym: str) -> bytes:
    return hashlib.sha256(f"{seed}:{purpose}:{pseudonym}".encode()).digest()


def _quotas(*, total: int, ratios: Sequence[int]) -> list[int]:
    """Exact counts per split by the largest remainder (ties to the earlier split)."""
    weight = sum(ratios)
    exact = [total * r / weight for r in ratios]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(ratios)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _assign_ratio(*, cases: list[Case], design: StudyDesign) -> None:
    ranked = sorted(
        cases, key=lambda c: _rank(seed=design.seed, purpose="split", pseudonym=c.pseudonym)
    )
    quotas = _quotas(
        total=len(ranked), ratios=(design.ratio_train, design.ratio_tune, design.ratio_test)
    )
    start = 0
    for split, quota in zip(SPLITS, quotas, strict=True):
        for case in ranked[start : start + quota]:
            case.split = split
        start += quota


def _assign_overlap(*, cases: list[Case], design: StudyDesign) -> None:
    ranked = sorted(
        cases, key=lambda c: _rank(seed=design.seed, purpose="overlap", pseudonym=c.pseudonym)
    )
    chosen = round(len(ranked) * design.overlap_percent / 100)
    for index, case in enumerate(ranked):
        case.overlap = index < chosen


def _store(cases: list[Case]) -> None:
    Case.objects.bulk_update(cases, ["split", "overlap"], batch_size=1000)


def _validate_reads_required(value: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = {}
    for split in SPLITS:
        per_role = value.get(split, {})
        if not isinstance(per_role, Mapping):
            raise DesignError(
                "Reads required must map each role to a number.",
                reads_required=[f"{split}: not an object"],
            )
        result[split] = {}
        for role, count in per_role.items():
            if role not in READ_ROLES:
                raise DesignError(
                    f"Reads are required of annotators and readers, not {role!r}.",
                    reads_required=[f"{split}: unknown role {role!r}"],
                )
            if (
                isinstance(count, bool)
                or not isinstance(count, int)
                or not 0 <= count <= MAX_READS_PER_ROLE
            ):
                raise DesignError(
                    f"Reads per role are 0 to {MAX_READS_PER_ROLE}.",
                    reads_required=[f"{split}.{role}: {count!r} is not 0 to {MAX_READS_PER_ROLE}"],
                )
            result[split][role] = count
    unknown = sorted(set(value) - set(SPLITS))
    if unknown:
        raise DesignError(
            f"Unknown split {unknown[0]!r}.",
            reads_required=[f"unknown split {unknown[0]!r}; the splits are train, tune, test"],
        )
    return result


def design_save(
    *,
    project: Project,
    actor: User,
    seed: int,
    ratios: tuple[int, int, int],
    reads_required: Mapping[str, Any],
    overlap_percent: int,
    aided: Mapping[str, bool],
    split_method: str = SplitMethod.RATIO,
) -> StudyDesign:
    """Save the design and (by ratio) split every case again from the seed; overlap cases
    are chosen from the seed either way. Deterministic: the same seed, the same splits."""
    if sum(ratios) <= 0:
        raise DesignError("At least one split needs a ratio above 0.", ratios=["all ratios are 0"])
    required = _validate_reads_required(reads_required)
    unknown_roles = sorted(set(aided) - set(Role.values))
    if unknown_roles:
        raise DesignError(
            f"Unknown role {unknown_roles[0]!r}.", aided=[f"unknown role {unknown_roles[0]!r}"]
        )
    with transaction.atomic():
        design = design_of(project=project)
        design.seed = seed
        design.ratio_train, design.ratio_tune, design.ratio_test = ratios
        design.reads_required = required
        design.overlap_percent = overlap_percent
        design.aided = {**StudyDesign().aided, **{r: bool(v) for r, v in aided.items()}}
        design.split_method = split_method
        design.updated_by = actor
        design.save()
        cases = list(
            Case.objects.filter(project=project).only("id", "pseudonym", "split", "overlap")
        )
        if split_method == SplitMethod.RATIO:
            _assign_ratio(cases=cases, design=design)
        _assign_overlap(cases=cases, design=design)
        _store(cases)
    return design


def _parse_split_list(text: str) -> dict[str, str]:
    rows: dict[str, str] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if number == 1 and [c.lower() for c in cells[:2]] in (
            ["pseudonym", "split"],
            ["case", "split"],
        ):
            continue
        if len(cells) != 2:
            raise DesignError(
                f"Line {number}: expected 'pseudonym,split'.",
                file=[f"line {number}: {len(cells)} columns"],
            )
        pseudonym, split = cells
        if split.lower() not in SPLITS:
            raise DesignError(
                f"Line {number}: unknown split {split!r} (train, tune or test).",
                file=[f"line {number}: unknown split {split!r}"],
            )
        if pseudonym in rows:
            raise DesignError(
                f"Line {number}: {pseudonym} is listed twice.",
                file=[f"line {number}: {pseudonym} listed twice"],
            )
        rows[pseudonym] = split.lower()
    if not rows:
        raise DesignError("The list names no case.", file=["no 'pseudonym,split' line"])
    return rows


def splits_from_list(*, project: Project, actor: User, text: str) -> int:
    """Split the listed cases as the CSV (pseudonym,split) says; an unknown pseudonym refuses
    the whole list by name. Cases not listed keep their split. Returns how many changed."""
    wanted = _parse_split_list(text)
    with transaction.atomic():
        cases = list(
            Case.objects.filter(project=project).only("id", "pseudonym", "split", "overlap")
        )
        by_name = {c.pseudonym: c for c in cases}
        unknown = [name for name in wanted if name not in by_name]
        if unknown:
            shown = ", ".join(unknown[:10]) + (" ..." if len(unknown) > 10 else "")
            raise DesignError(
                f"No such case in this project: {shown}.",
                file=[f"unknown pseudonyms: {shown}"],
                unknown=unknown[:100],
            )
        changed = sum(1 for name, split in wanted.items() if by_name[name].split != split)
        for name, split in wanted.items():
            by_name[name].split = split
        design = design_of(project=project)
        design.split_method = SplitMethod.LIST
        design.updated_by = actor
        design.save()
        _assign_overlap(cases=cases, design=design)
        _store(cases)
    return changed


def _unit(*, seed: int, purpose: str, pseudonym: str) -> float:
    """The seeded rank as a number in [0, 1)."""
    return int.from_bytes(_rank(seed=seed, purpose=purpose, pseudonym=pseudonym)[:8]) / 2**64


def splits_assign_new(event: CasesImported) -> None:
    """Subscriber: newly imported cases get a split (by ratio designs) without moving the
    others: each takes the split its seeded rank falls in, and overlap by its share."""
    design = design_of(project=Project.objects.get(pk=event.project_id))
    cases = list(Case.objects.filter(pk__in=event.case_ids, split="").only("id", "pseudonym"))
    ratios = (design.ratio_train, design.ratio_tune, design.ratio_test)
    bounds = [sum(ratios[: i + 1]) / sum(ratios) for i in range(len(SPLITS))]
    for case in cases:
        if design.split_method == SplitMethod.RATIO:
            u = _unit(seed=design.seed, purpose="split", pseudonym=case.pseudonym)
            case.split = next((s for s, b in zip(SPLITS, bounds, strict=True) if u < b), SPLITS[-1])
        u = _unit(seed=design.seed, purpose="overlap", pseudonym=case.pseudonym)
        case.overlap = u < design.overlap_percent / 100
    if cases:
        with transaction.atomic():
            _store(cases)
