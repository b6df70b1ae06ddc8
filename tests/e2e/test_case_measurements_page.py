"""The per-case measurement page (issue 12 §3) in Chromium at 1440 x 900: the annotator's,
the model's and the signed gold read of the phantom side by side, every shown value equal to
the API's, a click on a value shows its image with the chords drawn; a blinded annotator sees
only their own read and the model's."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from annotation.models import Case, CaseState, Read, ReadKind
from annotation.services.gold import gold_read_get_or_create, gold_sign
from annotation.services.revisions import revision_create
from fixtures.phantom import labelme_truth
from tests.conftest import PASSWORD
from tests.e2e.conftest import (
    PhantomStudy,
    api_get,
    canvas_signature,
    case_image,
    screenshot,
    shifted_shapes,
    wait_canvas_changed,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]

KEYS = ("mscc_percent", "mcc_percent", "d_i_level", "d_i", "D_i", "ta", "cr")


def _reads(case: Case, phantom: Any, cast: dict[str, Any]) -> dict[str, Read]:
    sagittal = labelme_truth(phantom, view="sagittal", image_path="s.png")
    axial = labelme_truth(phantom, view="axial", image_path="a.png")
    sag = case_image(case, "sagittal", phantom.sagittal_truth.mid_index)
    ax = case_image(case, "axial", phantom.axial_truth.narrowest_index)
    reads = {}
    for name, kind, author, dx in (
        ("annotator", ReadKind.HUMAN, cast["annotator"], 0.0),
        ("model", ReadKind.MODEL, None, 3.0),
    ):
        read = Read.objects.create(case=case, kind=kind, author=author, name="" if author else "v1")
        shapes = {
            str(sag.pk): shifted_shapes(sagittal["shapes"], dx),
            str(ax.pk): shifted_shapes(axial["shapes"], dx),
        }
        revision_create(read=read, parent_id=None, shapes=shapes, author=author)
        reads[name] = read
    Case.objects.filter(pk=case.pk).update(state=CaseState.IN_REVIEW)
    gold, _ = gold_read_get_or_create(case=case, user=cast["lead"], role="lead")
    shapes = {str(sag.pk): shifted_shapes(sagittal["shapes"], 1.0), str(ax.pk): axial["shapes"]}
    # Gold also draws the slice the phantom placed at C3/4: its sagittal corners name it.
    disc = phantom.axial_truth.level_names.index("C3/C4")
    at_disc = labelme_truth(phantom, view="axial", image_path="a.png", index=disc)
    shapes[str(case_image(case, "axial", disc).pk)] = at_disc["shapes"]
    head = revision_create(read=gold, parent_id=None, shapes=shapes, author=cast["lead"])
    gold_sign(case=case, user=cast["lead"], role="lead", revision_id=head.pk)
    reads["gold"] = gold
    return reads


def _open(page: Any, url: str) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(url)
    expect(page.locator("#measurements-app")).to_have_attribute("data-state", "ready")


def _shown(page: Any, key: str, read: int) -> str:
    cell = page.locator(f"td[data-cell='{key}|{read}']")
    return str(cell.get_attribute("data-value"))


def _expected(result: dict[str, Any] | None, key: str) -> str:
    value = None if result is None else result["values"].get(key)
    return "" if value is None else str(value)


def test_every_visible_read_side_by_side_equal_to_the_api_and_linked_to_its_chords(
    page_for, asgi_server, cast, project, phantom_case, phantom_study: PhantomStudy
) -> None:
    reads = _reads(phantom_case, phantom_study.phantom, cast)
    page = page_for("lead", PASSWORD)
    _open(page, f"{asgi_server.url}/cases/{phantom_case.pk}/measurements")
    for slot in ("sagittal", "axial"):
        expect(page.get_by_test_id(f"viewport-{slot}")).to_have_attribute("data-state", "ready")
    api = api_get(page, f"/api/cases/{phantom_case.pk}/measurements")
    assert {r["id"] for r in api["reads"]} == {r.pk for r in reads.values()}
    for read in api["reads"]:
        sagittal = next((x for x in read["results"] if "mscc_percent" in x["values"]), None)
        assert sagittal is not None, f"read {read['id']} has an MSCC"
        axial = [x for x in read["results"] if x["values"].get("ta") is not None]
        narrowest = min(axial, key=lambda x: x["values"]["ta"]) if axial else None
        for key in KEYS:
            result = narrowest if key in ("ta", "cr") else sagittal
            assert _shown(page, key, read["id"]) == _expected(result, key), (read["id"], key)
        # The per-level table: each axial image's cord area of this read.
        for x in axial:
            shown = _shown(page, f"{x['image']}:ta", read["id"])
            assert shown == str(x["values"]["ta"])
    expect(page.locator("[data-testid=cm-table-main] th[data-kind=gold]")).to_contain_text("signed")
    # The per-level table heads the C3/4 slice with its level and the corners that placed it.
    c34 = page.locator("[data-testid=cm-table-levels] tr.cm-group[data-level='C3/4']")
    expect(c34).to_have_count(1)
    expect(c34).to_contain_text("sagittal corners of")
    gold_levels = next(r["levels"] for r in api["reads"] if r["id"] == reads["gold"].pk)
    names = phantom_study.phantom.axial_truth.level_names
    disc = case_image(phantom_case, "axial", names.index("C3/C4"))
    placed = next(x for x in gold_levels if x["image"] == disc.pk)
    assert (placed["level"], placed["origin"]) == ("C3/4", "corners")

    # A click on the annotator's MSCC shows the sagittal image it was measured on, chords drawn.
    annotator = reads["annotator"].pk
    before = canvas_signature(page, "viewport-sagittal")["hash"]
    page.locator(f"td[data-cell='mscc_percent|{annotator}'] button").click()
    app = page.locator("#measurements-app")
    expect(app).to_have_attribute("data-overlay", "ready")
    sag = case_image(phantom_case, "sagittal", phantom_study.phantom.sagittal_truth.mid_index)
    expect(app).to_have_attribute("data-selected-image", str(sag.pk))
    expect(page.get_by_test_id("viewport-sagittal")).to_have_attribute(
        "data-slice-index", str(phantom_study.phantom.sagittal_truth.mid_index)
    )
    wait_canvas_changed(page, "viewport-sagittal", before)
    expect(page.get_by_test_id("overlay-caption")).to_contain_text("chords")
    screenshot(page, "case_measurements_lead")

    # The model's TA opens the axial slice at the narrowest level.
    before = canvas_signature(page, "viewport-axial")["hash"]
    page.locator(f"td[data-cell='ta|{reads['model'].pk}'] button").click()
    ax = case_image(phantom_case, "axial", phantom_study.phantom.axial_truth.narrowest_index)
    expect(app).to_have_attribute("data-selected-image", str(ax.pk))
    wait_canvas_changed(page, "viewport-axial", before)


def test_a_blinded_annotator_sees_their_own_read_and_the_models_only(
    page_for, asgi_server, cast, project, phantom_case, phantom_study: PhantomStudy
) -> None:
    reads = _reads(phantom_case, phantom_study.phantom, cast)
    page = page_for("annotator", PASSWORD)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{asgi_server.url}/cases/{phantom_case.pk}/")
    page.get_by_test_id("measurements-link").click()
    expect(page.locator("#measurements-app")).to_have_attribute("data-state", "ready")
    heads = page.locator("[data-testid=cm-table-main] th[data-read]")
    expect(heads).to_have_count(2)
    shown = {int(h.get_attribute("data-read") or 0) for h in heads.all()}
    assert shown == {reads["annotator"].pk, reads["model"].pk}
    expect(page.locator("#measurements-app")).not_to_contain_text("Gold standard")
    screenshot(page, "case_measurements_annotator")
