"""A browser that loses the network while editing: the edits stay in the browser (also when
the tab is closed), and reach the server once it is back, on top of the last saved revision.

The conflict part (someone else saved meanwhile: both versions shown, nothing overwritten)
is step 6 of test_annotate_case.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import start_my_read, to_client, wait_for_head, wait_for_viewer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
# What the browser logs while it is offline, on purpose.
OFFLINE_ERRORS = ("ERR_INTERNET_DISCONNECTED",)


def _open(page: Any, url: str, case_id: int, *, start: bool = False) -> int:
    """Open the case page; `start` creates the user's read (opening a case creates none)."""
    page.goto(f"{url}/cases/{case_id}/")
    wait_for_viewer(page)
    if start:
        return start_my_read(page)
    expect(page.get_by_test_id("save-status")).not_to_have_text("\u2014")
    return int(page.get_by_test_id("read-select").input_value())


def _add_point(page: Any, x: float, y: float) -> None:
    page.get_by_test_id("tool-point").click()
    page.mouse.click(*to_client(page, "sagittal", x, y))


def _count(head: dict[str, Any]) -> int:
    return sum(len(shapes) for shapes in head["shapes"].values())


def _stored_head_id(read_id: int) -> int | None:
    from annotation.models import Read

    return Read.objects.get(pk=read_id).head_id


@pytest.mark.usefixtures("cast")
def test_offline_edits_are_saved_when_the_browser_is_back_online(
    page_for: Any, asgi_server: Any, case: Any
) -> None:
    page = page_for("annotator", PASSWORD, allow=OFFLINE_ERRORS)
    read_id = _open(page, asgi_server.url, case.pk, start=True)
    _add_point(page, 10, 10)
    first = wait_for_head(page, read_id, lambda head: _count(head) == 1)

    page.context.set_offline(True)
    _add_point(page, 20, 20)
    _add_point(page, 30, 12)
    expect(page.get_by_test_id("save-status")).to_have_attribute("data-state", "offline")
    assert _stored_head_id(read_id) == first["id"]  # nothing reached the server

    page.context.set_offline(False)
    replayed = wait_for_head(page, read_id, lambda head: _count(head) == 3, timeout_s=60)
    assert replayed["parent"] == first["id"]
    assert replayed["number"] == first["number"] + 1


@pytest.mark.usefixtures("cast")
def test_a_draft_made_offline_survives_closing_the_tab_and_is_saved_on_return(
    page_for: Any, asgi_server: Any, case: Any
) -> None:
    page = page_for("annotator", PASSWORD, allow=OFFLINE_ERRORS)
    read_id = _open(page, asgi_server.url, case.pk, start=True)
    _add_point(page, 10, 10)
    first = wait_for_head(page, read_id, lambda head: _count(head) == 1)

    context = page.context
    context.set_offline(True)
    _add_point(page, 25, 30)
    expect(page.get_by_test_id("save-status")).to_have_attribute("data-state", "offline")
    page.close()
    assert _stored_head_id(read_id) == first["id"]

    context.set_offline(False)
    again = context.new_page()
    _open(again, asgi_server.url, case.pk)
    saved = wait_for_head(again, read_id, lambda head: _count(head) == 2, timeout_s=30)
    assert saved["parent"] == first["id"]
    expect(again.get_by_test_id("shape-row")).to_have_count(2)
