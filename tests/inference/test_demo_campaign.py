"""`manage.py demo_campaign` on a small demo pre-labelled by the shipped models through the
real task worker: reads corrected from the pre-label and submitted, an unaided reader's
read, gold composed and signed in train, tune and test, one case returned with a pinned
comment, some waiting, corrections recorded by the worker; a second run changes nothing."""

from __future__ import annotations

import random
from collections import Counter
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from annotation.models import (
    Case,
    CaseState,
    CaseTransition,
    Claim,
    Comment,
    GoldSignature,
    Project,
    Read,
    ReadKind,
    ReadSubmission,
    Revision,
    StudyDesign,
)
from annotation.models.reads import RevisionSource
from annotation.shapes import ImageBounds
from dashboards.selectors.agreement import agreement_summary
from dashboards.selectors.progress import progress_summary
from inference.management.commands.demo_campaign import perturb
from inference.management.commands.load_demo import DEMO_SLUG
from inference.models import JobStatus, PrelabelJob
from measurements.models import Correction

# After-commit subscribers (corrections, pre-label jobs) need real transactions.
pytestmark = pytest.mark.django_db(transaction=True)
# Six phantoms and the smallest real volume: 7 cases, 4 train, 1 tune, 2 test (5:2:3 design).
PHANTOMS, REAL = 6, "sct_testing_t2s"


def _run(command: str, *args: str, **options: Any) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out, **options)
    return out.getvalue()


def _snapshot(project: Project) -> dict[str, Any]:
    return {
        "revisions": sorted(
            Revision.objects.filter(read__case__project=project).values_list("pk", flat=True)
        ),
        "submissions": ReadSubmission.objects.filter(read__case__project=project).count(),
        "signatures": GoldSignature.objects.filter(read__case__project=project).count(),
        "claims": sorted(
            Claim.objects.filter(case__project=project).values_list(
                "pk", "released_at", "release_reason"
            )
        ),
        "transitions": CaseTransition.objects.filter(case__project=project).count(),
        "comments": Comment.objects.filter(case__project=project).count(),
        "corrections": Correction.objects.filter(project=project).count(),
        "states": sorted(Case.objects.filter(project=project).values_list("pk", "state")),
        "design": StudyDesign.objects.get(project=project).updated_at,
    }


@pytest.fixture
def demo(settings: Any) -> Project:
    settings.PRELABEL_ON_IMPORT = True
    _run("load_demo", "--real", REAL, phantoms=PHANTOMS)
    project = Project.objects.get(slug=DEMO_SLUG)
    with pytest.raises(CommandError, match="worker --batch"):
        _run("demo_campaign")  # the pre-labels are still queued
    call_command("worker", batch=True, interval=0)
    assert set(PrelabelJob.objects.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
    return project


def test_the_campaign_plays_once_through_the_services_and_a_second_run_adds_nothing(
    demo: Project,
) -> None:
    output = _run("demo_campaign")
    assert "signed the gold standard" in output
    splits = Counter(Case.objects.filter(project=demo).values_list("split", flat=True))
    assert splits == {"train": 4, "tune": 1, "test": 2}
    states = Counter(Case.objects.filter(project=demo).values_list("split", "state"))
    assert states == {
        ("train", CaseState.GOLD): 2,
        ("train", CaseState.RETURNED): 1,
        ("train", CaseState.SUBMITTED): 1,
        ("tune", CaseState.GOLD): 1,
        ("test", CaseState.GOLD): 2,
    }
    human = Read.objects.filter(case__project=demo, kind=ReadKind.HUMAN)
    assert Counter(human.values_list("author__username", flat=True)) == {
        "annotator": 7,
        "reader": 2,
    }
    # Every read started from (or, unaided, stands in for) the pre-label and corrects it.
    for read in human.select_related("head"):
        model = Read.objects.get(case=read.case, kind=ReadKind.MODEL)
        assert read.head is not None
        assert model.head is not None
        assert read.head.shapes != model.head.shapes
        assert read.head.shapes.keys() == model.head.shapes.keys()
        first = read.revisions.order_by("number").first()
        assert first is not None
        unaided = read.author_id == User.objects.get(username="reader").pk
        assert (first.source == RevisionSource.MODEL) is not unaided
    # The returned case: its annotator's read is theirs again, with the reviewer's pinned note.
    returned = Case.objects.get(project=demo, state=CaseState.RETURNED)
    note = Comment.objects.get(case=returned)
    assert note.returned_with is not None
    assert note.image_id is not None
    assert human.get(case=returned).submitted_at is None
    # Gold: signed heads carrying the annotator's case fields.
    for signature in GoldSignature.objects.filter(read__case__project=demo):
        assert signature.read.head_id == signature.revision_id
        assert set(signature.revision.case_fields) == {"compression_present", "image_quality"}
    # The worker records the corrections the events queued: one per submission and signature.
    call_command("worker", batch=True, interval=0)
    corrections = Counter(Correction.objects.filter(project=demo).values_list("kind", flat=True))
    assert corrections == {"human": 9, "gold": 5}
    assert Correction.objects.filter(project=demo, magnitude__gt=0).exists()
    # The dashboards' aggregates followed the events.
    assert progress_summary(project=demo)["by_state"]["gold"] == 5
    assert agreement_summary(project=demo)["n_gold"] == 5

    before = _snapshot(demo)
    assert "nothing to do" in _run("demo_campaign")
    call_command("worker", batch=True, interval=0)
    assert _snapshot(demo) == before


def test_corrections_move_points_by_at_most_three_pixels_and_repeat() -> None:
    square = [[10.0 + i, 10.0] for i in range(10)] + [[20.0, 10.0 + i] for i in range(10)]
    shapes = {
        "7": [
            {"label": "cord", "shape_type": "polygon", "points": square},
            {"label": "C3_AS", "shape_type": "point", "points": [[0.5, 40.0]]},
        ]
    }
    bounds = {"7": ImageBounds(rows=40, columns=40)}
    keypoints = frozenset({"C3_AS"})
    runs = [
        perturb(shapes, rng=random.Random(seed), bounds=bounds, keypoints=keypoints)
        for seed in range(40)
    ]
    assert runs[3] == perturb(shapes, rng=random.Random(3), bounds=bounds, keypoints=keypoints)
    assert any(run != shapes for run in runs)
    for run in runs:
        for old, new in zip(shapes["7"], run["7"], strict=True):
            assert len(old["points"]) == len(new["points"])
            for (x0, y0), (x1, y1) in zip(old["points"], new["points"], strict=True):
                assert abs(x1 - x0) <= 3
                assert abs(y1 - y0) <= 3
                assert 0 <= x1 <= 40
                assert 0 <= y1 <= 40
