"""The review workflow end to end in three browser contexts (issue 9), on a real case: a
real sagittal T2 (Spinal Cord Toolbox, fixtures/data) imported through the ingest and
pre-labelled by the shipped ONNX models through the pre-label job and the task worker. The
annotator takes it from the queue, moves a corner the model placed and submits; the reviewer
takes it from the queue, takes the cord from the annotator and the corners from the model,
pins a comment and returns it; the annotator moves the commented corner and submits again;
the reviewer signs; the lead's case list, open from the start, shows the case as gold
without a reload. The case history then tells the story and diffs revisions."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from annotation.models import (
    Case,
    CaseState,
    CaseTransition,
    GoldSignature,
    Image,
    Read,
    ReadKind,
)
from fixtures.demo import DEMO_REAL
from fixtures.real import real_volume
from inference.models import JobStatus, ModelStatus, PrelabelJob
from inference.runtime.shipped import SHIPPED_DIR, shipped_model
from inference.services.jobs import prelabel_enqueue
from inference.services.registry import model_register, shipped_models_register
from tests.conftest import PASSWORD
from tests.e2e.conftest import (
    api_get,
    import_study,
    screenshot,
    shown_slice,
    start_my_read,
    to_client,
    wait_for_head,
    wait_for_viewer,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]
SLOT = "sagittal"
# The full field-of-view sagittal T2 the demo imports (C1-T2, 1 mm isotropic, no mask).
REAL_KEY = "sct_example_t2"
# How far (image px, along the rows) the annotator moves each corner they correct.
FIX_SHIFT = 3.0


@dataclass
class Scene:
    base: str
    slug: str
    case: Case
    model: Read
    sagittal: int  # the sagittal image the model placed its corners on
    place: dict[str, list[float]]  # the model's corners there
    fixes: dict[str, list[float]]  # where the annotator moves the two corners they correct
    first: str
    second: str


def _prelabel_real_case(project: Any) -> Case:
    """The real volume imported as the demo imports it (without publishing the import, so the
    study design assigns no split and asks for no other read), then pre-labelled by the
    shipped models: a job queued as the API queues it, run by the task worker."""
    volume = real_volume(REAL_KEY)
    assert volume in DEMO_REAL
    assert volume.plane == "sagittal"
    # The workflow moves corners the model drew: the shipped sagittal network with its keypoint
    # threshold at 0, as the calibration withholds the corners of this real scan (what
    # test_prelabel_suggestions.py covers); the level check still withholds implausible ones.
    contract = copy.deepcopy(shipped_model("sagittal").contract_data)
    contract["calibration"]["keypoint"]["threshold"] = 0.0
    # Its dens lies just above the image, so no level is counted from C2: drawn all the same.
    contract["postprocessing"]["corner_levels"] = "any"
    model_register(
        file=SHIPPED_DIR / "sagittal.onnx", task="sagittal", contract=contract,
        status=ModelStatus.ACTIVE,
    )  # fmt: skip
    assert {v.task for v in shipped_models_register()} >= {"sagittal"}
    case: Case = import_study(project, volume.path)
    assert case.split == ""
    job = prelabel_enqueue(case=case)
    call_command("worker", batch=True, interval=0)  # the queue's worker, here: empties it, exits
    job = PrelabelJob.objects.get(pk=job.pk)
    assert job.status == JobStatus.SUCCEEDED, job.error
    case.refresh_from_db()
    assert case.state == CaseState.PRELABELLED
    return case


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    ab = b - a
    t = float(np.clip(np.dot(p - a, ab) / max(float(np.dot(ab, ab)), 1e-12), 0.0, 1.0))
    return float(np.linalg.norm(p - (a + t * ab)))


def _clearance(point: np.ndarray, shapes: list[dict[str, Any]], skip: str) -> float:
    """Distance (image px) from `point` to every other shape's vertices and edges."""
    best = np.inf
    for shape in shapes:
        if shape["label"] == skip:
            continue
        pts = np.asarray(shape["points"], dtype=float)
        best = min(best, float(np.min(np.linalg.norm(pts - point, axis=1))))
        if shape["shape_type"] == "polygon":
            for a, b in zip(pts, np.roll(pts, -1, axis=0), strict=True):
                best = min(best, _segment_distance(point, a, b))
    return best


def _scene(base: str, slug: str, case: Case) -> Scene:
    """The model's read and the two corners the annotator corrects: those farthest from any
    other shape (a press takes the nearest vertex or edge), each moved FIX_SHIFT px along the
    row to the side that stays clearest."""
    model = Read.objects.select_related("head").get(case=case, kind=ReadKind.MODEL)
    assert model.head is not None
    sagittal_ids = set(
        Image.objects.filter(series__case=case, series__orientation="sagittal").values_list(
            "pk", flat=True
        )
    )
    with_corners = [
        (int(key), shapes)
        for key, shapes in model.head.shapes.items()
        if int(key) in sagittal_ids and any(s["shape_type"] == "point" for s in shapes)
    ]
    assert len(with_corners) == 1, "the model places its corners on one sagittal slice"
    sagittal, shapes = with_corners[0]
    labels = {s["label"] for s in shapes}
    assert "cord" in labels, labels
    place = {s["label"]: list(s["points"][0]) for s in shapes if s["shape_type"] == "point"}
    assert len(place) >= 2, place
    ranked = sorted(
        place, key=lambda k: _clearance(np.asarray(place[k]), shapes, skip=k), reverse=True
    )
    fixes = {}
    for label in ranked[:2]:
        x, y = place[label]
        fixes[label] = max(
            ([x - FIX_SHIFT, y], [x + FIX_SHIFT, y]),
            key=lambda p: _clearance(np.asarray(p), shapes, skip=label),
        )
    return Scene(
        base=base,
        slug=slug,
        case=case,
        model=model,
        sagittal=sagittal,
        place=place,
        fixes=fixes,
        first=ranked[0],
        second=ranked[1],
    )


def _watch_errors(page: Any, errors: list[str]) -> Any:
    """Collect the page's console errors and uncaught exceptions (none are expected)."""
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    return page


def _next_case(page: Any, scene: Scene) -> None:
    page.goto(f"{scene.base}/projects/{scene.slug}/")
    page.get_by_test_id("next-case").click()
    page.wait_for_url(re.compile(rf"/cases/{scene.case.pk}/\?claim=\d+$"))
    wait_for_viewer(page)


def _own_read(page: Any, case: Case) -> int:
    """The annotator's own read, open on the page ("Start my read" where the page offers it)."""
    page.wait_for_function("() => document.querySelector('[data-testid=read-select]').value !== ''")
    start = page.get_by_test_id("start-read")
    if start.is_visible():
        start_my_read(page)
    page.wait_for_function(
        """() => { const s = document.querySelector('[data-testid=read-select]');
                   const o = s && s.selectedOptions[0];
                   return o && /· human/.test(o.text); }"""
    )
    mine = [
        r["id"]
        for r in api_get(page, f"/api/cases/{case.pk}/reads")
        if r["kind"] == "human" and r["author"]["username"] == "annotator"
    ]
    assert len(mine) == 1, mine
    expect(page.get_by_test_id("read-select")).to_have_value(str(mine[0]))
    return int(mine[0])


def _point(head: dict[str, Any], image: int, label: str) -> list[float]:
    shape = next(s for s in head["shapes"][str(image)] if s["label"] == label)
    return list(shape["points"][0])


def _drag_corner(page: Any, start: list[float], end: list[float]) -> None:
    """Drag a placed corner with the keypoint tool (a press on a placed point moves it)."""
    page.get_by_test_id("tool-keypoint").click()
    a, b = to_client(page, SLOT, *start), to_client(page, SLOT, *end)
    page.mouse.move(*a)
    page.mouse.down()
    page.mouse.move((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, steps=3)
    page.mouse.move(*b, steps=3)
    page.mouse.up()


def _correct(page: Any, scene: Scene, read_id: int, label: str) -> None:
    """Move the model's corner `label` to its fix, on the slice the model placed it on."""
    assert shown_slice(page, SLOT)["imageId"] == scene.sagittal
    head = api_get(page, f"/api/reads/{read_id}")["revision"]
    assert np.allclose(_point(head, scene.sagittal, label), scene.place[label])
    target = scene.fixes[label]
    _drag_corner(page, scene.place[label], target)
    wait_for_head(
        page,
        read_id,
        lambda h: np.allclose(_point(h, scene.sagittal, label), target, atol=0.6),
    )


def _submit(page: Any) -> None:
    """Submit through the dialog; where the model left a required shape out, the dialog asks
    why and the annotator says so (the product's override)."""
    page.get_by_test_id("submit-read").click()
    dialog = page.get_by_test_id("submit-dialog")
    expect(dialog).to_be_visible()
    override = dialog.get_by_test_id("submit-override")
    expect(dialog.get_by_test_id("submit-ready").or_(override)).to_be_visible()
    if override.is_visible():
        override.fill("the real scan shows fewer levels than the set asks for")
    dialog.get_by_test_id("submit-confirm").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("case-state")).to_have_text(CaseState.SUBMITTED)


def _open_review(page: Any, scene: Scene) -> None:
    _next_case(page, scene)
    expect(page.get_by_test_id("case-state")).to_have_text(CaseState.IN_REVIEW)
    page.get_by_test_id("open-review").click()
    page.wait_for_url(re.compile(rf"/cases/{scene.case.pk}/review"))
    expect(page.get_by_test_id("agreement-table")).to_be_visible()
    expect(page.get_by_test_id(f"viewport-{SLOT}")).to_have_attribute("data-state", "ready")


def _take(page: Any, structure: str, read: int, gold_revision: int) -> None:
    page.get_by_test_id(f"take-{structure}").select_option(str(read))
    page.get_by_test_id(f"take-{structure}-button").click()
    expect(page.locator(".review-read[data-key=gold]")).to_contain_text(f"rev {gold_revision}")


def _in_window(page: Any, point: list[float]) -> tuple[float, float]:
    """Client position of an image point, the page scrolled to show it first: on a real case
    the measurement table has two rows per axial slice and the review page grows with it,
    its viewports too, so the image sits far below the top of the page."""
    x, y = to_client(page, SLOT, *point)
    height = page.evaluate("() => window.innerHeight")
    if not 0 <= y < height:
        page.evaluate("(dy) => window.scrollBy({top: dy, behavior: 'instant'})", y - height / 2)
        x, y = to_client(page, SLOT, *point)
    assert 0 <= y < height, (point, y, height)
    return x, y


def _review_and_return(reviewer: Any, scene: Scene, own: int) -> None:
    """Cord from the annotator, corners from the model, a comment pinned on the second
    corner (still at the model's place) about the annotator's read, then return."""
    _open_review(reviewer, scene)
    _take(reviewer, "cord", own, 1)
    _take(reviewer, "corners", scene.model.pk, 2)
    gold = Read.objects.get(case=scene.case, kind=ReadKind.GOLD)
    head = api_get(reviewer, f"/api/reads/{gold.pk}")["revision"]
    labels = {s["label"] for s in head["shapes"][str(scene.sagittal)]}
    # The corner the annotator moved is back where the model put it: the corners are its.
    assert np.allclose(_point(head, scene.sagittal, scene.first), scene.place[scene.first])
    assert "cord" in labels
    assert "canal" not in labels
    assert shown_slice(reviewer, SLOT)["imageId"] == scene.sagittal
    reviewer.get_by_test_id("pin-mode").click()
    reviewer.mouse.click(*_in_window(reviewer, scene.place[scene.second]))
    expect(reviewer.get_by_test_id("comment-read")).to_have_value(str(own))
    reviewer.get_by_test_id("comment-body").fill(f"{scene.second} is off the vertebral corner")
    reviewer.get_by_test_id("comment-post").click()
    expect(reviewer.locator(".thread")).to_have_count(1)
    reviewer.get_by_test_id("return").click()
    reviewer.get_by_test_id("return-reason").fill(f"{scene.second} corner")
    reviewer.get_by_test_id("return-confirm").click()
    expect(reviewer.get_by_test_id("case-state")).to_have_text(CaseState.RETURNED)


EXPECTED_MOVES = [
    ("new", "prelabelled"),
    ("prelabelled", "in_annotation"),
    ("in_annotation", "submitted"),
    ("submitted", "in_review"),
    ("in_review", "returned"),
    ("returned", "in_annotation"),
    ("in_annotation", "submitted"),
    ("submitted", "in_review"),
    ("in_review", "gold"),
]


def _history_tells_it(lead: Any, scene: Scene, own: int) -> None:
    """The timeline has every kind of record; the annotator's first and last revisions
    differ by the two corners they moved, each by FIX_SHIFT columns in mm."""
    lead.goto(f"{scene.base}/cases/{scene.case.pk}/history")
    expect(lead.locator("#history-app")).to_have_attribute("data-loaded", "true")
    for kind in ("transition", "claim", "submission", "comment", "revision", "signature"):
        events = lead.locator(f"[data-testid=timeline-event][data-type={kind}]")
        expect(events.first).to_be_visible()
    revisions = sorted(api_get(lead, f"/api/reads/{own}/revisions"), key=lambda r: r["number"])
    lead.get_by_test_id("diff-from").select_option(str(revisions[0]["id"]))
    lead.get_by_test_id("diff-to").select_option(str(revisions[-1]["id"]))
    lead.get_by_test_id("diff-compare").click()
    summary = lead.get_by_test_id("diff-summary")
    expect(summary).to_have_attribute("data-moved", "2")
    image = Image.objects.select_related("series").get(pk=scene.sagittal)
    column_mm = image.series.pixel_spacing_col
    largest = float(summary.get_attribute("data-largest-mm") or "nan")
    assert largest == pytest.approx(FIX_SHIFT * column_mm, abs=0.6 * column_mm)
    screenshot(lead, "review_workflow_history")


def test_annotate_review_return_fix_sign_and_the_lead_sees_gold_live(
    page_for, asgi_server, cast, project
) -> None:
    case = _prelabel_real_case(project)
    scene = _scene(asgi_server.url, project.slug, case)
    state = f"case-state-{case.pk}"

    # The lead watches the project's case list from the start.
    errors: list[str] = []
    lead = _watch_errors(page_for("lead", PASSWORD), errors)
    lead.goto(f"{scene.base}/projects/{scene.slug}/")
    expect(lead.get_by_test_id(state)).to_have_text(CaseState.PRELABELLED)
    expect(lead.get_by_test_id("caselist-live")).to_have_attribute("data-live", "on")

    # 1. The annotator takes the case; their read starts from the model's; they move a
    #    corner the model placed and submit.
    annotator = _watch_errors(page_for("annotator", PASSWORD), errors)
    _next_case(annotator, scene)
    own = _own_read(annotator, case)
    _correct(annotator, scene, own, scene.first)
    _submit(annotator)
    expect(lead.get_by_test_id(state)).to_have_text(CaseState.SUBMITTED)

    # 2. The reviewer takes it from the queue, composes, pins a comment and returns it.
    reviewer = _watch_errors(page_for("reviewer", PASSWORD), errors)
    _review_and_return(reviewer, scene, own)
    expect(lead.get_by_test_id(state)).to_have_text(CaseState.RETURNED)

    # 3. The case is back in the annotator's queue with the pin shown; they fix and resubmit.
    _next_case(annotator, scene)
    expect(annotator.get_by_test_id("review-comments-section")).to_contain_text(scene.second)
    assert _own_read(annotator, case) == own
    _correct(annotator, scene, own, scene.second)
    _submit(annotator)

    # 4. The reviewer takes it again and signs.
    _open_review(reviewer, scene)
    _take(reviewer, "cord", own, 3)
    reviewer.get_by_test_id("sign").click()
    expect(reviewer.get_by_test_id("gold-status")).to_contain_text("Gold signed by reviewer")
    assert GoldSignature.objects.get().signed_by == cast["reviewer"]

    # 5. The lead's list, never reloaded, shows the case as gold.
    expect(lead.get_by_test_id(state)).to_have_text(CaseState.GOLD)
    assert lead.evaluate("() => performance.getEntriesByType('navigation').length") == 1
    screenshot(lead, "review_workflow_lead_gold")
    moves = CaseTransition.objects.filter(case=case).values_list("from_state", "to_state")
    assert list(moves) == EXPECTED_MOVES

    # 6. The history tells it, and diffs the annotator's first and last revisions.
    _history_tells_it(lead, scene, own)
    assert errors == []
