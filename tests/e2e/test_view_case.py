"""Viewing a case (issue 2): sign in, find the case, scroll slices, window/level, presets, invert;
an outsider who types the case URL is told it does not exist."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import canvas_signature, screenshot, wait_for_viewer

# One xdist group for `--dist loadgroup`: one server and one Chromium, not one per worker.
# (pytest 9.2 with xdist 3.8 ignores groups: xdist sets item._nodeid, pytest 9 reads _id.)
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]


def _label(page: Any, testid: str) -> str:
    return str(page.get_by_test_id(testid).text_content() or "")


def _wait_label_change(page: Any, testid: str, before: str) -> str:
    page.wait_for_function(
        "([id, old]) => document.querySelector(`[data-testid=${id}]`).textContent !== old",
        arg=[testid, before],
    )
    return _label(page, testid)


def _wait_label(page: Any, testid: str, text: str) -> None:
    page.wait_for_function(
        "([id, text]) => document.querySelector(`[data-testid=${id}]`).textContent === text",
        arg=[testid, text],
    )


def _sign_in_through_the_case_url(page: Any, url: str, case_id: int) -> None:
    page.goto(f"{url}/cases/{case_id}/")
    assert "/accounts/login/" in page.url  # anonymous visitors are sent to sign in
    page.get_by_test_id("login-username").fill("annotator")
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"{url}/cases/{case_id}/")


def _open_from_the_case_list(page: Any, url: str, case: Any) -> None:
    page.goto(f"{url}/")
    page.get_by_test_id("project-link-cervical").click()
    row = page.get_by_test_id("case-row").filter(has_text=case.pseudonym)
    thumb = row.locator("img")
    thumb.scroll_into_view_if_needed()
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
    )
    screenshot(page, "view-case-list")
    row.get_by_test_id("case-link").click()
    page.wait_for_url(f"{url}/cases/{case.pk}/")
    wait_for_viewer(page)
    for slot in ("sagittal", "axial"):
        drawn = canvas_signature(page, f"viewport-{slot}")
        assert drawn["lit"] > 0.05, f"the {slot} viewport shows no image: {drawn}"
    assert _label(page, "slice-label-sagittal") == "Slice 5 / 9"
    assert _label(page, "slice-label-axial") == "Slice 4 / 7"
    assert "0.500 \u00d7 0.500 mm" in _label(page, "spacing-label-sagittal")
    screenshot(page, "view-case-opened")


def _scroll_slices(page: Any, centre: tuple[float, float], before: dict[str, float]) -> None:
    """Wheel over the sagittal viewport: one notch (deltaY 100) moves two slices down; arrow
    keys, Home and End act on the active viewport (the one under the wheel)."""
    page.mouse.move(*centre)
    page.mouse.wheel(0, 100)
    assert _wait_label_change(page, "slice-label-sagittal", "Slice 5 / 9") == "Slice 7 / 9"
    after_wheel = canvas_signature(page, "viewport-sagittal")
    assert after_wheel["hash"] != before["hash"]
    page.keyboard.press("ArrowUp")
    assert _wait_label_change(page, "slice-label-sagittal", "Slice 7 / 9") == "Slice 6 / 9"
    page.keyboard.press("Home")
    assert _wait_label_change(page, "slice-label-sagittal", "Slice 6 / 9") == "Slice 1 / 9"
    page.keyboard.press("End")
    assert _wait_label_change(page, "slice-label-sagittal", "Slice 1 / 9") == "Slice 9 / 9"
    for _ in range(4):
        page.keyboard.press("ArrowUp")
    _wait_label(page, "slice-label-sagittal", "Slice 5 / 9")
    assert canvas_signature(page, "viewport-sagittal")["hash"] == before["hash"]
    assert _label(page, "slice-label-axial") == "Slice 4 / 7"  # the other viewport stays


def _drag_window_level(
    page: Any, centre: tuple[float, float], before: dict[str, float]
) -> dict[str, float]:
    """Left-drag in Navigate is window/level: the label and the pixels change."""
    wl_before = _label(page, "wl-label-sagittal")
    page.mouse.move(*centre)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(centre[0] + 6 * step, centre[1] - 4 * step)
    page.mouse.up()
    _wait_label_change(page, "wl-label-sagittal", wl_before)
    assert _label(page, "preset-label-sagittal") == "Custom"
    dragged = canvas_signature(page, "viewport-sagittal")
    assert dragged["hash"] != before["hash"]
    assert dragged["mean"] != pytest.approx(before["mean"], abs=0.5)
    screenshot(page, "view-case-window-dragged")
    return dragged


def _presets_and_invert(page: Any, wl: dict[str, str], seen: dict[str, dict[str, float]]) -> None:
    """Presets by key: 3 is the bright CSF/cord window, 1 returns to the default one; invert
    says INV and turns bright into dark."""
    before, dragged = seen["before"], seen["dragged"]
    page.keyboard.press("3")
    _wait_label(page, "preset-label-sagittal", "CSF / cord")
    csf = canvas_signature(page, "viewport-sagittal")
    assert _label(page, "wl-label-sagittal") not in {wl["before"], wl["dragged"]}
    assert csf["hash"] not in {before["hash"], dragged["hash"]}
    page.keyboard.press("1")
    _wait_label(page, "preset-label-sagittal", "Default")
    assert _label(page, "wl-label-sagittal") == wl["before"]
    assert canvas_signature(page, "viewport-sagittal")["hash"] == before["hash"]

    page.keyboard.press("i")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=wl-label-sagittal]').textContent"
        ".includes('INV')"
    )
    inverted = canvas_signature(page, "viewport-sagittal")
    assert inverted["hash"] != before["hash"]
    # The black letterbox stays black, so compare the image's brightness the other way round.
    assert inverted["mean"] > before["mean"]
    screenshot(page, "view-case-inverted")
    page.keyboard.press("i")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=wl-label-sagittal]').textContent"
        ".includes('INV')"
    )


def test_a_member_opens_a_case_scrolls_and_windows_it(
    signed_out_page: Any, asgi_server: Any, cast: dict[str, Any], phantom_case: Any
) -> None:
    # Signed out, so that the case URL sends it to sign in; the page is under the same
    # console-error and failed-request check as every browser test.
    page = signed_out_page()
    _sign_in_through_the_case_url(page, asgi_server.url, phantom_case.pk)
    _open_from_the_case_list(page, asgi_server.url, phantom_case)

    box = page.get_by_test_id("viewport-sagittal").bounding_box()
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    before = canvas_signature(page, "viewport-sagittal")
    _scroll_slices(page, centre, before)
    wl_before = _label(page, "wl-label-sagittal")
    dragged = _drag_window_level(page, centre, before)
    wl = {"before": wl_before, "dragged": _label(page, "wl-label-sagittal")}
    _presets_and_invert(page, wl, {"before": before, "dragged": dragged})


def test_an_outsider_typing_the_case_url_gets_404(
    page_for: Any, asgi_server: Any, cast: dict[str, Any], phantom_case: Any
) -> None:
    page = page_for("outsider", PASSWORD, allow=(r"404",))  # the 404 is the point
    response = page.goto(f"{asgi_server.url}/cases/{phantom_case.pk}/")
    assert response is not None
    assert response.status == 404
    api = page.request.get(f"{asgi_server.url}/api/cases/{phantom_case.pk}")
    assert api.status == 404
    assert phantom_case.pseudonym not in page.content()
    screenshot(page, "view-case-outsider-404")
