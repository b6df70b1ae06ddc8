"""The case list answers questions (issue 10 §6): each row's kind (real or phantom), the
model's pre-label and version, the user's own read, the last change in relative time (the
absolute time on hover); the views mine / to do / done kept in the URL; the keyboard moves
through the rows (j/k or the arrows) and Enter opens the case."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from annotation.ingest import ingest_paths
from annotation.models import Case, Image, Read, ReadKind
from annotation.services.revisions import revision_create
from fixtures.real import real_volume
from tests.conftest import PASSWORD
from tests.e2e.conftest import PhantomStudy, import_study, screenshot

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]

SHAPE = {"label": "cord", "shape_type": "polygon", "points": [[10, 10], [30, 10], [30, 40]]}


def _first_image(case: Case) -> Image:
    return Image.objects.filter(series__case=case).order_by("series__number", "index")[0]


@pytest.fixture
def two_cases(project: Any, cast: dict[str, Any], phantom_study: PhantomStudy) -> tuple[Case, Case]:
    """The real sagittal T2 with a model read, and a phantom with the annotator's read."""
    summary = ingest_paths(project=project, paths=[real_volume("sct_example_t2").path])
    real = Case.objects.get(pk=summary.cases[0].id)
    model = Read.objects.create(case=real, kind=ReadKind.MODEL, name="model · sagittal #3")
    revision_create(read=model, parent_id=None, shapes={str(_first_image(real).pk): [SHAPE]})
    phantom = import_study(project, phantom_study.folder)
    mine = Read.objects.create(case=phantom, kind=ReadKind.HUMAN, author=cast["annotator"])
    image = str(_first_image(phantom).pk)
    revision_create(read=mine, parent_id=None, shapes={image: [SHAPE]}, author=cast["annotator"])
    return real, phantom


def _row(page: Any, case: Case) -> Any:
    return page.locator(f"tr[data-case-id='{case.pk}']")


def test_each_row_says_kind_prelabel_my_read_and_when(
    page_for: Any, asgi_server: Any, two_cases: tuple[Case, Case]
) -> None:
    real, phantom = two_cases
    page = page_for("annotator", PASSWORD)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{asgi_server.url}/projects/cervical/")
    expect(page.get_by_test_id(f"case-kind-{real.pk}")).to_have_text("real")
    expect(page.get_by_test_id(f"case-kind-{phantom.pk}")).to_have_text("phantom")
    expect(page.get_by_test_id(f"prelabel-{real.pk}")).to_have_text("sagittal #3")
    expect(page.get_by_test_id(f"prelabel-{phantom.pk}")).to_have_text("none")
    expect(page.get_by_test_id(f"my-read-{phantom.pk}")).to_have_text("in progress · 1 rev.")
    expect(page.get_by_test_id(f"my-read-{real.pk}")).to_have_text("—")
    when = page.get_by_test_id(f"last-change-{phantom.pk}")
    expect(when).to_have_text("just now")
    # The absolute time on hover, in the browser's locale (not the raw ISO string).
    title = str(when.get_attribute("title"))
    assert title != when.get_attribute("datetime"), title
    assert re.search(r"\d", title), title
    assert "T" not in title, title
    expect(page.get_by_test_id(f"job-{real.pk}")).to_have_attribute("data-status", "none")
    screenshot(page, "caselist-annotator")


def test_the_views_filter_and_stay_in_the_url(
    page_for: Any, asgi_server: Any, two_cases: tuple[Case, Case]
) -> None:
    real, phantom = two_cases
    page = page_for("annotator", PASSWORD)
    page.goto(f"{asgi_server.url}/projects/cervical/")
    page.get_by_test_id("view-mine").click()
    page.wait_for_url(re.compile(r"\?view=mine"))
    expect(page.get_by_test_id("case-row")).to_have_count(1)
    expect(_row(page, phantom)).to_be_visible()
    expect(page.get_by_test_id("view-mine")).to_have_attribute("aria-current", "page")
    # The state filter keeps the view.
    page.locator("select[name=state]").select_option("new")
    page.wait_for_url(re.compile(r"view=mine.*state=new|state=new.*view=mine"))
    page.get_by_test_id("view-todo").click()
    page.wait_for_url(re.compile(r"\?view=todo"))
    expect(page.get_by_test_id("case-row")).to_have_count(2)  # neither read is submitted
    page.get_by_test_id("view-done").click()
    page.wait_for_url(re.compile(r"\?view=done"))
    expect(page.get_by_test_id("case-row")).to_have_count(0)
    expect(page.locator("td.empty")).to_have_text("No case in this view.")
    page.get_by_test_id("view-all").click()
    expect(page.get_by_test_id("case-row")).to_have_count(2)
    assert real.pk != phantom.pk


def test_the_keyboard_moves_through_the_list_and_enter_opens(
    page_for: Any, asgi_server: Any, two_cases: tuple[Case, Case]
) -> None:
    first, second = sorted(two_cases, key=lambda c: c.pk)
    page = page_for("lead", PASSWORD)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{asgi_server.url}/projects/cervical/")
    expect(page.get_by_test_id("caselist-live")).to_have_attribute("data-live", "on")
    page.keyboard.press("j")
    expect(_row(page, first)).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("ArrowDown")
    expect(_row(page, second)).to_have_class(re.compile(r"\bcurrent\b"))
    expect(_row(page, first)).not_to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("j")  # the last row stays current
    expect(_row(page, second)).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("k")
    expect(_row(page, first)).to_have_class(re.compile(r"\bcurrent\b"))
    screenshot(page, "caselist-lead")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{asgi_server.url}/cases/{first.pk}/")
    expect(page.get_by_test_id("case-title")).to_have_text(first.pseudonym)
