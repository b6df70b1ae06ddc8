"""`manage.py demo_campaign`: the demo project's annotation campaign, half-way through.

Run after `load_demo` once the task worker has pre-labelled the cases (`make demo` runs
`manage.py worker --batch` in between). Everything goes through the product's services, so
every domain event fires as in real use (dashboards, agreement, corrections, live events):

- the lead saves a study design (5:2:3 by seed, the reader unaided; kept when the project
  has one already);
- the annotator starts reads from the model's pre-label, corrects them a little (outlines
  pushed in or out by 1-3 px along an arc, a few vertebral corners moved by 1-3 px,
  deterministic per case) and submits them; the independent reader reads test cases
  (unaided: the model's read stands in for what they draw, with their own corrections);
- the reviewer takes the review queue: composes the gold standard from the reads, sets
  its case fields and signs it on several train, tune and test cases, and returns one
  train case to its annotator with a pinned comment;
- afterwards a train case is submitted and waits for review, a test case waits for its
  reader, and the cases beyond the plan (the last train case of the demo) stay untouched.

On the demo's 10 cases: 6 gold (2 train, 2 tune, 2 test), 1 returned, 1 submitted, 1 in
annotation, 1 pre-labelled; 11 reads submitted (9 by the annotator, 2 by the reader).

Idempotent: a read the annotator or reader already has is left alone, only planned cases
still waiting in the review queue are reviewed, the design is saved only if none exists.
"""

from __future__ import annotations

import copy
import hashlib
import math
import random
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from annotation.models import (
    Case,
    CaseState,
    Claim,
    Project,
    Read,
    ReadKind,
    Role,
    Split,
    StudyDesign,
)
from annotation.selectors.access import access_read_for_write
from annotation.selectors.agreement import KEYPOINTS, template_structures
from annotation.selectors.reads import case_image_bounds
from annotation.services.comments import Pin
from annotation.services.design import design_save
from annotation.services.gold import ReturnComment, case_return, gold_compose, gold_sign
from annotation.services.queue import claim_release, queue_next
from annotation.services.reads import read_get_or_create_human
from annotation.services.revisions import revision_create
from annotation.services.submit import read_problems, read_submit
from annotation.shapes import ImageBounds, case_fields_validate, shapes_validate
from inference.management.commands.load_demo import DEMO_SLUG, DEMO_USERS
from inference.models import JobStatus, PrelabelJob

Shapes = dict[str, list[dict[str, Any]]]

GOLD, RETURN, WAIT, READER_OWED = "gold", "return", "wait", "reader owed"
# What happens to the pre-labelled cases of each split, in case order; the rest stay untouched.
FATES: Mapping[str, tuple[str, ...]] = {
    Split.TRAIN: (GOLD, GOLD, RETURN, WAIT),
    Split.TUNE: (GOLD, GOLD),
    Split.TEST: (GOLD, GOLD, READER_OWED),
}
DESIGN_RATIOS = (5, 2, 3)
RETURN_REASON = "Cord outline needs another look"
RETURN_COMMENT = (
    "The posterior edge of the cord runs into the CSF here; please re-trace it on this "
    "slice and check the neighbouring ones."
)
QUALITIES = ("good", "good", "acceptable", "poor")


def rng_for(case: Case, who: str) -> random.Random:
    """The same corrections for the same case and person on every run."""
    digest = hashlib.sha256(f"demo:{case.pseudonym}:{who}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _clamp(x: float, y: float, bounds: ImageBounds | None) -> list[float]:
    if bounds is None:
        return [x, y]
    return [min(max(x, 0.0), float(bounds.columns)), min(max(y, 0.0), float(bounds.rows))]


def _push_arc(points: list[list[float]], rng: random.Random) -> list[list[float]]:
    """Push an arc of about a fifth of the outline outward or inward by up to 1-3 px,
    tapered to 0 at the arc's ends (no crossing of neighbouring vertices)."""
    n = len(points)
    if n < 6:
        return points
    cx = sum(p[0] for p in points) / n
    cy = sum(p[1] for p in points) / n
    length = max(3, n // 5)
    start = rng.randrange(n)
    push = rng.choice((-1, 1)) * rng.uniform(1.0, 3.0)
    moved = [list(p) for p in points]
    for k in range(length):
        index = (start + k) % n
        x, y = points[index]
        norm = math.hypot(x - cx, y - cy) or 1.0
        weight = math.sin(math.pi * (k + 0.5) / length)
        moved[index] = [x + push * weight * (x - cx) / norm, y + push * weight * (y - cy) / norm]
    return moved


def perturb(
    shapes: Mapping[str, list[dict[str, Any]]],
    *,
    rng: random.Random,
    bounds: Mapping[str, ImageBounds],
    keypoints: frozenset[str],
    corner_share: float = 0.3,
) -> Shapes:
    """A person's corrections of a pre-label: some outlines pushed along an arc, some
    keypoints moved by 1-3 px; every other shape kept as it was."""
    out: Shapes = {}
    for image in sorted(shapes, key=str):
        limit = bounds.get(str(image))
        items = []
        for shape in shapes[image]:
            moved = copy.deepcopy(shape)
            kind = shape.get("shape_type") or "polygon"
            if kind == "point" and shape.get("label") in keypoints:
                if rng.random() < corner_share:
                    x, y = shape["points"][0]
                    dx = rng.choice((-1, 1)) * rng.randint(1, 3)
                    dy = rng.choice((-1, 1)) * rng.randint(0, 3)
                    moved["points"] = [_clamp(float(x) + dx, float(y) + dy, limit)]
            elif kind == "polygon" and rng.random() < 0.6:
                arc = _push_arc([[float(x), float(y)] for x, y in shape["points"]], rng)
                moved["points"] = [_clamp(x, y, limit) for x, y in arc]
            items.append(moved)
        out[str(image)] = items
    if out == {str(k): v for k, v in shapes.items()}:
        _push_first_outline(out, rng=rng, bounds=bounds)
    return out


def _push_first_outline(
    shapes: Shapes, *, rng: random.Random, bounds: Mapping[str, ImageBounds]
) -> None:
    """Nobody submits a pre-label untouched in this demo: push the first outline's arc."""
    for image, items in shapes.items():
        for shape in items:
            if (shape.get("shape_type") or "polygon") == "polygon" and len(shape["points"]) >= 6:
                arc = _push_arc([[float(x), float(y)] for x, y in shape["points"]], rng)
                shape["points"] = [_clamp(x, y, bounds.get(image)) for x, y in arc]
                return


def _valid_shapes(case: Case, original: Shapes, proposed: Shapes) -> Shapes:
    """The proposed shapes, with each image that would not validate kept as it was."""
    template = case.project.template
    bounds = case_image_bounds(case_id=case.pk, image_ids=proposed.keys())
    errors = shapes_validate(shapes=proposed, template=template, images=bounds)
    bad = {error.image for error in errors}
    return {k: (original[k] if k in bad else v) for k, v in proposed.items()}


def _case_fields(case: Case, rng: random.Random) -> dict[str, Any]:
    fields = {
        "compression_present": rng.random() < 0.6,
        "image_quality": rng.choice(QUALITIES),
    }
    problems = case_fields_validate(fields=fields, template=case.project.template)
    return {} if problems else fields


class Campaign:
    """One run of the campaign on the demo project; `log` collects what it did."""

    def __init__(self, project: Project, users: Mapping[str, User]) -> None:
        self.project = project
        self.users = users
        self.log: list[str] = []

    # ----- the plan -----

    def plan(self) -> dict[int, str]:
        """case id -> fate, for the pre-labelled cases (those with a model read)."""
        with_model = Read.objects.filter(kind=ReadKind.MODEL, head__isnull=False).values("case")
        cases = Case.objects.filter(project=self.project, pk__in=with_model).order_by("id")
        fates: dict[int, str] = {}
        for split, wanted in FATES.items():
            ids = [c.pk for c in cases if c.split == split]
            fates.update(zip(ids, wanted, strict=False))
        return fates

    def design(self) -> None:
        if StudyDesign.objects.filter(project=self.project).exists():
            return
        design_save(
            project=self.project,
            actor=self.users[Role.LEAD],
            seed=3,
            ratios=DESIGN_RATIOS,
            reads_required=StudyDesign().reads_required,
            overlap_percent=0,
            # The independent reader reads unaided (seed 003's "manual group").
            aided={**StudyDesign().aided, Role.READER: False},
        )
        self.log.append("lead: saved the study design (5:2:3, seed 3, reader unaided)")

    # ----- reads -----

    def read(self, case: Case, role: str) -> bool:
        """The role's read of the case, started from the pre-label, corrected, submitted;
        False (nothing done) when that person already has a read of the case."""
        user = self.users[role]
        if Read.objects.filter(case=case, kind=ReadKind.HUMAN, author=user).exists():
            return False
        rng = rng_for(case, role)
        with transaction.atomic():
            read, _ = read_get_or_create_human(case=case, author=user)
            access_read_for_write(user=user, read_id=read.pk)
            start = self._start_shapes(case, read)
            structures = template_structures(case.project.template)
            bounds = case_image_bounds(case_id=case.pk, image_ids=start.keys())
            shapes = _valid_shapes(
                case,
                start,
                perturb(start, rng=rng, bounds=bounds, keypoints=structures.keypoints),
            )
            revision_create(
                read=read,
                parent_id=read.head_id,
                shapes=shapes,
                case_fields=_case_fields(case, rng),
                author=user,
                message="corrected the pre-label",
            )
            problems = read_problems(read=read)
            reason = "; ".join(p.message for p in problems)[:2000]
            read_submit(read=read, user=user, override_reason=reason)
        self.log.append(f"{role}: read and submitted {case.pseudonym}")
        return True

    @staticmethod
    def _start_shapes(case: Case, read: Read) -> Shapes:
        """What the person starts from: their read's pre-label copy, or (an unaided role)
        the model's read, which stands in for what they would draw themselves."""
        if read.head is not None and read.head.shapes:
            return {str(k): list(v) for k, v in read.head.shapes.items()}
        model = (
            Read.objects.filter(case=case, kind=ReadKind.MODEL, head__isnull=False)
            .select_related("head")
            .order_by("-id")
            .first()
        )
        if model is None or model.head is None:
            raise CommandError(f"{case.pseudonym} has no pre-label to start from")
        return {str(k): list(v) for k, v in model.head.shapes.items()}

    # ----- review -----

    def review(self, fates: Mapping[int, str]) -> None:
        """The reviewer works the review queue while a planned case waits in it."""
        reviewer = self.users[Role.REVIEWER]
        planned = [c for c, fate in fates.items() if fate in (GOLD, RETURN)]
        for _ in range(len(planned)):
            waiting = Case.objects.filter(pk__in=planned, state=CaseState.SUBMITTED)
            if not waiting.exists():
                return
            claim = queue_next(project=self.project, user=reviewer, role=Role.REVIEWER)
            if claim is None:
                return
            fate = fates.get(claim.case_id)
            if fate == GOLD:
                self._sign(claim)
            elif fate == RETURN:
                self._return(claim)
            else:
                claim_release(claim=claim, actor=reviewer)
                return

    def _sign(self, claim: Claim) -> None:
        reviewer = self.users[Role.REVIEWER]
        case = Case.objects.select_related("project").get(pk=claim.case_id)
        reads = list(
            Read.objects.filter(case=case, kind=ReadKind.HUMAN, submitted_at__isnull=False)
            .order_by("id")
            .values_list("id", flat=True)
        )
        structures = template_structures(case.project.template)
        request: dict[str, Any] = {name: {"from": reads[0]} for name in structures.names()}
        if len(reads) > 1:
            request = {name: {"fuse": "majority", "reads": reads} for name in structures.areas}
            request[KEYPOINTS] = {"fuse": "mean", "reads": reads}
        gold_head = (
            Read.objects.filter(case=case, kind=ReadKind.GOLD).values_list("head_id", flat=True)
        ).first()
        with transaction.atomic():
            composed = gold_compose(
                case=case, user=reviewer, role=Role.REVIEWER, parent_id=gold_head, request=request
            )
            gold, _ = access_read_for_write(user=reviewer, read_id=composed.read_id)
            first = Read.objects.select_related("head").get(pk=reads[0])
            fields = first.head.case_fields if first.head is not None else {}
            edited = revision_create(
                read=gold,
                parent_id=composed.pk,
                shapes=composed.shapes,
                case_fields=fields,
                author=reviewer,
                message="case fields confirmed",
            )
            gold_sign(case=case, user=reviewer, role=Role.REVIEWER, revision_id=edited.pk)
        self.log.append(f"reviewer: composed and signed the gold standard of {case.pseudonym}")

    def _return(self, claim: Claim) -> None:
        reviewer = self.users[Role.REVIEWER]
        case = Case.objects.select_related("project").get(pk=claim.case_id)
        read = (
            Read.objects.filter(case=case, kind=ReadKind.HUMAN, author=self.users[Role.ANNOTATOR])
            .select_related("head")
            .first()
        )
        comments: tuple[ReturnComment, ...] = ()
        if read is not None and read.head is not None:
            comments = (ReturnComment(body=RETURN_COMMENT, read_id=read.pk, pin=_pin(read)),)
        case_return(
            case=case, user=reviewer, role=Role.REVIEWER, reason=RETURN_REASON, comments=comments
        )
        self.log.append(f"reviewer: returned {case.pseudonym} to its annotator")


def _pin(read: Read) -> Pin | None:
    """A pin on a vertex of the read's first cord outline."""
    assert read.head is not None
    for image, items in sorted(read.head.shapes.items()):
        for shape in items:
            if shape.get("label") == "cord" and shape.get("shape_type", "polygon") == "polygon":
                x, y = shape["points"][0]
                return Pin(image=int(image), x=float(x), y=float(y))
    return None


def run_campaign(project: Project, users: Mapping[str, User]) -> list[str]:
    """The whole campaign (idempotent); what it did, one line per action."""
    campaign = Campaign(project, users)
    campaign.design()
    fates = campaign.plan()
    cases = {c.pk: c for c in Case.objects.select_related("project").filter(pk__in=fates)}
    for case_id, fate in fates.items():
        if fate in (GOLD, RETURN, READER_OWED):
            campaign.read(cases[case_id], Role.ANNOTATOR)
        if fate == GOLD and cases[case_id].split == Split.TEST:
            campaign.read(cases[case_id], Role.READER)
    campaign.review(fates)
    for case_id, fate in fates.items():
        if fate == WAIT:
            campaign.read(cases[case_id], Role.ANNOTATOR)
    return campaign.log


class Command(BaseCommand):
    help = "Play the demo project's annotation campaign half-way (after pre-labelling)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", default=DEMO_SLUG, help="the demo project's slug")

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"no project {options['project']!r}: run manage.py load_demo first")
        users = {
            role: user
            for username, role in DEMO_USERS
            if (user := User.objects.filter(username=username).first()) is not None
        }
        missing = [username for username, role in DEMO_USERS if role not in users]
        if missing:
            raise CommandError(f"demo users missing: {', '.join(missing)}; run manage.py load_demo")
        pending = PrelabelJob.objects.filter(
            case__project=project, status__in=(JobStatus.QUEUED, JobStatus.RUNNING)
        ).count()
        if pending:
            raise CommandError(
                f"{pending} pre-label job(s) of {project.slug} are not finished: run "
                "`manage.py worker --batch` first (make demo does)"
            )
        done = run_campaign(project, users)
        for line in done:
            self.stdout.write(line)
        self.stdout.write(
            f"demo campaign: {len(done)} action(s)" if done else "demo campaign: nothing to do"
        )
