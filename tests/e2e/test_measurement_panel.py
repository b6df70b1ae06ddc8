"""The measurement panel (issue 4): the phantom's truth loaded through the annotator's labelme
import gives MSCC/MCC on the sagittal slice and TA/CR on the axial one, close to the analytic
answers, with the chords drawn on both images."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from fixtures.phantom import labelme_truth
from tests.conftest import PASSWORD
from tests.e2e.conftest import (
    PhantomStudy,
    api_get,
    screenshot,
    shown_slice,
    start_my_read,
    wait_for_head,
    wait_for_viewer,
)

# One xdist group for `--dist loadgroup`: one server and one Chromium, not one per worker.
# (pytest 9.2 with xdist 3.8 ignores groups: xdist sets item._nodeid, pytest 9 reads _id.)
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]

CHORD_RGB = (0x7E, 0xE0, 0xC3)  # drawChords' colour in frontend/src/features/annotator/render.ts

CHORD_PIXELS_JS = """([testid, rgb]) => {
  const c = document.querySelector(`[data-testid=${testid}]`);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (Math.abs(d[i] - rgb[0]) < 12 && Math.abs(d[i + 1] - rgb[1]) < 12
        && Math.abs(d[i + 2] - rgb[2]) < 12) n += 1;
  }
  return n;
}"""


def _chord_pixels(page: Any, slot: str) -> int:
    """Pixels of the chord colour on a viewport's canvas."""
    return int(page.evaluate(CHORD_PIXELS_JS, [f"viewport-{slot}", list(CHORD_RGB)]))


def _value(page: Any, key: str) -> float:
    """The number shown in the panel row of `key` ("MSCC 35.0 %" → 35.0)."""
    row = page.get_by_test_id(f"measure-{key}")
    expect(row).to_have_count(1)
    text = str(row.locator("td.v").text_content())
    match = re.fullmatch(r"(-?\d+(?:\.\d+)?)(?: .*)?", text)
    assert match, f"no number in the {key} row: {text!r}"
    return float(match.group(1))


def _check_level_summary(page: Any) -> None:
    """The per-level summary on top: MSCC at the level of the narrowest cord, the axial slice's
    TA, each as the panel shows it below."""
    rows = page.get_by_test_id("measure-summary-row")
    level = str(page.get_by_test_id("measure-d_i").locator("td.x").text_content())
    mscc = str(page.get_by_test_id("measure-mscc").locator("td.v").text_content())
    ta = str(page.get_by_test_id("measure-ta").locator("td.v").text_content())
    expect(rows.filter(has_text=f"MSCC {mscc}")).to_have_attribute("data-level", level)
    axial = rows.filter(has_text="TA min")
    expect(axial).to_have_attribute("data-level", "axial · 1 slice")
    expect(axial).to_contain_text(f"TA min {ta}")


def _import_labelme(page: Any, path: Path, shapes: int) -> None:
    page.get_by_test_id("labelme-file").set_input_files(str(path))
    expect(page.get_by_test_id("shape-row")).to_have_count(shapes)


@pytest.mark.usefixtures("cast")
def test_the_panel_measures_the_phantom_truth_and_draws_the_chords(
    page_for: Any,
    asgi_server: Any,
    phantom_case: Any,
    phantom_study: PhantomStudy,
    tmp_path: Path,
) -> None:
    phantom = phantom_study.phantom
    expected = phantom.expected
    sagittal = labelme_truth(phantom, view="sagittal", image_path="sagittal.png")
    axial = labelme_truth(phantom, view="axial", image_path="axial.png")
    (tmp_path / "sagittal.json").write_text(json.dumps(sagittal))
    (tmp_path / "axial.json").write_text(json.dumps(axial))

    page = page_for("annotator", PASSWORD)
    page.goto(f"{asgi_server.url}/cases/{phantom_case.pk}/")
    wait_for_viewer(page)
    expect(page.get_by_test_id("save-status")).not_to_have_text("—")
    start_my_read(page)  # opening a case creates no read
    shown = [shown_slice(page, "sagittal"), shown_slice(page, "axial")]
    assert shown[0]["index"] == phantom.sagittal_truth.mid_index
    assert shown[1]["index"] == phantom.axial_truth.narrowest_index
    assert _chord_pixels(page, "sagittal") == 0

    # Load the truth into each slice the way a user does: labelme import on the active viewport.
    _import_labelme(page, tmp_path / "sagittal.json", len(sagittal["shapes"]))
    page.keyboard.press("Tab")  # the axial viewport becomes the active one
    _import_labelme(page, tmp_path / "axial.json", len(axial["shapes"]))

    page.get_by_test_id("side-tab-measurements").click()
    panel = page.get_by_test_id("measure-panel")
    # The preview runs in a child process at lower CPU priority: slow on a loaded machine.
    expect(panel).to_have_attribute("data-state", "ready", timeout=30000)
    expect(page.get_by_test_id("measure-ta")).to_have_count(1)
    expect(page.get_by_test_id("measure-mscc")).to_have_count(1)
    assert _value(page, "mscc") == pytest.approx(expected["mscc_percent"], abs=0.5)
    assert _value(page, "mcc") == pytest.approx(expected["mcc_percent"], abs=0.5)
    assert _value(page, "d_i") == pytest.approx(expected["d_i"], abs=0.1)
    assert _value(page, "D_i") == pytest.approx(expected["D_i"], abs=0.1)
    assert _value(page, "ta") == pytest.approx(expected["ta"], rel=0.02)
    assert _value(page, "cr") == pytest.approx(expected["cr"], abs=0.01)
    _check_level_summary(page)

    # The chords of the widths are drawn on both images.
    for slot in ("sagittal", "axial"):
        page.wait_for_function(
            f"(a) => ({CHORD_PIXELS_JS})(a) > 40", arg=[f"viewport-{slot}", list(CHORD_RGB)]
        )
    screenshot(page, "measurement-panel")
    page.get_by_test_id("measure-ta").scroll_into_view_if_needed()
    screenshot(page, "measurement-panel-values")

    # The autosaved revision carries the same results, stored by the server.
    read_id = page.get_by_test_id("read-select").input_value()
    images = {str(shown[0]["imageId"]), str(shown[1]["imageId"])}
    head = wait_for_head(page, read_id, lambda head: set(head["shapes"]) >= images)
    stored = api_get(page, f"/api/revisions/{head['id']}/measurements")["results"]
    by_view = {r["view"]: r["values"] for r in stored}
    assert by_view["sagittal"]["mscc"] == pytest.approx(expected["mscc"], abs=0.005)
    assert by_view["axial"]["cr"] == pytest.approx(expected["cr"], abs=0.01)
