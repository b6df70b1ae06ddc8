"""The exports page (issue 15): a lead chooses the gold standard and two formats, the worker
(run in the test process) writes the zip, the page follows the progress live and offers the
download, whose archive holds both formats."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot
from tests.exports.conftest import study  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]


@pytest.mark.usefixtures("study")
def test_a_lead_exports_gold_and_downloads_it_from_the_page(
    page_for: Any, asgi_server: Any, project: Any, tmp_path: Path
) -> None:
    page = page_for("lead", PASSWORD)
    page.goto(f"{asgi_server.url}/projects/{project.slug}/")
    page.get_by_test_id("exports-link").click()
    page.wait_for_url(f"{asgi_server.url}/projects/{project.slug}/exports")
    form = page.get_by_test_id("export-form")
    expect(form).to_be_visible()
    # Nothing chosen: the page says what is missing and sends nothing.
    page.get_by_test_id("export-start").click()
    expect(page.get_by_test_id("export-message")).to_have_text("Choose at least one format.")
    page.get_by_test_id("export-split").select_option("test")
    page.get_by_test_id("export-kind").select_option("gold")
    page.get_by_test_id("export-format-csv").check()
    page.get_by_test_id("export-format-coco").check()
    page.get_by_test_id("export-start").click()
    row = page.get_by_test_id("export-row").first
    expect(row).to_have_attribute("data-status", "queued")
    expect(row).to_contain_text("gold standard, test split")

    call_command("worker", batch=True, interval=0)

    expect(row).to_have_attribute("data-status", "succeeded")
    expect(row.get_by_test_id("export-status")).to_contain_text("ready (1 case,")
    screenshot(page, "exports-page-ready")
    with page.expect_download() as info:
        row.get_by_test_id("export-download").click()
    target = tmp_path / "export.zip"
    info.value.save_as(target)
    names = zipfile.ZipFile(target).namelist()
    assert {name.split("/")[0] for name in names} == {"csv", "coco"}
