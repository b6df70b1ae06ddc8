"""A case page open while Redis is down: the save made meanwhile reaches no socket, and the
page catches up by itself when its live socket reconnects after Redis returns.

Real Chromium against the private at-scale stack (two ASGI processes: the page on one, the
save through the other).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, wait_for_viewer
from tests.faults.client import ApiClient, polygon
from tests.faults.stack import Stack

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def browser_page(stack: Stack) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not (ROOT / "frontend" / "dist" / ".vite" / "manifest.json").exists():
        pytest.fail("the frontend is not built: run `make frontend` (make test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            url = stack.urls[0]
            session = stack.seed["sessions"]["r00"]
            context.add_cookies([{"name": "sessionid", "value": session, "url": url}])
            page = context.new_page()
            page.set_default_timeout(20_000)
            yield page
        finally:
            browser.close()


def test_the_page_shows_a_save_made_during_a_redis_outage_once_redis_returns(
    stack: Stack, browser_page: Any
) -> None:
    from playwright.sync_api import expect

    page = browser_page
    case = stack.seed["cases"][1]
    writer = ApiClient(stack.urls[1], stack.seed["sessions"]["a01"])
    read_id = writer.my_read(case["id"])
    head = writer.request("GET", f"/api/reads/{read_id}").json()["revision"]
    page.goto(f"{stack.urls[0]}/cases/{case['id']}/")
    wait_for_viewer(page)
    page.get_by_test_id("read-select").select_option(str(read_id))
    live = page.get_by_test_id("live-status")
    expect(live).to_have_attribute("data-live", "on")

    stack.redis.stop()
    try:
        reply = writer.request(
            "POST",
            f"/api/reads/{read_id}/revisions",
            {
                "parent": head["id"] if head else None,
                "shapes": {str(case["images"][0]): [polygon(7)]},
            },
        )
        assert reply.status == 201, reply
        saved = reply.json()["id"]
        expect(live).to_have_attribute("data-live", "off")  # the socket went with Redis
    finally:
        stack.redis.start()

    expect(live).to_have_attribute("data-live", "on", timeout=90_000)
    row = page.locator(f"[data-testid=revision-row][data-revision='{saved}']")
    expect(row).to_have_count(1)
