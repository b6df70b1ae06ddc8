"""Live updates: two browsers on one case; a save in one shows in the other without a reload.

The delay (save reply in one page → shapes drawn in the other) is measured with the pages' own
clocks and written to test-output/e2e/live-latency.json; its target (≤ 1 s) is reported by the
browser benchmark, not asserted here.
"""

from __future__ import annotations

import json
import statistics
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import (
    OUTPUT,
    api_get,
    canvas_signature,
    screenshot,
    start_my_read,
    to_client,
    wait_canvas_changed,
    wait_for_viewer,
)
from tests.e2e.pagejs import INSTRUMENT_JS, WAIT_ROWS_JS
from tests.factories import make_case

# One xdist group for `--dist loadgroup`: one server and one Chromium, not one per worker.
# (pytest 9.2 with xdist 3.8 ignores groups: xdist sets item._nodeid, pytest 9 reads _id.)
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]


def _open(page: Any, url: str, case_id: int) -> None:
    page.goto(f"{url}/cases/{case_id}/")
    wait_for_viewer(page)
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-live", "on")
    expect(page.get_by_test_id("save-status")).not_to_have_text("—")


def _add_marker_and_save(page: Any, slot: str, x: float, y: float) -> float:
    """Place a marker point, save at once; returns the epoch ms of the save reply."""
    saves = int(page.evaluate("() => window.__saves.length"))
    page.get_by_test_id("tool-point").click()
    page.mouse.click(*to_client(page, slot, x, y))
    page.get_by_test_id("save-now").click()
    page.wait_for_function("(n) => window.__saves.length > n", arg=saves)
    reply = page.evaluate("() => window.__saves[window.__saves.length - 1]")
    assert reply["status"] == 201, reply
    page.keyboard.press("Escape")  # back to Navigate
    return float(reply["at"])


def test_a_save_in_one_browser_appears_live_in_the_other(
    page_for: Any, asgi_server: Any, cast: dict[str, Any], project: Any
) -> None:
    case = make_case(project=project, rows=256, columns=256, slices=5, spacing=(0.5, 0.5))
    annotator = page_for("annotator", PASSWORD)
    # The same person in a second browser: only a read's author saves it.
    second = page_for("annotator", PASSWORD)
    for page in (annotator, second):
        page.add_init_script(INSTRUMENT_JS)
    _open(annotator, asgi_server.url, case.pk)
    read_id = str(start_my_read(annotator))  # opening a case creates no read
    _open(second, asgi_server.url, case.pk)
    second.get_by_test_id("read-select").select_option(read_id)
    expect(second.get_by_test_id("read-select")).to_have_value(read_id)

    latencies: list[dict[str, float]] = []
    # Alternate who saves: each page follows the other's revisions while it has nothing unsaved.
    for round_, (writer, watcher) in enumerate(
        [(annotator, second), (second, annotator), (annotator, second)], start=1
    ):
        before = canvas_signature(watcher, "viewport-sagittal")
        events = int(watcher.evaluate("() => window.__events.length"))
        shown = watcher.evaluate_handle(WAIT_ROWS_JS, round_)
        saved_at = _add_marker_and_save(writer, "sagittal", 40.0 * round_, 60.0)
        shown_at = float(watcher.evaluate("(h) => h.p", shown))
        event = watcher.evaluate("(n) => window.__events.slice(n)", events)
        received = [e["at"] for e in event if e["type"] == "revision.saved"]
        assert received, f"no revision.saved event reached the other page: {event}"
        latencies.append({"shown_ms": shown_at - saved_at, "event_ms": received[0] - saved_at})
        # The marker is drawn one animation frame after its row appears: wait for the redraw.
        wait_canvas_changed(watcher, "viewport-sagittal", before["hash"])
        markers = watcher.get_by_test_id("shape-row").filter(has_text="marker")
        expect(markers).to_have_count(round_)
        expect(watcher.get_by_test_id("save-status")).to_contain_text("Updated")
        # The follower sends nothing back: the read has exactly one revision per save.
        assert len(api_get(watcher, f"/api/reads/{read_id}/revisions")) == round_
    screenshot(second, "live-update-follower")

    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "live-latency.json").write_text(
        json.dumps(
            {
                "rounds": latencies,
                "shown_ms_median": statistics.median(x["shown_ms"] for x in latencies),
            },
            indent=2,
        )
    )
