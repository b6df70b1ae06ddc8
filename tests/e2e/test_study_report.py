"""The study report in Chromium: the lead generates it on the reports page, the HTML the
server serves opens with every chart drawn (each SVG has a size and marks in it), nothing
is fetched from anywhere, and the PNG and SVG downloads are data URIs."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from reports.models import ReportJob
from tests.conftest import PASSWORD
from tests.e2e.conftest import OUTPUT, screenshot
from tests.reports.builders import study_create

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]

CHARTS = 12 + 7  # Bland-Altman per group and measurement; per-level per metric

SVG_CHECK = """() => [...document.querySelectorAll('svg[data-chart]')].map(svg => {
  const box = svg.getBoundingClientRect();
  return {key: svg.dataset.chart, width: box.width, height: box.height,
          marks: svg.querySelectorAll('path, use').length};
})"""


def test_the_lead_generates_the_report_and_it_opens_with_every_chart_drawn(
    page_for: Any, asgi_server: Any, project: Any, cast: Any
) -> None:
    study_create(
        project=project,
        annotator=cast["annotator"],
        reader=cast["reader"],
        reviewer=cast["reviewer"],
        cases=12,
    )
    page = page_for("lead", PASSWORD)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{asgi_server.url}/projects/{project.slug}/reports")
    page.get_by_test_id("report-split").select_option("all")
    page.get_by_test_id("report-generate").click()
    expect(page.get_by_test_id("report-list").locator("tbody tr")).to_have_count(1)
    call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0)
    job = ReportJob.objects.get(project=project)
    assert job.status == "succeeded", job.reason
    link = page.get_by_test_id("report-list").get_by_role("link", name="HTML")
    expect(link).to_be_visible()  # the page heard the job finish (live, no reload)
    expect(page.get_by_test_id("report-message")).to_have_text(f"Report {job.pk} is ready")
    screenshot(page, "study-report-page")

    requests.clear()
    page.goto(f"{asgi_server.url}/api/reports/{job.pk}/report.html")
    page.wait_for_load_state("load")
    charts = page.evaluate(SVG_CHECK)
    assert len(charts) == CHARTS
    empty = [c["key"] for c in charts if c["width"] < 100 or c["height"] < 50 or c["marks"] < 10]
    assert empty == [], f"charts drawn empty: {empty}"
    assert requests == [f"{asgi_server.url}/api/reports/{job.pk}/report.html"]
    downloads = page.locator("figcaption a[download]")
    assert downloads.count() == 2 * CHARTS
    hrefs = [downloads.nth(i).get_attribute("href") or "" for i in range(downloads.count())]
    assert all(
        h.startswith(("data:image/png;base64,", "data:image/svg+xml;base64,")) for h in hrefs
    )
    page.locator("#bland-altman").scroll_into_view_if_needed()
    screenshot(page, "study-report-bland-altman")
    page.locator("#per-level").scroll_into_view_if_needed()
    path = screenshot(page, "study-report-per-level")
    assert path.stat().st_size > 20_000  # a drawn page, not a blank one
    assert (OUTPUT / "study-report-bland-altman.png").exists()
