"""The dashboards in Chromium at 1440 x 900, on a study made through the real services
(tests/dashboards/world.py): a lead's progress dashboard updates without a reload when a
reviewer in another browser signs a gold read; every chart drawn on the progress and the
model-agreement pages downloads as a non-empty PNG and SVG; the split filter is kept in the
URL; nothing shows NaN; annotators are refused."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from annotation.models import Case, Read, ReadKind
from annotation.services.revisions import revision_create
from tests.conftest import PASSWORD
from tests.dashboards.world import Study, study_create, study_fields, study_shapes
from tests.e2e.conftest import screenshot

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]


def _study() -> tuple[Study, Case]:
    """Gold cases by two model versions over two splits, overlap cases for inter-reader
    agreement, and one case in review whose gold is composed but not signed yet."""
    study = study_create(seed=11, versions=2)
    for k in range(6):
        study.gold_case(split="train" if k % 2 else "test", model=k % 2)
    for _ in range(2):
        study.gold_case(split="train", overlap=True, model=1)
    pending = study.new_case(split="train")
    study.model_read(pending, study.versions[1])
    study.annotated(pending)
    study.review(pending)
    gold = Read.objects.create(case=pending, kind=ReadKind.GOLD)
    revision_create(
        read=gold,
        parent_id=None,
        shapes=study_shapes(pending, study.rng),
        case_fields=study_fields(study.rng),
        author=study.user("reviewer"),
    )
    study.new_case(split="train")  # not started: the backlog
    _passwords(study, "lead", "reviewer", "annotator")
    return study, pending


def _passwords(study: Study, *roles: str) -> None:
    """The study's people sign in with the suite's password."""
    for role in roles:
        user = study.user(role)
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])


def _open(page: Any, url: str) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(url)
    app = page.get_by_test_id("dashboard")
    expect(app).to_have_attribute("data-state", "ready")
    expect(app).to_have_attribute("data-charts", "ready")


def _downloads_of_every_chart(page: Any, out: Path) -> int:
    """Download each drawn chart as PNG and SVG; every file must be non-empty and of its type.
    The page is opened again after every few charts: past a handful of downloads in one page
    view Chromium may start asking before each further one, which headless never answers."""
    names = [
        str(c.get_attribute("data-chart"))
        for c in page.locator("[data-chart][data-state=ready]").all()
    ]
    for k, name in enumerate(names):
        if k and k % 4 == 0:
            _open(page, page.url)
        chart = page.locator(f"[data-chart='{name}']")
        for kind in ("png", "svg"):
            with page.expect_download() as download:
                chart.get_by_test_id(f"chart-{name}-{kind}").click()
            path = out / f"{name}.{kind}"
            download.value.save_as(str(path))
            data = path.read_bytes()
            assert len(data) > 200, (name, kind, len(data))
            if kind == "png":
                assert data.startswith(b"\x89PNG"), name
            else:
                assert b"<svg" in data[:400], name
    return len(names)


def _shown(page: Any, name: str) -> None:
    """Nothing on the page reads NaN or undefined; a 1440 x 900 screenshot for the record."""
    text = page.get_by_test_id("dashboard").inner_text()
    assert "NaN" not in text
    assert "undefined" not in text
    screenshot(page, name)


def test_a_leads_dashboard_updates_when_another_browser_signs_a_gold_read(
    page_for, asgi_server, tmp_path: Path
) -> None:
    study, pending = _study()
    slug = study.project.slug
    lead = page_for(study.user("lead").username, PASSWORD)
    lead.goto(f"{asgi_server.url}/projects/{slug}/")
    lead.get_by_test_id("dashboard-progress-link").click()
    _open(lead, lead.url)
    gold = lead.get_by_test_id("kpi-gold-value")
    expect(gold).to_have_text("8")
    expect(lead.get_by_test_id("kpi-backlog-value")).to_have_text("2")
    lead.evaluate("() => { window.dashUiNoReload = true; }")
    version = int(lead.get_by_test_id("dashboard").get_attribute("data-version") or 0)

    reviewer = page_for(study.user("reviewer").username, PASSWORD)
    reviewer.goto(f"{asgi_server.url}/cases/{pending.pk}/review")
    expect(reviewer.get_by_test_id("gold-status")).to_have_text("Gold not signed")
    reviewer.get_by_test_id("sign").click()
    expect(reviewer.get_by_test_id("gold-status")).to_contain_text("Gold signed by")

    # The live event refetches the progress: the lead's page shows it without a reload.
    expect(gold).to_have_text("9")
    expect(lead.get_by_test_id("kpi-backlog-value")).to_have_text("1")
    assert lead.evaluate("() => window.dashUiNoReload === true")
    assert int(lead.get_by_test_id("dashboard").get_attribute("data-version") or 0) > version
    expect(lead.get_by_test_id("dashboard")).to_have_attribute("data-charts", "ready")
    _shown(lead, "dashboard_progress")
    assert _downloads_of_every_chart(lead, tmp_path) >= 3

    # Model agreement: groups against gold, charts drawn, each downloadable.
    _open(lead, f"{asgi_server.url}/projects/{slug}/dashboards/agreement")
    expect(lead.get_by_test_id("kpi-n-gold-value")).to_have_text("9")
    expect(lead.get_by_test_id("overlap-table")).to_contain_text("unet v1")
    expect(lead.get_by_test_id("icc-table")).to_contain_text("MSCC")
    _shown(lead, "dashboard_agreement")
    lead.locator("[data-chart^=ba-]").first.scroll_into_view_if_needed()
    screenshot(lead, "dashboard_agreement_bland_altman")
    assert _downloads_of_every_chart(lead, tmp_path) >= 4

    # The split filter is kept in the URL and refetches.
    version = int(lead.get_by_test_id("dashboard").get_attribute("data-version") or 0)
    lead.get_by_test_id("filter-split").select_option("test")
    expect(lead).to_have_url(re.compile(r"\?split=test$"))
    expect(lead.get_by_test_id("dashboard")).not_to_have_attribute("data-version", str(version))
    expect(lead.get_by_test_id("kpi-n-gold-value")).to_have_text("3")
    lead.reload()
    expect(lead.get_by_test_id("filter-split")).to_have_value("test")
    expect(lead.get_by_test_id("kpi-n-gold-value")).to_have_text("3")


def test_an_empty_project_says_what_is_missing_and_an_annotator_is_refused(
    page_for, asgi_server
) -> None:
    study = study_create(seed=3, versions=1)
    study.new_case(split="test")
    _passwords(study, "lead", "annotator")
    slug = study.project.slug
    lead = page_for(study.user("lead").username, PASSWORD)
    _open(lead, f"{asgi_server.url}/projects/{slug}/dashboards/agreement")
    expect(lead.get_by_test_id("agreement-empty")).to_contain_text("no gold yet")
    expect(lead.get_by_test_id("chart-dice-empty")).to_contain_text("not enough data (n = 0)")
    expect(lead.get_by_test_id("chart-trend-empty")).to_contain_text("needs two model versions")
    _shown(lead, "dashboard_agreement_empty")
    _open(lead, f"{asgi_server.url}/projects/{slug}/dashboards/progress")
    expect(lead.get_by_test_id("kpi-forecast-value")).to_contain_text("not enough data")
    _shown(lead, "dashboard_progress_empty")

    annotator = page_for(
        study.user("annotator").username, PASSWORD, allow=(r"403.*/dashboards/progress",)
    )
    response = annotator.goto(f"{asgi_server.url}/projects/{slug}/dashboards/progress")
    assert response is not None
    assert response.status == 403
