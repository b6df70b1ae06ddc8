"""A small study driven through the real services (saves, submissions, returns, gold
signatures, model reads with their pre-label job): reads differ at random so that every
agreement figure has spread. Shared by the dashboard tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.contrib.auth.models import User
from django.db import transaction

from annotation.domain_events import JobFinished, publish
from annotation.label_templates import VERTEBRAE
from annotation.models import Case, CaseState, Image, Project, Read, ReadKind
from annotation.models.reads import RevisionSource
from annotation.services.cases import case_reopen, case_transition
from annotation.services.gold import case_return, gold_sign
from annotation.services.projects import membership_set
from annotation.services.revisions import revision_create
from annotation.services.submit import read_submit
from inference.models import JobStatus, ModelVersion, PrelabelJob
from tests.factories import make_case

_numbers = itertools.count(1)


def polygon(label: str, points: list[tuple[float, float]]) -> dict[str, Any]:
    return {"label": label, "shape_type": "polygon", "points": [list(p) for p in points]}


def point(label: str, x: float, y: float) -> dict[str, Any]:
    return {"label": label, "shape_type": "point", "points": [[x, y]]}


def waisted(label: str, left: float, right: float, waist: float) -> dict[str, Any]:
    """A vertical band from y 4 to 60 narrowed by `waist` px on each side at y 32."""
    return polygon(
        label,
        [(left, 4), (right, 4), (right - waist, 32), (right, 60), (left, 60), (left + waist, 32)],
    )


def study_shapes(case: Case, rng: np.random.Generator) -> dict[str, list[dict[str, Any]]]:
    """Cord and canal (with a compression), the 20 corners on the sagittal mid-slice; cord
    and canal on the first axial slice; everything jittered by `rng`."""
    images = list(
        Image.objects.filter(series__case=case)
        .select_related("series")
        .order_by("series__number", "index")
    )
    sagittal = [i for i in images if i.series.orientation == "sagittal"]
    axial = [i for i in images if i.series.orientation == "axial"]
    mid = sagittal[(len(sagittal) - 1) // 2]

    def j(scale: float) -> float:
        return float(rng.normal(0, scale))

    shift = j(0.6)
    on_mid = [
        waisted("cord", 33 + shift, 39 + shift + j(0.4), 0.6 + abs(j(0.8))),
        waisted("canal", 31 + shift, 42 + shift + j(0.4), 0.5 + abs(j(0.8))),
    ]
    for k, v in enumerate(VERTEBRAE):
        top, bottom = 5.0 + 11 * k, 13.0 + 11 * k
        on_mid += [point(f"{v}_AS", 10 + j(0.7), top + j(0.7))]
        on_mid += [point(f"{v}_AI", 10 + j(0.7), bottom + j(0.7))]
        on_mid += [point(f"{v}_PS", 30 + j(0.7), top + j(0.7))]
        on_mid += [point(f"{v}_PI", 30 + j(0.7), bottom + j(0.7))]
    w, h = 7 + j(1.0), 4 + j(0.7)
    x, y = 20 + j(0.5), 20 + j(0.5)
    on_axial = [
        polygon("cord", [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]),
        polygon(
            "canal",
            [(x - 3, y - 3), (x + w + 3, y - 3), (x + w + 3, y + h + 3), (x - 3, y + h + 3)],
        ),
    ]
    return {str(mid.pk): on_mid, str(axial[0].pk): on_axial}


def study_fields(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "compression_present": bool(rng.random() < 0.5),
        "image_quality": str(rng.choice(["good", "acceptable", "poor"])),
    }


@dataclass
class Study:
    """The project, its people and model versions, and a random source."""

    project: Project
    people: dict[str, User]
    versions: list[ModelVersion]
    rng: np.random.Generator
    cases: list[Case] = field(default_factory=list)

    def user(self, role: str, k: int = 0) -> User:
        return self.people[f"{role}{k}"]

    # ----- building cases -----

    def new_case(self, *, split: str = "train", overlap: bool = False) -> Case:
        case = make_case(project=self.project, slices=2, seed=next(_numbers))
        Case.objects.filter(pk=case.pk).update(split=split, overlap=overlap)
        case.split, case.overlap = split, overlap
        self.cases.append(case)
        return case

    def save(self, case: Case, author: User) -> Read:
        """The author's read of the case gets a new revision (created on first save)."""
        read = Read.objects.filter(case=case, author=author, kind=ReadKind.HUMAN).first()
        if read is None:
            read = Read.objects.create(case=case, kind=ReadKind.HUMAN, author=author)
        revision_create(
            read=read,
            parent_id=read.head_id,
            shapes=study_shapes(case, self.rng),
            case_fields=study_fields(self.rng),
            author=author,
            source=RevisionSource.SAVE,
        )
        read.refresh_from_db()
        return read

    def submit(self, case: Case, author: User) -> None:
        read = Read.objects.get(case=case, author=author, kind=ReadKind.HUMAN)
        read_submit(read=read, user=author, override_reason="dashboard fixture")

    def model_read(self, case: Case, version: ModelVersion, *also: ModelVersion) -> Read:
        """A model read written as the pre-label job writes it (read, revision, job, event);
        `also`: more versions the job used (an axial model beside the sagittal one)."""
        with transaction.atomic():
            read = Read.objects.create(case=case, kind=ReadKind.MODEL, name=f"model #{version.pk}")
            revision_create(
                read=read,
                parent_id=None,
                shapes=study_shapes(case, self.rng),
                source=RevisionSource.MODEL,
                message="pre-label",
            )
            job = PrelabelJob.objects.create(case=case, status=JobStatus.SUCCEEDED, read=read)
            job.model_versions.set([version, *also])
            publish(
                JobFinished(
                    job_id=job.pk,
                    case_id=case.pk,
                    project_id=case.project_id,
                    status=job.status,
                    read_id=read.pk,
                )
            )
        return read

    def review(self, case: Case) -> None:
        case_transition(case=case, to_state=CaseState.IN_REVIEW, actor=self.user("reviewer"))

    def sign(self, case: Case) -> None:
        """The reviewer edits the gold (a fresh jittered read) and signs its head."""
        reviewer = self.user("reviewer")
        gold = Read.objects.filter(case=case, kind=ReadKind.GOLD).first()
        if gold is None:
            gold = Read.objects.create(case=case, kind=ReadKind.GOLD)
        revision = revision_create(
            read=gold,
            parent_id=gold.head_id,
            shapes=study_shapes(case, self.rng),
            case_fields=study_fields(self.rng),
            author=reviewer,
        )
        gold_sign(case=case, user=reviewer, role="reviewer", revision_id=revision.pk)

    def give_back(self, case: Case) -> None:
        case_return(case=case, user=self.user("reviewer"), role="reviewer", reason="fix C5")

    def reopen(self, case: Case) -> None:
        case_reopen(case=case, actor=self.user("reviewer"), reason="recheck")

    def annotated(self, case: Case, *, annotators: int = 1, reader: bool = False) -> None:
        """Saves (1-3 each) and submissions of the reads the design owes."""
        for k in range(annotators):
            for _ in range(int(self.rng.integers(1, 4))):
                self.save(case, self.user("annotator", k))
            self.submit(case, self.user("annotator", k))
        if reader:
            self.save(case, self.user("reader"))
            self.submit(case, self.user("reader"))

    def gold_case(self, *, split: str = "train", overlap: bool = False, model: int = 0) -> Case:
        case = self.new_case(split=split, overlap=overlap)
        self.model_read(case, self.versions[model])
        self.annotated(case, annotators=2 if overlap else 1, reader=split == "test")
        self.review(case)
        self.sign(case)
        return case


def study_create(*, seed: int = 7, versions: int = 2) -> Study:
    from annotation.services.projects import project_create

    number = next(_numbers)
    project = project_create(slug=f"dash-{number}", name="Dashboard study")
    people: dict[str, User] = {}
    for role, count in (("annotator", 2), ("reader", 1), ("reviewer", 1), ("lead", 1)):
        for k in range(count):
            user = User.objects.create(username=f"{role}{k}-{number}")
            membership_set(project=project, user=user, role=role)
            people[f"{role}{k}"] = user
    made = [
        ModelVersion.objects.create(
            task="sagittal",
            name=f"unet v{k + 1}",
            file=f"v{k + 1}.onnx",
            sha256=f"{number:08d}{k:056d}",
        )
        for k in range(versions)
    ]
    return Study(project=project, people=people, versions=made, rng=np.random.default_rng(seed))
