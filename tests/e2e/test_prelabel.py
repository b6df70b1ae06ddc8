"""Pre-labelling (issue 5): an annotator with the case open asks for pre-labels, the worker runs the
active model, and the model's read appears in the open page live, its shapes drawn.

The model is a one-convolution ONNX network (bright tissue → "cord"/"canal") registered through
the real registry, so the test covers the plumbing (API, task queue, worker, outbox relay,
WebSocket, page) whatever the shipped models are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import (
    api_get,
    canvas_signature,
    page_shapes,
    screenshot,
    shown_slice,
    start_my_read,
    wait_canvas_changed,
    wait_for_viewer,
)
from tests.e2e.pagejs import INSTRUMENT_JS
from tests.inference.tiny import TINY_CONTRACT, tiny_model

# One xdist group for `--dist loadgroup`: one server and one Chromium, not one per worker.
# (pytest 9.2 with xdist 3.8 ignores groups: xdist sets item._nodeid, pytest 9 reads _id.)
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]

KEYPOINTS = {f"{v}_{c}" for v in ("C3", "C4", "C5", "C6", "C7") for c in ("AS", "AI", "PS", "PI")}


@pytest.fixture(params=["tiny", "shipped"])
def active_models(request: pytest.FixtureRequest, tmp_path: Path) -> list[Any]:
    """The tiny network always; the shipped models when `make models` has produced them."""
    from inference.models import ModelStatus
    from inference.runtime.contract import ModelFileError
    from inference.runtime.shipped import SHIPPED_TASKS, shipped_model
    from inference.services.registry import model_register

    if request.param == "tiny":
        return [
            model_register(
                file=tiny_model(tmp_path / "tiny.onnx"),
                task="sagittal",
                contract=TINY_CONTRACT,
                name="e2e tiny",
                status=ModelStatus.ACTIVE,
            )
        ]
    try:
        shipped = [shipped_model(task) for task in SHIPPED_TASKS]
    except ModelFileError as exc:
        pytest.skip(f"no shipped models yet: {exc}")
    return [
        model_register(
            file=model.onnx_path,
            task=model.task,
            contract=model.contract_data,
            name=model.name,
            status=ModelStatus.ACTIVE,
        )
        for model in shipped
    ]


@pytest.mark.usefixtures("cast")
def test_a_requested_prelabel_appears_live_in_the_open_case(
    page_for: Any, asgi_server: Any, phantom_case: Any, active_models: list[Any]
) -> None:
    sagittal_model = next(m for m in active_models if m.task == "sagittal")
    page = page_for("annotator", PASSWORD)
    page.add_init_script(INSTRUMENT_JS)
    page.goto(f"{asgi_server.url}/cases/{phantom_case.pk}/")
    wait_for_viewer(page)
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-live", "on")
    start_my_read(page)  # opening a case creates no read
    reads = page.get_by_test_id("read-select").locator("option")
    expect(reads).to_have_count(1)  # the annotator's own read, empty
    before = canvas_signature(page, "viewport-sagittal")

    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{asgi_server.url}/api/cases/{phantom_case.pk}/prelabel",
        headers={"X-CSRFToken": token, "Referer": page.url},
    )
    assert response.status == 202, response.text()
    job_id = response.json()["job"]["id"]

    call_command("worker", batch=True)  # the queue's worker, in this process: empties it, exits

    job = api_get(page, f"/api/jobs/{job_id}")
    assert job["status"] == "succeeded", job
    # The page hears of the new read (outbox → WebSocket) and lists it without a reload.
    expect(reads).to_have_count(2)
    model_option = reads.filter(has_text="model")
    expect(model_option).to_contain_text(f"sagittal #{sagittal_model.pk}")
    expect(model_option).to_contain_text("(view)")
    assert str(job["read"]) == model_option.get_attribute("value")
    expect(page.get_by_test_id("case-state")).to_have_text("prelabelled")  # was "new"
    events = {e["type"] for e in page.evaluate("() => window.__events")}
    assert {"job.progress", "revision.saved", "case.state_changed"} <= events, events

    page.get_by_test_id("read-select").select_option(str(job["read"]))
    rows = page.get_by_test_id("shape-row")
    expect(rows.first).to_be_visible()
    labels = {rows.nth(i).get_attribute("data-label") for i in range(rows.count())}
    assert labels, "the model read has no shapes on the slice shown"
    assert "cord" in labels, labels
    assert labels <= {"cord", "canal"} | KEYPOINTS, labels
    head = api_get(page, f"/api/reads/{job['read']}")["revision"]
    sagittal_id = str(shown_slice(page, "sagittal")["imageId"])
    assert page_shapes(page, "sagittal") == head["shapes"][sagittal_id]
    wait_canvas_changed(page, "viewport-sagittal", before["hash"])  # the model's shapes drawn
    screenshot(page, f"prelabel-model-read-{len(active_models)}-models")
