"""Withheld pre-labels in the browser (issue 14): the shipped sagittal network, with its
keypoint threshold raised so that it withholds every corner, pre-labels a phantom through the
worker; the case page lists what was withheld and why, each on its series and slice with a link
that opens that slice, the annotator's own read shows the corners as ghost suggestions, Y accepts
the one under the pointer and it is saved as a shape."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from annotation.models import Image, Series
from inference.models import JobStatus, ModelStatus, PrelabelJob
from inference.runtime.shipped import SHIPPED_DIR, shipped_model
from inference.services.prelabel import prelabel_run
from inference.services.registry import model_register
from tests.conftest import PASSWORD
from tests.e2e.conftest import (
    screenshot,
    start_my_read,
    to_client,
    wait_for_head,
    wait_for_viewer,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]

SLOT = "sagittal"


def _prelabel_withholding_corners(case: Any, tmp_path: Path) -> PrelabelJob:
    data = copy.deepcopy(shipped_model("sagittal").contract_data)
    data["calibration"]["keypoint"]["threshold"] = 1.0  # no corner is that sure
    keypoint = data["calibration"]["keypoint"]
    keypoint["y"] = [min(v, 0.99) for v in keypoint["y"]]
    contract = tmp_path / "sagittal.contract.json"
    contract.write_text(json.dumps(data), encoding="utf-8")
    model_register(
        file=SHIPPED_DIR / "sagittal.onnx", task="sagittal", contract=contract,
        status=ModelStatus.ACTIVE,
    )  # fmt: skip
    job = PrelabelJob.objects.create(case=case)
    prelabel_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job


@pytest.mark.usefixtures("cast")
def test_a_withheld_corner_is_a_suggestion_that_y_accepts_into_my_read(
    page_for: Any, asgi_server: Any, phantom_case: Any, tmp_path: Path
) -> None:
    job = _prelabel_withholding_corners(phantom_case, tmp_path)
    (image_key, items), *_ = [
        (k, v) for k, v in job.withheld.items() if any(s["shape_type"] == "point" for s in v)
    ]
    corners = [s for s in items if s["shape_type"] == "point"]
    assert len(corners) == 20
    page = page_for("annotator", PASSWORD)
    page.goto(f"{asgi_server.url}/cases/{phantom_case.pk}/")
    wait_for_viewer(page)
    # The pre-label panel says what was withheld and why.
    listed = page.get_by_test_id("withheld-item")
    expect(listed.filter(has_text="C3_AS withheld: confidence")).to_have_count(1)
    withheld = sum(len(v) for v in job.withheld.values())
    expect(listed).to_have_count(withheld)
    # One summary line; that many items start folded under it.
    expect(page.get_by_test_id("withheld-summary")).to_have_text(
        f"{withheld} pre-labels withheld as suggestions (Y takes the nearest)"
    )
    expect(page.get_by_test_id("withheld-list")).not_to_have_attribute("open", re.compile(".*"))
    expect(listed.filter(has_text=re.compile(r"below 1\.00$"))).to_have_count(20)
    # Each names the series and slice it is on, as the viewer counts slices, not its image id.
    image = Image.objects.get(pk=int(image_key))
    assert Series.objects.filter(case=phantom_case, orientation=SLOT).count() == 1
    slices = image.series.images.count()
    number = image.series.images.filter(index__lt=image.index).count() + 1
    on_slice = re.escape(f"{SLOT} · slice {number}/{slices} — ")
    expect(listed.filter(has_text="C3_AS withheld: confidence")).to_have_text(
        re.compile(rf"^{on_slice}C3_AS withheld: confidence")
    )
    expect(listed.filter(has_text=re.compile(rf"^{on_slice}.* below 1\.00$"))).to_have_count(20)
    # Not the user's read yet: no ghosts.
    canvas = page.get_by_test_id(f"viewport-{SLOT}")
    expect(canvas).not_to_have_attribute("data-suggestions", re.compile("."))

    read_id = start_my_read(page)
    # Away from that slice, then its name in the list opens it.
    page.keyboard.press("End" if number == 1 else "Home")
    expect(canvas).not_to_have_attribute("data-image-id", image_key)
    page.get_by_test_id("withheld-summary").click()
    listed.filter(has_text="C5_AI withheld").get_by_test_id("withheld-slice").click()
    expect(canvas).to_have_attribute("data-image-id", image_key)
    expect(canvas).to_have_attribute("data-suggestions", re.compile(r"\bC5_AI\b"))
    target = next(s for s in corners if s["label"] == "C5_AI")
    x, y = target["points"][0]
    page.mouse.move(*to_client(page, SLOT, x, y))
    screenshot(page, "prelabel-suggestions")
    page.keyboard.press("y")

    def has_corner(head: dict[str, Any]) -> bool:
        return any(
            s["label"] == "C5_AI" and s["shape_type"] == "point"
            for s in head["shapes"].get(image_key, [])
        )

    head = wait_for_head(page, read_id, has_corner)
    (saved,) = [s for s in head["shapes"][image_key] if s["label"] == "C5_AI"]
    assert saved["points"] == [[x, y]]
    # Taken: no longer a suggestion on this slice; the others still are.
    expect(canvas).not_to_have_attribute("data-suggestions", re.compile(r"\bC5_AI\b"))
    expect(canvas).to_have_attribute("data-suggestions", re.compile(r"\bC5_AS\b"))
