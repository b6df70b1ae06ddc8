"""A large project built with bulk_create in a few statements, for the dashboards' query
counts and benchmarks: cases in every state and split, model reads from several versions,
annotators' and readers' reads with revisions and submissions, signed gold, returns, live
claims, and the aggregate rows the subscribers would have kept (agreement values drawn at
random around seed 003's figures)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import numpy as np
from django.contrib.auth.models import User
from django.utils import timezone

from annotation.label_templates import BUILTIN_TEMPLATES
from annotation.models import (
    Case,
    CaseState,
    CaseTransition,
    Claim,
    GoldSignature,
    Membership,
    Project,
    Read,
    ReadKind,
    ReadSubmission,
    Revision,
)
from dashboards.models import AgreementRow, CaseActivity
from dashboards.services.agreement import agreement_rows_save
from inference.models import ModelVersion

_numbers = itertools.count(1)
STATES = (
    CaseState.GOLD, CaseState.GOLD, CaseState.GOLD, CaseState.GOLD, CaseState.GOLD,
    CaseState.GOLD, CaseState.IN_REVIEW, CaseState.SUBMITTED, CaseState.IN_ANNOTATION,
    CaseState.PRELABELLED,
)  # fmt: skip
HUMAN_STATES = frozenset(STATES) - {CaseState.PRELABELLED}
KEYPOINTS = 20


@dataclass
class BulkProject:
    project: Project
    lead: User
    reviewer: User
    annotators: list[User]
    readers: list[User]
    versions: list[ModelVersion]
    revisions: int


def _people(
    project: Project, annotators: int, readers: int
) -> tuple[User, User, list[User], list[User]]:
    number = next(_numbers)
    users = User.objects.bulk_create(
        User(username=f"bulk-{number}-{i}", password="!") for i in range(annotators + readers + 2)
    )
    roles = ["lead", "reviewer"] + ["annotator"] * annotators + ["reader"] * readers
    Membership.objects.bulk_create(
        Membership(project=project, user=u, role=r) for u, r in zip(users, roles, strict=True)
    )
    return users[0], users[1], users[2 : 2 + annotators], users[2 + annotators :]


def _values(rng: np.random.Generator, kind: str) -> dict[str, object]:
    """One pair's stored agreement values (dice, iou, hd95 per structure; 20 radial errors;
    paired MSCC, MCC, TA, CR; paired case fields)."""
    areas = {}
    for name, mean in (("sagittal cord", 0.946), ("sagittal canal", 0.862), ("axial cord", 0.931)):
        d = float(np.clip(rng.normal(mean, 0.03), 0.0, 1.0))
        areas[name] = [d, d / (2 - d), float(abs(rng.normal(1.2, 0.5)))]
    gold = {"mscc": rng.normal(0.186, 0.078), "mcc": rng.normal(0.237, 0.082),
            "ta": rng.normal(63.66, 11.63), "cr": rng.normal(0.423, 0.075)}  # fmt: skip
    noise = {"mscc": 0.03, "mcc": 0.03, "ta": 4.0, "cr": 0.03}
    measurements = {k: [float(v + rng.normal(0, noise[k])), float(v)] for k, v in gold.items()}
    quality = ["good", "acceptable", "poor"]
    return {
        "areas": areas,
        "keypoint_errors": [float(e) for e in np.abs(rng.normal(0, 1.5, KEYPOINTS))],
        "measurements": measurements,
        "case_fields": {
            "compression_present": [bool(rng.random() < 0.5), bool(rng.random() < 0.5)],
            "image_quality": [str(rng.choice(quality)), str(rng.choice(quality))],
        },
    }


def bulk_project(
    *,
    cases: int,
    annotators: int = 40,
    readers: int = 10,
    versions: int = 3,
    revisions_per_case: float = 4.0,
    seed: int = 0,
) -> BulkProject:
    """`cases` cases (60 % gold) with about `revisions_per_case` revisions each."""
    rng = np.random.default_rng(seed)
    number = next(_numbers)
    project = Project.objects.create(
        slug=f"bulk-{number}", name="Bulk", template=BUILTIN_TEMPLATES["cervical-compression"]()
    )
    lead, reviewer, annotator_users, reader_users = _people(project, annotators, readers)
    made = ModelVersion.objects.bulk_create(
        ModelVersion(
            task="sagittal", name=f"v{k}", file=f"v{k}.onnx", sha256=f"{number:06d}{k:058d}"
        )
        for k in range(versions)
    )
    now = timezone.now()
    splits = ["train"] * 8 + ["tune", "test"]
    rows = Case.objects.bulk_create(
        Case(
            project=project,
            pseudonym=f"B{number}-{i:06d}",
            source_key=f"b{number}-{i}",
            state=STATES[i % len(STATES)],
            split=splits[(i // len(STATES)) % len(splits)],
            overlap=i % 10 == 3,
        )
        for i in range(cases)
    )
    reads: list[Read] = []
    owners: list[tuple[Case, str, User | None, int]] = []  # (case, group, author, model index)
    for i, case in enumerate(rows):
        owners.append((case, "model", None, i % versions))
        if case.state in HUMAN_STATES:
            owners.append((case, "annotators", annotator_users[i % annotators], -1))
            if case.overlap:
                owners.append((case, "annotators", annotator_users[(i + 1) % annotators], -1))
            if case.split == "test":
                owners.append((case, "readers", reader_users[i % readers], -1))
        if case.state == CaseState.GOLD:
            owners.append((case, "gold", None, -1))
    kinds = {"model": ReadKind.MODEL, "annotators": ReadKind.HUMAN, "readers": ReadKind.HUMAN,
             "gold": ReadKind.GOLD}  # fmt: skip
    reads = Read.objects.bulk_create(
        Read(case=c, kind=kinds[g], author=a, name=g) for c, g, a, _ in owners
    )
    # Revisions: one for model and gold reads, the rest spread over the people's reads.
    human = [k for k, (_, g, _, _) in enumerate(owners) if g in ("annotators", "readers")]
    budget = int(revisions_per_case * cases) - (len(owners) - len(human))
    counts = [1] * len(owners)
    for k in rng.choice(human, size=max(budget - len(human), 0)) if human else []:
        counts[int(k)] += 1
    revision_rows = []
    started = now - dt.timedelta(days=20)
    for k, (read, (_, group, author, _)) in enumerate(zip(reads, owners, strict=True)):
        begin = started + dt.timedelta(minutes=int(rng.integers(0, 20 * 24 * 60)))
        for n in range(counts[k]):
            revision_rows.append(
                Revision(
                    read=read,
                    number=n + 1,
                    author=author if group != "gold" else reviewer,
                    shapes={},
                    source="model" if group == "model" else "save",
                    created_at=begin + dt.timedelta(seconds=int(rng.integers(20, 600)) * n),
                )
            )
    Revision.objects.bulk_create(revision_rows, batch_size=5000)
    # auto_now_add overrides created_at on insert: put the drawn times back.
    heads: dict[int, Revision] = {}
    for revision in revision_rows:
        heads[revision.read_id] = revision
    when = {r.pk: r.created_at for r in revision_rows}
    Revision.objects.bulk_update(
        [Revision(pk=pk, created_at=at) for pk, at in when.items()], ["created_at"], batch_size=5000
    )
    Read.objects.bulk_update(
        [Read(pk=r.pk, head_id=heads[r.pk].pk, revision_count=heads[r.pk].number) for r in reads],
        ["head", "revision_count"],
        batch_size=5000,
    )
    submitted_states = {CaseState.GOLD, CaseState.IN_REVIEW, CaseState.SUBMITTED}
    ReadSubmission.objects.bulk_create(
        (
            ReadSubmission(
                read=read, revision=heads[read.pk], submitted_by=author,
                submitted_at=heads[read.pk].created_at,
            )
            for read, (case, group, author, _) in zip(reads, owners, strict=True)
            if group in ("annotators", "readers") and case.state in submitted_states
            and author is not None
        ),
        batch_size=5000,
    )  # fmt: skip
    GoldSignature.objects.bulk_create(
        (
            GoldSignature(
                read=read, revision=heads[read.pk], signed_by=reviewer,
                signed_at=heads[read.pk].created_at + dt.timedelta(minutes=5),
            )
            for read, (_, group, _, _) in zip(reads, owners, strict=True)
            if group == "gold"
        ),
        batch_size=5000,
    )  # fmt: skip
    CaseTransition.objects.bulk_create(
        CaseTransition(case=case, from_state=CaseState.IN_REVIEW, to_state=CaseState.RETURNED,
                       actor=reviewer, at=now - dt.timedelta(days=3))
        for case in rows[::17]
    )  # fmt: skip
    live = [c for c in rows if c.state == CaseState.IN_ANNOTATION]
    Claim.objects.bulk_create(
        Claim(case=case, user=annotator_users[k % annotators], purpose="annotate",
              expires_at=now + dt.timedelta(minutes=30))
        for k, case in enumerate(live)
    )  # fmt: skip
    _activity(project, revision_rows)
    _agreement(project, rows, reads, owners, heads, made, rng)
    return BulkProject(
        project=project, lead=lead, reviewer=reviewer, annotators=annotator_users,
        readers=reader_users, versions=made, revisions=len(revision_rows),
    )  # fmt: skip


def _activity(project: Project, revision_rows: list[Revision]) -> None:
    """The CaseActivity rows the save subscriber keeps."""
    activity: dict[tuple[int, int], CaseActivity] = {}
    for revision in revision_rows:
        case_id = revision.read.case_id
        if revision.author_id is None:
            continue
        key = (case_id, revision.author_id)
        row = activity.get(key)
        if row is None:
            activity[key] = CaseActivity(
                project=project, case_id=case_id, user_id=revision.author_id, revisions=1,
                active_seconds=0.0, first_at=revision.created_at, last_at=revision.created_at,
            )  # fmt: skip
            continue
        gap = (revision.created_at - row.last_at).total_seconds()
        row.active_seconds += gap if gap <= 300 else 0.0
        row.revisions += 1
        row.last_at = revision.created_at
    CaseActivity.objects.bulk_create(activity.values(), batch_size=5000)


def _agreement(
    project: Project,
    rows: list[Case],
    reads: list[Read],
    owners: list[tuple[Case, str, User | None, int]],
    heads: dict[int, Revision],
    made: list[ModelVersion],
    rng: np.random.Generator,
) -> None:
    """The AgreementRows the submission and signature subscribers keep."""
    now = timezone.now()
    submitted_states = {CaseState.GOLD, CaseState.IN_REVIEW, CaseState.SUBMITTED}
    by_case: dict[int, dict[str, list[tuple[Read, int]]]] = {}
    for read, (case, group, _, model) in zip(reads, owners, strict=True):
        by_case.setdefault(case.pk, {}).setdefault(group, []).append((read, model))
    agreement = []
    for case in rows:
        groups = by_case[case.pk]
        gold = groups.get("gold")
        signed_at = heads[gold[0][0].pk].created_at if gold else now
        pairs = []
        if gold:
            pairs += [(g, r, m, gold[0][0]) for g in ("model", "annotators", "readers")
                      for r, m in groups.get(g, [])]  # fmt: skip
        firsts = groups.get("annotators", [])
        if case.overlap and len(firsts) == 2 and case.state in submitted_states:
            pairs.append(("inter_reader", firsts[0][0], -1, firsts[1][0]))
        for group, read, model, reference in pairs:
            agreement.append(
                AgreementRow(
                    project=project, case=case, kind=group,
                    model_version=made[model] if group == "model" else None,
                    read=read, reference=reference, revision_id=heads[read.pk].pk,
                    reference_revision_id=heads[reference.pk].pk, author_id=read.author_id,
                    reference_at=signed_at, **_values(rng, group),
                )
            )  # fmt: skip
    agreement_rows_save(agreement, batch_size=5000)
