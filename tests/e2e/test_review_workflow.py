"""The review workflow end to end in three browser contexts (issue 9): the annotator takes a
pre-labelled case from the queue, corrects a corner the model misplaced and submits; the
reviewer takes it from the queue, takes the cord from the annotator and the corners from
the model, pins a comment and returns it; the annotator fixes the commented corner and
submits again; the reviewer signs; the lead's case list, open from the start, shows the
case as gold without a reload. The case history then tells the story and diffs revisions."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
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
from annotation.services.cases import case_state_move
from annotation.services.revisions import revision_create
from fixtures.phantom import labelme_truth
from tests.conftest import PASSWORD
from tests.e2e.conftest import (
    PhantomStudy,
    api_get,
    screenshot,
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
# The model puts every shape this far to the right (px); the annotator's first correction.
MODEL_SHIFT = 3.0
FIRST_FIX = "C3_AS"
SECOND_FIX = "C4_AS"


def _image(case: Case, orientation: str, index: int) -> Image:
    return Image.objects.get(series__case=case, series__orientation=orientation, index=index)


def _shifted(shapes: list[dict[str, Any]], dx: float) -> list[dict[str, Any]]:
    moved = copy.deepcopy(shapes)
    for shape in moved:
        shape["points"] = [[x + dx, y] for x, y in shape["points"]]
    return moved


def _prelabel(case: Case, phantom: Any) -> Read:
    """A model read of the phantom (its truth, shifted) and the case moved to pre-labelled,
    as a pre-label job leaves it."""
    sag = _image(case, "sagittal", phantom.sagittal_truth.mid_index)
    ax = _image(case, "axial", phantom.axial_truth.narrowest_index)
    shapes = {
        str(sag.pk): _shifted(
            labelme_truth(phantom, view="sagittal", image_path="s.png")["shapes"], MODEL_SHIFT
        ),
        str(ax.pk): _shifted(
            labelme_truth(phantom, view="axial", image_path="a.png")["shapes"], MODEL_SHIFT
        ),
    }
    read = Read.objects.create(case=case, kind=ReadKind.MODEL, name="model · sagittal + axial")
    revision_create(read=read, parent_id=None, shapes=shapes, author=None)
    assert case_state_move(case=case, from_state=CaseState.NEW, to_state=CaseState.PRELABELLED)
    return read


def _watch_errors(page: Any, errors: list[str]) -> Any:
    """Collect the page's console errors and uncaught exceptions (none are expected)."""
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    return page


def _next_case(page: Any, base: str, slug: str, case: Case) -> None:
    page.goto(f"{base}/projects/{slug}/")
    page.get_by_test_id("next-case").click()
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/\?claim=\d+$"))
    wait_for_viewer(page)


def _own_read(page: Any, case: Case) -> int:
    """The annotator's own read, open on the page ("Start my read" where the page offers it)."""
    page.wait_for_function("() => document.querySelector('[data-testid=read-select]').value !== ''")
    start = page.get_by_test_id("start-read")
    if start.is_visible():
        start.click()
    mine: list[int] = []
    for _ in range(100):  # the read is created by the click's request: poll until it is there
        mine = [
            r["id"]
            for r in api_get(page, f"/api/cases/{case.pk}/reads")
            if r["kind"] == "human" and r["author"]["username"] == "annotator"
        ]
        if mine:
            break
        page.wait_for_timeout(100)
    assert len(mine) == 1, (mine, start.is_visible())
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


def _correct(page: Any, read_id: int, image: int, label: str, truth: list[float]) -> None:
    head = api_get(page, f"/api/reads/{read_id}")["revision"]
    _drag_corner(page, _point(head, image, label), truth)
    wait_for_head(
        page,
        read_id,
        lambda h: np.allclose(_point(h, image, label), truth, atol=0.6),
    )


def _submit(page: Any) -> None:
    page.get_by_test_id("submit-read").click()
    dialog = page.get_by_test_id("submit-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("submit-ready")).to_be_visible()
    dialog.get_by_test_id("submit-confirm").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("case-state")).to_have_text(CaseState.SUBMITTED)


def _open_review(page: Any, base: str, slug: str, case: Case) -> None:
    _next_case(page, base, slug, case)
    expect(page.get_by_test_id("case-state")).to_have_text(CaseState.IN_REVIEW)
    page.get_by_test_id("open-review").click()
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/review"))
    expect(page.get_by_test_id("agreement-table")).to_be_visible()
    expect(page.get_by_test_id(f"viewport-{SLOT}")).to_have_attribute("data-state", "ready")


def _take(page: Any, structure: str, read: int, gold_revision: int) -> None:
    page.get_by_test_id(f"take-{structure}").select_option(str(read))
    page.get_by_test_id(f"take-{structure}-button").click()
    expect(page.locator(".review-read[data-key=gold]")).to_contain_text(f"rev {gold_revision}")


@dataclass
class Scene:
    base: str
    slug: str
    case: Case
    sagittal: int
    truth: dict[str, Any]


def _review_and_return(reviewer: Any, scene: Scene, own: int, model: Read) -> None:
    """Cord from the annotator, corners from the model, a comment pinned on the second
    corner (still at the model's place) about the annotator's read, then return."""
    _open_review(reviewer, scene.base, scene.slug, scene.case)
    _take(reviewer, "cord", own, 1)
    _take(reviewer, "corners", model.pk, 2)
    gold = Read.objects.get(case=scene.case, kind=ReadKind.GOLD)
    head = api_get(reviewer, f"/api/reads/{gold.pk}")["revision"]
    labels = {s["label"] for s in head["shapes"][str(scene.sagittal)]}
    model_place = np.add(scene.truth[FIRST_FIX], [MODEL_SHIFT, 0])
    assert np.allclose(_point(head, scene.sagittal, FIRST_FIX), model_place)
    assert "cord" in labels
    assert "canal" not in labels
    reviewer.get_by_test_id("pin-mode").click()
    pin = np.add(scene.truth[SECOND_FIX], [MODEL_SHIFT, 0])
    reviewer.mouse.click(*to_client(reviewer, SLOT, *pin))
    expect(reviewer.get_by_test_id("comment-read")).to_have_value(str(own))
    reviewer.get_by_test_id("comment-body").fill(f"{SECOND_FIX} sits 1.5 mm too far back")
    reviewer.get_by_test_id("comment-post").click()
    expect(reviewer.locator(".thread")).to_have_count(1)
    reviewer.get_by_test_id("return").click()
    reviewer.get_by_test_id("return-reason").fill(f"{SECOND_FIX} corner")
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
    differ by the two corners they moved, by the model's shift in mm."""
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
    # Both corners moved along the image's rows by the model's shift: that many columns, in mm.
    image = Image.objects.select_related("series").get(pk=scene.sagittal)
    column_mm = image.series.pixel_spacing_col
    largest = float(summary.get_attribute("data-largest-mm") or "nan")
    assert largest == pytest.approx(MODEL_SHIFT * column_mm, abs=0.6 * column_mm)
    screenshot(lead, "review_workflow_history")


def test_annotate_review_return_fix_sign_and_the_lead_sees_gold_live(
    page_for, asgi_server, cast, project, phantom_case, phantom_study: PhantomStudy
) -> None:
    phantom, case = phantom_study.phantom, phantom_case
    scene = Scene(
        base=asgi_server.url,
        slug=project.slug,
        case=case,
        sagittal=_image(case, "sagittal", phantom.sagittal_truth.mid_index).pk,
        truth=dict(phantom.sagittal_truth.keypoints),
    )
    model = _prelabel(case, phantom)
    state = f"case-state-{case.pk}"

    # The lead watches the project's case list from the start.
    errors: list[str] = []
    lead = _watch_errors(page_for("lead", PASSWORD), errors)
    lead.goto(f"{scene.base}/projects/{scene.slug}/")
    expect(lead.get_by_test_id(state)).to_have_text(CaseState.PRELABELLED)
    expect(lead.get_by_test_id("caselist-live")).to_have_attribute("data-live", "on")

    # 1. The annotator takes the case; their read starts from the model's; they move the
    #    misplaced corner onto the vertebra and submit.
    annotator = _watch_errors(page_for("annotator", PASSWORD), errors)
    _next_case(annotator, scene.base, scene.slug, case)
    own = _own_read(annotator, case)
    _correct(annotator, own, scene.sagittal, FIRST_FIX, list(scene.truth[FIRST_FIX]))
    _submit(annotator)
    expect(lead.get_by_test_id(state)).to_have_text(CaseState.SUBMITTED)

    # 2. The reviewer takes it from the queue, composes, pins a comment and returns it.
    reviewer = _watch_errors(page_for("reviewer", PASSWORD), errors)
    _review_and_return(reviewer, scene, own, model)
    expect(lead.get_by_test_id(state)).to_have_text(CaseState.RETURNED)

    # 3. The case is back in the annotator's queue with the pin shown; they fix and resubmit.
    _next_case(annotator, scene.base, scene.slug, case)
    expect(annotator.get_by_test_id("review-comments-section")).to_contain_text(SECOND_FIX)
    assert _own_read(annotator, case) == own
    _correct(annotator, own, scene.sagittal, SECOND_FIX, list(scene.truth[SECOND_FIX]))
    _submit(annotator)

    # 4. The reviewer takes it again and signs.
    _open_review(reviewer, scene.base, scene.slug, case)
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
