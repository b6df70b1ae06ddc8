"""Pre-labelling from the UI (issue 5): the case page's Pre-label button and live job chip, a failed
job's reason, and the case list's selection, job badges and state badges, all live.

The worker runs in the test process (`worker --batch`); its events reach the server subprocess
through the outbox relay and the open pages through their WebSockets, without a reload.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import (
    api_get,
    canvas_signature,
    screenshot,
    start_my_read,
    wait_canvas_changed,
    wait_for_viewer,
)
from tests.factories import make_case
from tests.inference.tiny import register_tiny_model

# One xdist group for `--dist loadgroup`: one server and one Chromium, not one per worker.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]

# Every value the job chip's data-status takes, in order (a MutationObserver on the chip).
RECORD_STATUSES_JS = """() => {
  const chip = document.querySelector('[data-testid=job-status]');
  window.__jobStatuses = [chip.dataset.status];
  new MutationObserver(() => {
    const last = window.__jobStatuses[window.__jobStatuses.length - 1];
    if (chip.dataset.status !== last) window.__jobStatuses.push(chip.dataset.status);
  }).observe(chip, {attributes: true, attributeFilter: ['data-status']});
}"""


def _open_case(page: Any, url: str, case_id: int) -> None:
    page.goto(f"{url}/cases/{case_id}/")
    wait_for_viewer(page)
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-live", "on")
    expect(page.get_by_test_id("save-status")).not_to_have_text("—")


@pytest.mark.usefixtures("cast")
def test_the_prelabel_button_shows_the_job_live_and_then_the_model_read(
    page_for: Any, asgi_server: Any, phantom_case: Any, tmp_path: Path
) -> None:
    model = register_tiny_model(tmp_path)
    page = page_for("annotator", PASSWORD)
    _open_case(page, asgi_server.url, phantom_case.pk)
    chip = page.get_by_test_id("job-status")
    button = page.get_by_test_id("prelabel-button")
    expect(button).to_be_visible()
    expect(chip).to_be_hidden()  # no job yet
    start_my_read(page)  # opening a case creates no read
    reads = page.get_by_test_id("read-select").locator("option")
    expect(reads).to_have_count(1)
    before = canvas_signature(page, "viewport-sagittal")
    page.evaluate(RECORD_STATUSES_JS)

    button.click()
    expect(chip).to_have_attribute("data-status", "queued")
    expect(button).to_be_disabled()
    expect(page.get_by_test_id("job-progress")).to_be_visible()
    screenshot(page, "prelabel-ui-queued")

    call_command("worker", batch=True)

    expect(chip).to_have_attribute("data-status", "succeeded")
    expect(chip).to_contain_text("shapes")
    expect(page.get_by_test_id("job-error")).to_be_hidden()
    statuses = page.evaluate("() => window.__jobStatuses")
    assert statuses[-3:] == ["queued", "running", "succeeded"], statuses
    # The model read is listed without a reload, and the chip's button opens it.
    expect(reads).to_have_count(2)
    expect(reads.filter(has_text="model")).to_contain_text(f"sagittal #{model.pk}")
    expect(page.get_by_test_id("case-state")).to_have_text("prelabelled")
    job = api_get(page, f"/api/cases/{phantom_case.pk}/jobs")[0]
    assert job["status"] == "succeeded", job
    page.get_by_test_id("job-open-read").click()
    expect(page.get_by_test_id("read-select")).to_have_value(str(job["read"]))
    rows = page.get_by_test_id("shape-row")
    expect(rows.first).to_be_visible()
    labels = {rows.nth(i).get_attribute("data-label") for i in range(rows.count())}
    assert "cord" in labels, labels
    wait_canvas_changed(page, "viewport-sagittal", before["hash"])  # its shapes are drawn
    screenshot(page, "prelabel-ui-succeeded")
    # The tiny model segments but places no corners: the measurement panel says what is missing.
    page.get_by_test_id("side-tab-measurements").click()
    result = page.get_by_test_id("measure-result").first
    # (slices that lack the same inputs share one block: "sagittal · slices 1–9 of 9")
    expect(result.get_by_test_id("measure-image")).to_have_text(
        re.compile(r"^sagittal · slices? \d")
    )
    expect(result.get_by_test_id("measure-missing")).to_contain_text(
        "Place C3_PS, C3_PI, C4_PS, C4_PI and 6 more to measure MSCC and MCC"
    )
    result.scroll_into_view_if_needed()
    screenshot(page, "prelabel-ui-measure-hints")


@pytest.mark.usefixtures("cast")
def test_a_failed_job_shows_its_reason_and_leaves_no_read(
    page_for: Any, asgi_server: Any, phantom_case: Any
) -> None:
    page = page_for("lead", PASSWORD)  # no model registered: the job must fail
    _open_case(page, asgi_server.url, phantom_case.pk)
    reads = page.get_by_test_id("read-select").locator("option")
    count = reads.count()
    page.get_by_test_id("prelabel-button").click()
    chip = page.get_by_test_id("job-status")
    expect(chip).to_have_attribute("data-status", "queued")

    call_command("worker", batch=True)

    expect(chip).to_have_attribute("data-status", "failed")
    error = page.get_by_test_id("job-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("no active model")
    expect(page.get_by_test_id("prelabel-button")).to_be_enabled()
    expect(page.get_by_test_id("prelabel-button")).to_have_text("Retry pre-label")
    expect(reads).to_have_count(count)
    kinds = [r["kind"] for r in api_get(page, f"/api/cases/{phantom_case.pk}/reads")]
    assert "model" not in kinds, kinds
    expect(page.get_by_test_id("case-state")).to_have_text("new")
    screenshot(page, "prelabel-ui-failed")

    # The reason is still there after a reload (the page shows the case's latest job).
    _open_case(page, asgi_server.url, phantom_case.pk)
    expect(page.get_by_test_id("job-status")).to_have_attribute("data-status", "failed")
    expect(page.get_by_test_id("job-error")).to_contain_text("no active model")


@pytest.mark.usefixtures("cast")
def test_readers_get_no_prelabel_controls(
    page_for: Any, asgi_server: Any, phantom_case: Any
) -> None:
    page = page_for("reader", PASSWORD)
    _open_case(page, asgi_server.url, phantom_case.pk)  # its own read created: no write in flight
    expect(page.get_by_test_id("prelabel-button")).to_have_count(0)
    expect(page.get_by_test_id("job-status")).to_have_count(0)


@pytest.mark.usefixtures("cast")
def test_the_case_list_prelabels_a_selection_and_follows_it_live(
    page_for: Any, asgi_server: Any, project: Any, phantom_case: Any, tmp_path: Path
) -> None:
    register_tiny_model(tmp_path)
    other = make_case(project=project)
    url = f"{asgi_server.url}/projects/{project.slug}/"
    case_id, other_id = phantom_case.pk, other.pk

    annotator = page_for("annotator", PASSWORD)
    annotator.goto(url)
    expect(annotator.get_by_test_id("caselist-live")).to_have_attribute("data-live", "on")
    for testid in ("prelabel-selected", "prelabel-all", f"select-case-{case_id}"):
        expect(annotator.get_by_test_id(testid)).to_have_count(0)

    lead = page_for("lead", PASSWORD)
    lead.goto(url)
    expect(lead.get_by_test_id("caselist-live")).to_have_attribute("data-live", "on")
    lead.evaluate("() => { window.__sameDocument = true; }")
    selected = lead.get_by_test_id("prelabel-selected")
    expect(selected).to_be_disabled()
    expect(lead.get_by_test_id(f"case-state-{case_id}")).to_have_text("new")
    lead.get_by_test_id(f"select-case-{case_id}").check()
    expect(selected).to_be_enabled()
    expect(selected).to_have_text("Pre-label selected (1)")
    selected.click()

    badge = lead.get_by_test_id(f"job-{case_id}")
    expect(badge).to_have_attribute("data-status", "queued")
    expect(lead.get_by_test_id(f"job-{other_id}")).to_have_attribute("data-status", "none")
    expect(lead.get_by_test_id(f"select-case-{case_id}")).not_to_be_checked()
    expect(lead.get_by_test_id("jobs-summary")).to_have_text("1 queued")
    screenshot(lead, "prelabel-ui-list-queued")

    call_command("worker", batch=True)

    expect(badge).to_have_attribute("data-status", "succeeded")
    expect(lead.get_by_test_id(f"case-state-{case_id}")).to_have_text("prelabelled")
    expect(lead.get_by_test_id(f"case-state-{other_id}")).to_have_text("new")
    expect(lead.get_by_test_id(f"job-{other_id}")).to_have_attribute("data-status", "none")
    assert lead.evaluate("() => window.__sameDocument === true"), "the list was reloaded"
    screenshot(lead, "prelabel-ui-list-succeeded")
    # The annotator's list followed too: state badge and job badge, no controls.
    expect(annotator.get_by_test_id(f"case-state-{case_id}")).to_have_text("prelabelled")
    expect(annotator.get_by_test_id(f"job-{case_id}")).to_have_attribute("data-status", "succeeded")
    other.refresh_from_db()
    assert other.state == "new"
