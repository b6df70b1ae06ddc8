"""Next case and Submit in Chromium (issue 9, items 3 and 4): the annotator takes the next case
from the case list, the page keeps the claim, the submit dialog lists what the read lacks and
wants a reason before handing it in anyway; the case badge turns "submitted" live."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from annotation.models import CaseState, Claim, ReadSubmission, ReleaseReason
from tests.conftest import PASSWORD
from tests.e2e.conftest import api_get, screenshot, wait_for_viewer

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]


def test_next_case_then_submit_with_an_override(
    page_for, asgi_server, cast, project, phantom_case
) -> None:
    page = page_for("annotator", PASSWORD)
    page.goto(f"{asgi_server.url}/projects/{project.slug}/")
    page.get_by_test_id("next-case").click()
    page.wait_for_url(re.compile(rf"/cases/{phantom_case.pk}/\?claim=\d+$"))
    claim = Claim.objects.get(case=phantom_case, user=cast["annotator"])
    assert page.url.endswith(f"?claim={claim.pk}")
    wait_for_viewer(page)
    expect(page.get_by_test_id("case-state")).to_have_text(CaseState.IN_ANNOTATION)
    # Opening a case does not make a read: the annotator starts theirs.
    page.get_by_test_id("start-read").click()
    page.wait_for_function("() => document.querySelector('[data-testid=read-select]').value !== ''")

    page.get_by_test_id("submit-read").click()
    dialog = page.get_by_test_id("submit-dialog")
    expect(dialog).to_be_visible()
    missing = dialog.get_by_test_id("submit-missing")
    expect(missing.first).to_contain_text("cord and canal on the sagittal mid-slice")
    assert missing.count() >= 3
    screenshot(page, "submit-dialog-missing")
    dialog.get_by_test_id("submit-confirm").click()
    expect(dialog.get_by_test_id("submit-error")).to_contain_text("Write why")
    assert not ReadSubmission.objects.exists()

    dialog.get_by_test_id("submit-override").fill("Motion artefacts: cord not traceable")
    dialog.get_by_test_id("submit-confirm").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("case-state")).to_have_text(CaseState.SUBMITTED)
    assert api_get(page, f"/api/cases/{phantom_case.pk}")["state"] == CaseState.SUBMITTED
    submission = ReadSubmission.objects.get()
    assert submission.override_reason == "Motion artefacts: cord not traceable"
    claim.refresh_from_db()
    assert claim.release_reason == ReleaseReason.SUBMITTED


def test_the_queue_says_when_nothing_is_left(page_for, asgi_server, cast, project) -> None:
    page = page_for("annotator", PASSWORD)
    page.goto(f"{asgi_server.url}/projects/{project.slug}/")
    page.get_by_test_id("next-case").click()
    expect(page.get_by_test_id("toasts")).to_contain_text("Nothing is left in your queue.")
