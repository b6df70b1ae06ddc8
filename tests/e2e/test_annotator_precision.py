"""Annotator precision on a real sagittal scan (issue 10): opening a case creates no read,
"Start my read" does; the view frames the pre-label; a press picks the intended one of
overlapping vertices (selected shape, nearest, Tab); Hide all leaves the bare image."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from annotation.ingest import ingest_paths
from annotation.models import Case, Image, Read, ReadKind, Series
from annotation.services.revisions import revision_create
from fixtures.real import real_volume
from tests.conftest import PASSWORD
from tests.e2e.conftest import (
    canvas_signature,
    screenshot,
    start_my_read,
    to_client,
    wait_for_head,
)

# One xdist group for `--dist loadgroup`: one server and one Chromium, not one per worker.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]

SLOT = "sagittal"


@dataclass
class RealCase:
    case: Case
    image: Image
    shapes: list[dict[str, Any]]
    url: str


def _shape(label: str, points: list[list[float]], shape_type: str = "polygon") -> dict[str, Any]:
    return {
        "label": label,
        "points": points,
        "shape_type": shape_type,
        "group_id": None,
        "description": "",
        "flags": {},
    }


def _prelabel(cx: float, cy: float) -> list[dict[str, Any]]:
    """A model's pre-label: the canal, then the cord drawn over it. Their top vertices coincide
    (cx, cy - 60); the canal's bottom-left vertex is 1 pixel left of the cord's. Corners C3..C7."""
    top = [cx, cy - 60]
    canal = _shape("canal", [top, [cx + 8, cy - 58], [cx + 8, cy + 60], [cx - 8, cy + 60]])
    cord = _shape("cord", [top, [cx + 5, cy - 56], [cx + 5, cy + 58], [cx - 7, cy + 60]])
    corners = []
    for k, level in enumerate(("C3", "C4", "C5", "C6", "C7")):
        y = cy - 55 + 24 * k
        for name, (dx, dy) in {
            "AS": (-30, 0),
            "AI": (-30, 16),
            "PS": (-14, 0),
            "PI": (-14, 16),
        }.items():
            corners.append(_shape(f"{level}_{name}", [[cx + dx, y + dy]], "point"))
    return [canal, cord, *corners]


@pytest.fixture
def real_case(project: Any, asgi_server: Any) -> RealCase:
    """The demo's full field-of-view sagittal T2 (a real scan) with a model read."""
    summary = ingest_paths(project=project, paths=[real_volume("sct_example_t2").path])
    case = Case.objects.get(pk=summary.cases[0][0])
    series = Series.objects.get(case=case, orientation="sagittal")
    images = list(Image.objects.filter(series=series).order_by("index"))
    image = images[len(images) // 2]  # the slice the viewer opens on
    shapes = _prelabel(series.columns / 2, series.rows / 2)
    read = Read.objects.create(case=case, kind=ReadKind.MODEL, name="model · sagittal")
    revision_create(read=read, parent_id=None, shapes={str(image.pk): shapes})
    return RealCase(case, image, shapes, f"{asgi_server.url}/cases/{case.pk}/")


def _open(page: Any, real: RealCase) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(real.url)
    expect(page.get_by_test_id(f"viewport-{SLOT}")).to_have_attribute("data-state", "ready")
    expect(page.get_by_test_id("read-select")).to_contain_text("model")


def test_opening_a_case_creates_no_read_and_start_my_read_does(
    page_for, cast, real_case: RealCase
) -> None:
    reviewer = page_for("reviewer", PASSWORD)
    _open(reviewer, real_case)
    expect(reviewer.get_by_test_id("start-read")).to_be_hidden()  # reviewers edit the gold read
    page = page_for("annotator", PASSWORD)
    _open(page, real_case)
    expect(page.get_by_test_id("start-read")).to_be_visible()
    assert not Read.objects.filter(case=real_case.case, kind=ReadKind.HUMAN).exists()
    read_id = start_my_read(page)
    mine = Read.objects.get(pk=read_id)
    assert (mine.kind, mine.author_id) == (ReadKind.HUMAN, cast["annotator"].pk)
    head = wait_for_head(page, read_id, lambda head: True)
    assert head["shapes"] == {str(real_case.image.pk): real_case.shapes}  # from the pre-label
    assert Read.objects.filter(case=real_case.case, kind=ReadKind.HUMAN).count() == 1


def _box_framed(page: Any, real: RealCase, central: float) -> dict[str, Any]:
    """Where the pre-label's bounding box is drawn, as shares of the viewport."""
    xs = [p[0] for s in real.shapes for p in s["points"]]
    ys = [p[1] for s in real.shapes for p in s["points"]]
    canvas = page.get_by_test_id(f"viewport-{SLOT}").bounding_box()
    x0, y0 = to_client(page, SLOT, min(xs), min(ys))
    x1, y1 = to_client(page, SLOT, max(xs), max(ys))
    margin = (1 - central) / 2
    left, right = (
        canvas["x"] + margin * canvas["width"],
        canvas["x"] + (1 - margin) * canvas["width"],
    )
    top, bottom = (
        canvas["y"] + margin * canvas["height"],
        canvas["y"] + (1 - margin) * canvas["height"],
    )
    inside = left <= x0 and x1 <= right and top <= y0 and y1 <= bottom
    share = (y1 - y0) / canvas["height"]
    # Framed: inside the central part, and the spine fills the viewport (not the whole-image fit).
    return {"framed": inside and share >= 0.5, "inside": inside, "height_share": share}


def _wait_view(page: Any, real: RealCase, want: bool) -> dict[str, Any]:
    """Wait until the box is (or is not) framed: within the central 80 % and at least half the
    viewport's height (the fit follows the read's load by a frame)."""
    canvas = page.get_by_test_id(f"viewport-{SLOT}")
    for _ in range(100):
        view = canvas.get_attribute("data-view")  # before the check: a change after it counts
        framed = _box_framed(page, real, 0.8)
        if framed["framed"] == want:
            return framed
        try:
            page.wait_for_function(
                "([sel, v]) => document.querySelector(sel).dataset.view !== v",
                arg=[f"[data-testid=viewport-{SLOT}]", view],
            )
        except PlaywrightTimeout:
            break
    screenshot(page, "precision-not-framed")
    raise AssertionError(f"the pre-label's box never became framed={want}: {framed}")


def test_the_view_fits_the_prelabel_on_open_and_on_f(page_for, cast, real_case: RealCase) -> None:
    page = page_for("annotator", PASSWORD)
    _open(page, real_case)
    _wait_view(page, real_case, True)
    screenshot(page, "precision-fit-on-open")
    page.get_by_test_id(f"viewport-{SLOT}").focus()
    for _ in range(4):
        page.keyboard.press("+")
    _wait_view(page, real_case, False)
    page.keyboard.press("f")
    _wait_view(page, real_case, True)


def _hover(page: Any) -> dict[str, Any] | None:
    text = page.get_by_test_id(f"viewport-{SLOT}").get_attribute("data-hover")
    return json.loads(text) if text else None


def _drag(page: Any, at: tuple[float, float], dy: float = -12) -> None:
    page.mouse.down()
    page.mouse.move(at[0], at[1] + dy / 2)
    page.mouse.move(at[0], at[1] + dy)
    page.mouse.up()


def _moved(head: dict[str, Any], image: Image) -> dict[str, list[int]]:
    """Indexes of the vertices of cord and canal that left their pre-label place."""
    shapes = head["shapes"][str(image.pk)]
    return {s["label"]: s["points"] for s in shapes if s["label"] in ("cord", "canal")}


def _expect_vertex_moved(
    page: Any, read_id: int, real: RealCase, label: str, index: int, base: int
) -> None:
    original = {s["label"]: s["points"] for s in real.shapes[:2]}
    head = wait_for_head(page, read_id, lambda h: h["number"] > base)
    now = _moved(head, real.image)
    assert now[label][index] != original[label][index], (label, now)
    other = "cord" if label == "canal" else "canal"
    assert now[other] == original[other], f"the {other} moved too: {now[other]}"
    assert [p for k, p in enumerate(now[label]) if k != index] == [
        p for k, p in enumerate(original[label]) if k != index
    ]


def _undo(page: Any, read_id: int, real: RealCase, base: int) -> int:
    page.keyboard.press("Control+z")
    head = wait_for_head(
        page,
        read_id,
        lambda h: h["number"] > base and h["shapes"] == {str(real.image.pk): real.shapes},
    )
    return int(head["number"])


def test_a_press_picks_the_intended_one_of_overlapping_vertices(
    page_for, cast, real_case: RealCase
) -> None:
    page = page_for("annotator", PASSWORD)
    _open(page, real_case)
    _wait_view(page, real_case, True)
    read_id = start_my_read(page)
    base = int(wait_for_head(page, read_id, lambda h: True)["number"])
    page.keyboard.press("Control+j")  # edit tool
    cx, cy = real_case.shapes[0]["points"][0]
    top = to_client(page, SLOT, cx, cy)

    # Tab: the topmost (cord) is the candidate; Tab makes it the canal, and the press takes it.
    page.mouse.move(*top)
    expect(page.get_by_test_id(f"viewport-{SLOT}")).to_have_attribute(
        "data-hover", _json("cord", 0)
    )
    screenshot(page, "precision-hover-candidate")
    page.keyboard.press("Tab")
    expect(page.get_by_test_id(f"viewport-{SLOT}")).to_have_attribute(
        "data-hover", _json("canal", 0)
    )
    _drag(page, top)
    _expect_vertex_moved(page, read_id, real_case, "canal", 0, base)
    base = _undo(page, read_id, real_case, base + 1)

    # The selected shape wins: select the canal in the list; the press on the shared vertex
    # takes it. (Undo left nothing selected.)
    expect(page.locator("body")).to_have_attribute("data-tool", "edit")
    page.mouse.move(*top)
    expect(page.get_by_test_id(f"viewport-{SLOT}")).to_have_attribute(
        "data-hover", _json("cord", 0)
    )
    page.get_by_test_id("shape-row").filter(has_text="canal").first.click()
    page.mouse.move(*top)
    expect(page.get_by_test_id(f"viewport-{SLOT}")).to_have_attribute(
        "data-hover", _json("canal", 0)
    )
    _drag(page, top)
    _expect_vertex_moved(page, read_id, real_case, "canal", 0, base)
    base = _undo(page, read_id, real_case, base + 1)

    # Nearest wins over topmost: 1 screen px right of the canal's vertex, the cord's is farther.
    bx, by = real_case.shapes[0]["points"][3]
    corner = to_client(page, SLOT, bx, by)
    near = (corner[0] + 1, corner[1])
    page.mouse.move(*near)
    expect(page.get_by_test_id(f"viewport-{SLOT}")).to_have_attribute(
        "data-hover", _json("canal", 3)
    )
    _drag(page, near)
    _expect_vertex_moved(page, read_id, real_case, "canal", 3, base)


def _json(label: str, index: int) -> str:
    shape = 0 if label == "canal" else 1
    return json.dumps({"shape": shape, "label": label, "kind": "vertex", "index": index}).replace(
        " ", ""
    )


def test_hide_all_leaves_the_bare_image(page_for, cast, real_case: RealCase) -> None:
    page = page_for("annotator", PASSWORD)
    _open(page, real_case)
    _wait_view(page, real_case, True)
    start_my_read(page)
    testid = f"viewport-{SLOT}"
    page.mouse.move(2, 2)  # no hover outline, no tool cursor
    shown = canvas_signature(page, testid)
    page.get_by_test_id(testid).focus()
    page.keyboard.press("h")
    expect(page.get_by_test_id("hide-all")).to_be_checked()
    hidden = _settled_signature(page, testid, shown["hash"])
    screenshot(page, "precision-hidden")
    # The bare image: the same view with every shape deleted (and so no chord either).
    page.keyboard.press("h")
    rows = page.get_by_test_id("shape-row")
    while rows.count():
        rows.first.get_by_test_id("shape-delete").click()
    page.mouse.move(2, 2)
    page.wait_for_function(
        f"([id, want]) => ({CANVAS_HASH_JS})(id) === want", arg=[testid, hidden["hash"]]
    )


CANVAS_HASH_JS = """(testid) => {
  const c = document.querySelector(`[data-testid=${testid}]`);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let h = 2166136261;
  for (let i = 0; i < d.length; i += 4)
    h = Math.imul(h ^ (d[i] | (d[i + 1] << 8) | (d[i + 2] << 16)), 16777619) >>> 0;
  return h;
}"""


def _settled_signature(page: Any, testid: str, old: float) -> dict[str, float]:
    page.wait_for_function(f"([id, old]) => ({CANVAS_HASH_JS})(id) !== old", arg=[testid, old])
    return canvas_signature(page, testid)


def test_the_history_says_what_changed_and_restore_asks_first(
    page_for, cast, real_case: RealCase
) -> None:
    """Two revisions of the annotator's read: the cord's vertex 2 moved 4 pixels down, the
    canal removed, a marker added; the history's line for the second says exactly that."""
    image = str(real_case.image.pk)
    first = [dict(s) for s in real_case.shapes]
    canal, cord, corners = first[0], first[1], first[2:]
    moved = dict(cord, points=[list(p) for p in cord["points"]])
    moved["points"][2][1] += 4
    marker = _shape("marker", [[float(v) for v in cord["points"][0]]], "point")
    second = [moved, *corners, marker]
    read = Read.objects.create(
        case=real_case.case, kind=ReadKind.HUMAN, author=cast["annotator"], name=""
    )
    rev1 = revision_create(
        read=read, parent_id=None, shapes={image: first}, author=cast["annotator"]
    )
    revision_create(read=read, parent_id=rev1.pk, shapes={image: second}, author=cast["annotator"])
    assert canal["label"] == "canal"
    series = real_case.image.series
    largest_mm = 4 * series.pixel_spacing_row
    page = page_for("annotator", PASSWORD)
    _open(page, real_case)
    expect(page.get_by_test_id("start-read")).to_be_hidden()  # the annotator has a read
    expect(page.get_by_test_id("revisions-section")).to_be_hidden()
    page.get_by_test_id("side-tab-history").click()
    rows = page.get_by_test_id("revision-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).get_by_test_id("revision-diff")).to_have_text(
        f"1 added · 1 removed · 1 moved (largest {largest_mm:.2f} mm, cord) (vs #1)"
    )
    expect(rows.nth(1).get_by_test_id("revision-diff")).to_have_text(
        f"{len(first)} added (from nothing)"
    )
    expect(rows.nth(0).get_by_test_id("revision-when")).to_have_text("just now")
    screenshot(page, "precision-history")
    messages: list[str] = []

    def confirm(dialog: Any) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", confirm)
    rows.nth(1).get_by_test_id("restore-revision").click()
    head = wait_for_head(page, read.pk, lambda h: h["number"] == 3)
    assert head["shapes"] == {image: first}
    assert "appends a copy of it as revision #3" in messages[0], messages
