"""Annotating a case (issue 3): a cord polygon by clicks, the 20 vertebral corners with the guide,
a caliper in mm; autosave, reload, and a conflicting save resolved with no revision lost."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import (
    PhantomStudy,
    api_get,
    canvas_signature,
    draft_status,
    page_shapes,
    screenshot,
    shown_slice,
    start_my_read,
    to_client,
    wait_for_head,
    wait_for_viewer,
)

# One xdist group for `--dist loadgroup`: one server and one Chromium, not one per worker.
# (pytest 9.2 with xdist 3.8 ignores groups: xdist sets item._nodeid, pytest 9 reads _id.)
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]

SLOT = "sagittal"


def _resample(polygon: np.ndarray, count: int) -> list[tuple[float, float]]:
    """`count` vertices of the polygon spread evenly along its outline (what a person clicks)."""
    closed = np.vstack([polygon, polygon[:1]])
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(closed, axis=0).T))])
    picks = np.searchsorted(arc, np.linspace(0, arc[-1], count, endpoint=False))
    return [
        (float(polygon[i % len(polygon)][0]), float(polygon[i % len(polygon)][1])) for i in picks
    ]


def _crossings(polygon: np.ndarray, y: float) -> list[float]:
    """x where the polygon outline crosses the row y."""
    xs = []
    for (x0, y0), (x1, y1) in zip(polygon, np.roll(polygon, -1, axis=0), strict=True):
        if min(y0, y1) <= y < max(y0, y1):  # half-open: a vertex on the row counts once
            xs.append(float(x0 + (y - y0) * (x1 - x0) / (y1 - y0)))
    return sorted(xs)


def _save_state(page: Any, state: str) -> None:
    expect(page.get_by_test_id("save-status")).to_have_attribute("data-state", state)


def _open_case(page: Any, url: str, case_id: int) -> None:
    page.goto(f"{url}/cases/{case_id}/")
    wait_for_viewer(page)
    expect(page.get_by_test_id("save-status")).not_to_have_text("\u2014")


def _caliper_mm(page: Any) -> float:
    """The live caliper length the status bar shows while a line is drawn."""
    match = re.fullmatch(r"Caliper: ([\d.]+) mm", draft_status(page))
    assert match, f"no caliper length in the status bar: {draft_status(page)!r}"
    return float(match.group(1))


@dataclass(frozen=True)
class Scene:
    """The annotator's page on the phantom case, and what the steps check against."""

    page: Any
    url: str
    case: Any
    study: PhantomStudy
    image_key: str
    read_id: int


def _zoom_in(page: Any) -> None:
    """Zoom in (twice the fit) so one image pixel covers about two screen pixels."""
    page.get_by_test_id(f"viewport-{SLOT}").hover()
    for _ in range(3):
        page.keyboard.press("=")
    expect(page.get_by_test_id(f"zoom-label-{SLOT}")).not_to_have_text("Zoom 1.08\u00d7")


def _draw_cord(scene: Scene) -> None:
    """The cord as a polygon: 16 clicks along the true outline, Enter closes it."""
    page, truth = scene.page, scene.study.phantom.sagittal_truth
    page.get_by_test_id("tool-polygon").click()
    expect(page.locator("body")).to_have_attribute("data-tool", "polygon")
    clicked = _resample(truth.cord_polygon, 16)
    for x, y in clicked:
        page.mouse.click(*to_client(page, SLOT, x, y))
    expect(page.get_by_test_id("draft-status")).to_have_text("Polygon: 16 points")
    page.keyboard.press("Enter")
    cord = page.get_by_test_id("shape-row").filter(has_text="cord")
    expect(cord).to_have_attribute("data-shape-type", "polygon")
    expect(cord).to_contain_text("16 pts")
    expect(page.get_by_test_id("draft-status")).to_have_text("")
    drawn = page_shapes(page, SLOT)[0]
    assert drawn["label"] == "cord"
    assert np.allclose(drawn["points"], clicked, atol=0.35), "clicks landed off the outline"


def _place_corners(scene: Scene) -> None:
    """The 20 corners in the guided order, each clicked at the phantom's true corner."""
    page, truth = scene.page, scene.study.phantom.sagittal_truth
    page.get_by_test_id("tool-keypoint").click()
    names = [
        n
        for v in ("C3", "C4", "C5", "C6", "C7")
        for n in (f"{v}_AS", f"{v}_AI", f"{v}_PS", f"{v}_PI")
    ]
    assert list(truth.keypoints) == names
    for name in names:
        expect(page.get_by_test_id("next-keypoint")).to_have_text(f"Next: {name}")
        expect(page.get_by_test_id(f"kp-{name}")).to_have_class("kp next")
        page.mouse.click(*to_client(page, SLOT, *truth.keypoints[name]))
        expect(page.get_by_test_id(f"kp-{name}")).to_contain_class("placed")
    expect(page.get_by_test_id("next-keypoint")).to_have_text("All 20 placed")
    expect(page.get_by_test_id("keypoint-warning")).to_have_count(0)
    shapes = page_shapes(page, SLOT)
    placed = {s["label"]: s["points"][0] for s in shapes if s["shape_type"] == "point"}
    for name in names:
        assert np.allclose(placed[name], truth.keypoints[name], atol=0.35), name


def _draw_caliper(scene: Scene) -> None:
    """A caliper across the cord at its narrowest level: the live length is in mm."""
    page, phantom = scene.page, scene.study.phantom
    foot_y = float(phantom.expected["d_i_foot_y"])
    front, back = _crossings(phantom.sagittal_truth.cord_polygon, foot_y)[:2]
    expected_mm = (back - front) * scene.case.series.get(orientation="sagittal").pixel_spacing_col
    assert expected_mm == pytest.approx(phantom.expected["d_i"], abs=0.05)
    page.get_by_test_id("label-d_i").click()  # a caliper label (else the line is a ruler)
    page.keyboard.press("Control+l")
    expect(page.locator("body")).to_have_attribute("data-tool", "line")
    start = to_client(page, SLOT, front, foot_y)
    end = to_client(page, SLOT, back, foot_y)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + end[0]) / 2, start[1], steps=4)
    assert _caliper_mm(page) == pytest.approx(expected_mm / 2, abs=0.15)
    page.mouse.move(*end, steps=4)
    full = _caliper_mm(page)
    assert full == pytest.approx(expected_mm, abs=0.15)
    screenshot(page, "annotate-caliper-live")
    page.mouse.up()
    caliper = page.get_by_test_id("shape-row").filter(has_text="d_i")
    expect(caliper).to_have_attribute("data-shape-type", "line")
    expect(caliper).to_contain_text(f"{full:.2f} mm")


def _autosave_and_reload(scene: Scene) -> list[dict[str, Any]]:
    """Autosave: the server comes to hold exactly what the page shows; a reload brings the same
    shapes back from the server. Returns the shapes."""
    page = scene.page
    shown = page_shapes(page, SLOT)
    assert len(shown) == 22
    saved = wait_for_head(
        page, scene.read_id, lambda head: head["shapes"].get(scene.image_key) == shown
    )
    selected = page.get_by_test_id("read-select").locator("option:checked")
    expect(selected).to_contain_text(f"{saved['number']} rev")
    screenshot(page, "annotate-drawn")

    page.reload()
    wait_for_viewer(page)
    expect(page.get_by_test_id("shape-row")).to_have_count(22)
    assert page_shapes(page, SLOT) == saved["shapes"][scene.image_key]
    assert canvas_signature(page, f"viewport-{SLOT}")["lit"] > 0.05
    expect(page.get_by_test_id("next-keypoint")).to_have_text("All 20 placed")
    return shown


def _save_from_elsewhere_while_offline(
    scene: Scene, other: Any, head_before: dict[str, Any]
) -> Any:
    """The annotator edits while offline here and saves the same read from a second browser
    (only a read's author writes it; a reviewer's fixes go to gold). Returns the other head."""
    page = scene.page
    _open_case(other, scene.url, scene.case.pk)
    other.get_by_test_id("read-select").select_option(str(scene.read_id))
    expect(other.get_by_test_id("shape-row")).to_have_count(22)

    page.context.set_offline(True)
    page.get_by_test_id("shape-row").filter(has_text="d_i").get_by_test_id("shape-delete").click()
    _save_state(page, "offline")

    other.get_by_test_id("tool-point").click()
    # Inside the view, which opens fitted to the read's shapes: at the cord's centre.
    cord = scene.study.phantom.sagittal_truth.cord_polygon
    centre = (float(np.mean([p[0] for p in cord])), float(np.mean([p[1] for p in cord])))
    other.mouse.click(*to_client(other, SLOT, *centre))
    expect(other.get_by_test_id("shape-row").filter(has_text="marker")).to_have_count(1)
    theirs = wait_for_head(
        other, scene.read_id, lambda head: head["number"] == head_before["number"] + 1
    )
    assert theirs["author"]["username"] == "annotator"
    return theirs


def _check_conflict_dialog(page: Any, theirs: dict[str, Any], read_id: int) -> None:
    """Back online, a save meets the other head: the dialog shows both versions, nothing sent."""
    page.context.set_offline(False)
    # The retry timer may open the dialog first; the click then lands on its backdrop, harmlessly.
    page.get_by_test_id("save-now").click(force=True)
    dialog = page.get_by_test_id("conflict-dialog")
    expect(dialog).to_be_visible()
    expect(page.get_by_test_id("save-status")).to_have_attribute("data-state", "conflict")
    expect(page.get_by_test_id("conflict-mine")).to_contain_text("21 shapes")
    expect(page.get_by_test_id("conflict-theirs")).to_contain_text(f"rev {theirs['number']}")
    expect(page.get_by_test_id("conflict-theirs")).to_contain_text("23 shapes")
    expect(page.get_by_test_id("conflict-theirs")).to_contain_text("marker")
    expect(dialog).to_contain_text("annotator")
    # What differs is listed first in each column: my deleted caliper is only in theirs, and so
    # is their marker.
    expect(page.get_by_test_id("conflict-mine").get_by_test_id("conflict-diff")).to_have_count(0)
    diff = page.get_by_test_id("conflict-theirs").get_by_test_id("conflict-diff")
    expect(diff).to_have_count(2)
    expect(diff.nth(0)).to_contain_text("d_i")
    expect(diff.nth(1)).to_contain_text("marker")
    screenshot(page, "annotate-conflict")
    assert api_get(page, f"/api/reads/{read_id}")["revision"]["id"] == theirs["id"]


def _keep_mine(scene: Scene, theirs: dict[str, Any], revisions_before: list[Any]) -> Any:
    """Keeping mine saves on top of theirs: no revision lost. Returns the new head's shapes."""
    page, read_id = scene.page, scene.read_id
    page.get_by_test_id("conflict-keep-mine").click()
    expect(page.get_by_test_id("conflict-dialog")).to_have_count(0)
    _save_state(page, "saved")
    revisions = api_get(page, f"/api/reads/{read_id}/revisions")
    head = revisions[0]
    assert head["number"] == theirs["number"] + 1
    assert head["parent"] == theirs["id"]
    assert head["author"]["username"] == "annotator"
    assert head["shape_count"] == 21
    # No revision lost: every earlier one is still listed, numbered without gaps.
    assert [r["number"] for r in revisions] == list(range(head["number"], 0, -1))
    assert {r["id"] for r in revisions_before} | {theirs["id"]} <= {r["id"] for r in revisions}
    kept = api_get(page, f"/api/revisions/{theirs['id']}")
    assert any(s["label"] == "marker" for s in kept["shapes"][scene.image_key])
    return api_get(page, f"/api/reads/{read_id}")["revision"]


def test_an_annotator_draws_saves_reloads_and_resolves_a_conflict(
    page_for: Any,
    asgi_server: Any,
    cast: dict[str, Any],
    phantom_case: Any,
    phantom_study: PhantomStudy,
) -> None:
    # Offline saves and the conflict's 409 are provoked on purpose.
    page = page_for("annotator", PASSWORD, allow=(r"ERR_INTERNET_DISCONNECTED", r"409"))
    _open_case(page, asgi_server.url, phantom_case.pk)
    sag = shown_slice(page, SLOT)
    # The truth lies on the mid-sagittal slice shown first.
    assert sag["index"] == phantom_study.phantom.sagittal_truth.mid_index
    read_id = start_my_read(page)  # opening a case creates no read
    scene = Scene(page, asgi_server.url, phantom_case, phantom_study, str(sag["imageId"]), read_id)
    _zoom_in(page)

    _draw_cord(scene)
    _place_corners(scene)
    _draw_caliper(scene)
    shown = _autosave_and_reload(scene)

    revisions_before = api_get(page, f"/api/reads/{read_id}/revisions")
    other = page_for("annotator", PASSWORD)
    theirs = _save_from_elsewhere_while_offline(scene, other, revisions_before[0])
    _check_conflict_dialog(page, theirs, read_id)
    head = _keep_mine(scene, theirs, revisions_before)
    final = head["shapes"][scene.image_key]
    assert [s["label"] for s in final] == [s["label"] for s in shown if s["label"] != "d_i"]

    # The other browser, with nothing unsaved, follows the new head live.
    expect(other.get_by_test_id("shape-row")).to_have_count(21)
    assert page_shapes(other, SLOT) == final
    selected = other.get_by_test_id("read-select").locator("option:checked")
    expect(selected).to_contain_text(f"{head['number']} rev")
