"""The PACS page in Chromium (issue 15 §3): a lead connects the project to the real Orthanc,
searches by accession number, sees what the PACS returns, imports the study and watches the
import finish live; an annotator is refused the page and sees the case only by pseudonym.

The task worker runs in the test process (`worker --batch`); its progress reaches the open
page through the outbox relay and the project socket.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from annotation.models import Case
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot
from tests.pacs import orthanc
from tests.pacs.conftest import Pacs, pacs_server  # noqa: F401 - the session's Orthanc
from tests.pacs.studies import REAL_IDENTIFIERS

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]


def test_a_lead_connects_searches_and_imports_and_an_annotator_sees_only_the_pseudonym(
    page_for: Any,
    asgi_server: Any,
    project: Any,
    cast: Any,
    pacs_server: Pacs,  # noqa: F811
) -> None:
    page = page_for("lead", PASSWORD)
    page.goto(f"{asgi_server.url}/projects/{project.slug}/settings/")
    page.get_by_test_id("pacs-link").click()
    page.wait_for_url(f"{asgi_server.url}/projects/{project.slug}/pacs/")
    expect(page.locator("#pacs")).to_have_attribute("data-live", "on")  # the project socket
    expect(page.get_by_test_id("pacs-connection-status")).to_have_text(
        "Not connected to a PACS yet."
    )
    page.get_by_test_id("pacs-base_url").fill(pacs_server.url)
    page.get_by_test_id("pacs-username").fill(orthanc.USER)
    page.get_by_test_id("pacs-password").fill(orthanc.PASSWORD)
    page.get_by_test_id("pacs-save").click()
    expect(page.get_by_test_id("pacs-connection-status")).to_contain_text(
        "password stored encrypted"
    )
    expect(page.get_by_test_id("pacs-password")).to_have_value("")

    page.get_by_test_id("pacs-accession_number").fill(REAL_IDENTIFIERS["AccessionNumber"])
    page.get_by_test_id("pacs-search").click()
    rows = page.get_by_test_id("pacs-results").locator("tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(REAL_IDENTIFIERS["PatientName"])  # leads see the PACS
    expect(rows.first).to_contain_text("T2 SAG real (52)")
    rows.first.get_by_test_id("pacs-pick").check()
    page.get_by_test_id("pacs-import").click()
    job = page.get_by_test_id("pacs-imports").locator("tr").first
    expect(job).to_have_attribute("data-status", "queued")

    call_command("worker", batch=True)
    expect(job).to_have_attribute("data-status", "succeeded", timeout=20000)  # live, no reload
    expect(job.get_by_test_id("pacs-import-progress")).to_have_text(
        "Imported 52 images in 1 series (1 cases)"
    )
    pseudonym = Case.objects.get(project=project).pseudonym
    expect(job).to_contain_text(pseudonym)
    page.get_by_test_id("pacs-search").click()
    expect(rows.first.get_by_test_id("pacs-imported-as")).to_have_text(pseudonym)
    screenshot(page, "pacs-page-lead")

    annotator = page_for("annotator", PASSWORD, allow=(r"/pacs/",))
    reply = annotator.goto(f"{asgi_server.url}/projects/{project.slug}/pacs/")
    assert reply is not None
    assert reply.status == 403
    annotator.goto(f"{asgi_server.url}/projects/{project.slug}/")
    expect(annotator.get_by_text(pseudonym)).to_be_visible()
    content = annotator.content()
    for value in REAL_IDENTIFIERS.values():
        assert value not in content
