"""The review page (issue 9, item 5) in Chromium at 1440 x 900: the annotator's and the
model's reads of the phantom overlaid and toggled, agreement and measurements side by side,
the cord taken from the annotator and the corners from the model, a comment pinned on the
sagittal slice, the gold signed; a second reviewer who signs too sees the 409 explained."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from annotation.models import Case, CaseState, GoldSignature, Read, ReadKind
from annotation.services.revisions import revision_create
from fixtures.phantom import labelme_truth
from tests.conftest import PASSWORD
from tests.e2e.conftest import (
    PhantomStudy,
    allow_errors,
    api_get,
    canvas_signature,
    case_image,
    screenshot,
    shifted_shapes,
    to_client,
    wait_canvas_changed,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]


def _reads(case: Case, phantom: Any, annotator: Any) -> dict[str, Read]:
    sagittal = labelme_truth(phantom, view="sagittal", image_path="s.png")
    axial = labelme_truth(phantom, view="axial", image_path="a.png")
    sag = case_image(case, "sagittal", phantom.sagittal_truth.mid_index)
    ax = case_image(case, "axial", phantom.axial_truth.narrowest_index)
    reads = {}
    for name, kind, author, dx in (
        ("annotator", ReadKind.HUMAN, annotator, 0.0),
        ("model", ReadKind.MODEL, None, 3.0),
    ):
        label = "" if author else "model · sagittal"
        read = Read.objects.create(case=case, kind=kind, author=author, name=label)
        shapes = {
            str(sag.pk): shifted_shapes(sagittal["shapes"], dx),
            str(ax.pk): shifted_shapes(axial["shapes"], dx),
        }
        revision_create(read=read, parent_id=None, shapes=shapes, author=author)
        reads[name] = read
    Case.objects.filter(pk=case.pk).update(state=CaseState.IN_REVIEW)
    return reads


def _review_page(page_for: Any, url: str, who: str) -> Any:
    page = page_for(who, PASSWORD)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(url)
    expect(page.get_by_test_id("agreement-table")).to_be_visible()
    for slot in ("sagittal", "axial"):
        expect(page.get_by_test_id(f"viewport-{slot}")).to_have_attribute("data-state", "ready")
    return page


def test_a_reviewer_takes_pins_and_signs_and_a_late_signer_is_told_who_won(
    page_for, asgi_server, cast, project, phantom_case, phantom_study: PhantomStudy
) -> None:
    phantom = phantom_study.phantom
    reads = _reads(phantom_case, phantom, cast["annotator"])
    url = f"{asgi_server.url}/cases/{phantom_case.pk}/review"
    page = _review_page(page_for, url, "reviewer")
    late = _review_page(page_for, url, "lead")

    # Both reads listed in their colours, compared structure by structure, measured.
    for read in reads.values():
        expect(page.locator(f".review-read[data-read='{read.pk}']")).to_be_visible()
    cord = page.locator("[data-testid=agreement-table] tr[data-structure=cord] td").nth(1)
    expect(cord).to_have_text(re.compile(r"^0\.\d{3}$"))
    expect(page.get_by_test_id("measurements-table")).to_contain_text("MSCC")

    # Hiding the model's read changes the sagittal image.
    before = canvas_signature(page, "viewport-sagittal")["hash"]
    page.get_by_test_id(f"show-read-{reads['model'].pk}").uncheck()
    wait_canvas_changed(page, "viewport-sagittal", before)
    page.get_by_test_id(f"show-read-{reads['model'].pk}").check()

    # Cord from the annotator, corners from the model.
    page.get_by_test_id("take-cord").select_option(str(reads["annotator"].pk))
    page.get_by_test_id("take-cord-button").click()
    expect(page.locator(".review-read[data-key=gold]")).to_contain_text("rev 1")
    page.get_by_test_id("take-corners").select_option(str(reads["model"].pk))
    page.get_by_test_id("take-corners-button").click()
    expect(page.locator(".review-read[data-key=gold]")).to_contain_text("rev 2")
    gold = Read.objects.get(case=phantom_case, kind=ReadKind.GOLD)
    head = api_get(page, f"/api/reads/{gold.pk}")["revision"]
    labels = {s["label"] for shapes in head["shapes"].values() for s in shapes}
    assert "cord" in labels
    assert "C3_AS" in labels
    assert "canal" not in labels

    # A comment pinned on the sagittal slice, about the annotator's read.
    page.get_by_test_id("pin-mode").click()
    x, y = to_client(page, "sagittal", 100, 120)
    page.mouse.click(x, y)
    page.get_by_test_id("comment-body").fill("C5 anterior-superior corner sits a level low")
    page.get_by_test_id("comment-post").click()
    expect(page.locator(".thread")).to_have_count(1)
    (comment,) = api_get(page, f"/api/cases/{phantom_case.pk}/comments")
    assert comment["read"] == reads["annotator"].pk
    assert abs(comment["x"] - 100) < 1.5
    assert abs(comment["y"] - 120) < 1.5

    # Sign; the lead, whose page still shows the unsigned gold, signs too and is told why not.
    page.get_by_test_id("sign").click()
    expect(page.get_by_test_id("gold-status")).to_contain_text("Gold signed by reviewer")
    expect(page.get_by_test_id("case-state")).to_have_text("gold")
    screenshot(page, "review_page_signed")
    # The late signer's 409 is the point of this step: the page explains it.
    allow_errors(late, r"409.*/gold/sign")
    late.get_by_test_id("sign").click()
    banner = late.get_by_test_id("review-banner")
    expect(banner).to_contain_text("Not signed (409)")
    expect(banner).to_contain_text("Signed by reviewer")
    screenshot(late, "review_page_late_signer")
    assert GoldSignature.objects.get().signed_by == cast["reviewer"]

    # "Edit gold" opens the annotator on the gold read, editable by the reviewer.
    page.get_by_test_id("edit-gold").click()
    expect(page.get_by_test_id("read-select")).to_have_value(str(gold.pk))
    expect(page.locator("[data-testid=read-select] option:checked")).not_to_contain_text("(view)")
    assert not Read.objects.filter(case=phantom_case, author=cast["reviewer"]).exists()


def test_a_returned_case_shows_the_reviewers_pins_to_its_annotator(
    page_for, asgi_server, cast, project, phantom_case, phantom_study: PhantomStudy
) -> None:
    reads = _reads(phantom_case, phantom_study.phantom, cast["annotator"])
    page = _review_page(page_for, f"{asgi_server.url}/cases/{phantom_case.pk}/review", "reviewer")
    page.get_by_test_id("pin-mode").click()
    x, y = to_client(page, "sagittal", 90, 140)
    page.mouse.click(x, y)
    expect(page.get_by_test_id("comment-read")).to_have_value(str(reads["annotator"].pk))
    page.get_by_test_id("comment-body").fill("The canal includes epidural fat here")
    page.get_by_test_id("comment-post").click()
    expect(page.locator(".thread")).to_have_count(1)
    page.get_by_test_id("return").click()
    page.get_by_test_id("return-reason").fill("canal outline")
    page.get_by_test_id("return-confirm").click()
    expect(page.get_by_test_id("case-state")).to_have_text("returned")

    annotator = page_for("annotator", PASSWORD)
    annotator.goto(f"{asgi_server.url}/cases/{phantom_case.pk}/")
    section = annotator.get_by_test_id("review-comments-section")
    expect(section).to_contain_text("The canal includes epidural fat here")
    before = canvas_signature(annotator, "viewport-sagittal")["hash"]
    section.locator(".row").first.click()
    wait_canvas_changed(annotator, "viewport-sagittal", before)
    mid = phantom_study.phantom.sagittal_truth.mid_index
    expect(annotator.get_by_test_id("viewport-sagittal")).to_have_attribute(
        "data-slice-index", str(mid)
    )
    screenshot(annotator, "review_pins_on_case_page")
