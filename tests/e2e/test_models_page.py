"""The models page (issue 13) in Chromium: a lead sees the versions and promotes a candidate
after confirming, follows a retraining run live, chooses the selection strategy, and sees the
corrections of pre-labels arrive without a reload."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from playwright.sync_api import expect

from annotation.models import Project, Revision, Split
from dashboards.services.corrections import correction_record
from inference.models import ModelStatus, ModelVersion, RetrainJob, RetrainPolicy, Strategy
from inference.services.registry import model_path, model_register, shipped_models_register
from inference.services.retrain import retrain_announce
from tests.annotation.review_helpers import make_review
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot
from tests.factories import make_case
from tests.inference.retrain_fixtures import phantom_gold_case, trained_tiny_model
from tests.inference.tiny import TINY_CONTRACT, register_tiny_model, tiny_model

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]


def _candidate(folder: Path) -> ModelVersion:
    """A second tiny network (its own bytes: the registry knows a file by its digest)."""
    import onnx

    path = tiny_model(folder / "candidate.onnx")
    model = onnx.load(str(path))
    model.doc_string = "a retrained candidate"
    onnx.save(model, str(path))
    return model_register(
        file=path, task="sagittal", contract=TINY_CONTRACT, name="retrained",
        status=ModelStatus.CANDIDATE,
    )  # fmt: skip


def _corrected_case(project: Project, cast: dict[str, Any]) -> None:
    review = make_review(case=make_case(project=project), cast=cast)
    first = Revision.objects.order_by("created_at").values_list("created_at", flat=True)[0]
    Revision.objects.filter(read=review.model).update(created_at=first - timedelta(minutes=1))
    head = Revision.objects.filter(read=review.annotator).order_by("-number").first()
    assert head is not None
    assert correction_record(read_id=review.annotator.pk, revision_id=head.pk) is not None


def test_a_lead_promotes_follows_a_run_and_sees_corrections_live(
    page_for: Any, asgi_server: Any, project: Project, cast: dict[str, Any], tmp_path: Path
) -> None:
    active = register_tiny_model(tmp_path)
    candidate = _candidate(tmp_path)
    # As a retrain records it when the active model's pre-labels drafted the tune gold.
    ModelVersion.objects.filter(pk=candidate.pk).update(
        metrics={
            "tune": {"cord_dice": {"mean": 0.912, "sd": 0.0, "n": 2}},
            "base_tune": {"cord_dice": {"mean": 0.934, "sd": 0.0, "n": 2}},
            "tune_drafted_by_base": {"model": active.pk, "cases": 2, "of": 2},
        }
    )
    _corrected_case(project, cast)
    page = page_for("lead", PASSWORD)
    page.goto(f"{asgi_server.url}/projects/{project.slug}/")
    page.get_by_test_id("models-link").click()
    expect(page.get_by_test_id("models-page")).to_be_visible()
    expect(page.get_by_test_id(f"model-{candidate.pk}-status")).to_have_text("candidate")
    drafted = page.get_by_test_id(f"model-{candidate.pk}-drafted")
    expect(drafted).to_have_text(f"⚠ tune gold drafted by #{active.pk}")
    favours = rf"favours #{active.pk} \(cord Dice 93.4 % on it, this candidate 91.2 %\)"
    expect(drafted).to_have_attribute("title", re.compile(favours))
    expect(page.get_by_test_id(f"model-{active.pk}-drafted")).to_have_count(0)
    expect(page.get_by_test_id("corrections-worst").locator("tbody tr")).to_have_count(1)

    # A run announced by the worker shows up and moves on, without a reload.
    job = RetrainJob.objects.create(
        project=project, task="sagittal", trigger="lead", base=active, status="running"
    )
    with transaction.atomic():
        job.progress = {"stage": "training", "epoch": 1, "epochs": 3, "loss": 0.25}
        job.save(update_fields=["progress"])
        retrain_announce(job)
    expect(page.get_by_test_id(f"job-{job.pk}-progress")).to_contain_text("epoch 1/3 · loss 0.2500")

    # Promotion asks first, then the candidate is active and the old model retired.
    questions: list[str] = []

    def answer(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)
    page.get_by_test_id(f"model-{candidate.pk}-promote").click()
    expect(page.get_by_test_id(f"model-{candidate.pk}-status")).to_have_text("active")
    assert f"It replaces #{active.pk}" in questions[0]
    assert ModelVersion.objects.get(pk=active.pk).status == ModelStatus.RETIRED

    # The strategy is saved for the project; its scores are computed in the background.
    page.get_by_label("Case selection strategy").select_option("uncertainty")
    page.get_by_test_id("strategy").get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("strategy-state")).to_contain_text("cases scored")
    assert RetrainPolicy.objects.get(project=project).strategy == Strategy.UNCERTAINTY

    # A new correction recorded by the worker appears live.
    _corrected_case(project, cast)
    expect(page.get_by_test_id("corrections-worst").locator("tbody tr")).to_have_count(2)
    screenshot(page, "models-page")


def test_a_run_started_from_the_page_is_followed_live(
    page_for: Any, asgi_server: Any, project: Project, cast: dict[str, Any], tmp_path: Path
) -> None:
    trained_tiny_model()
    for seed, split in ((71, Split.TRAIN), (72, Split.TUNE)):
        phantom_gold_case(
            project=project, folder=tmp_path, seed=seed, split=split, signer=cast["reviewer"]
        )
    page = page_for("lead", PASSWORD)
    page.goto(f"{asgi_server.url}/projects/{project.slug}/models/")
    page.get_by_role("button", name="Retrain sagittal").click()
    expect(page.get_by_test_id("retrain-jobs").locator("tbody tr")).to_have_count(1)
    job = RetrainJob.objects.get()
    expect(page.get_by_test_id(f"job-{job.pk}-status")).to_have_text("queued")
    # The worker's announcements move the row the reply added.
    with transaction.atomic():
        job.status = "running"
        job.progress = {"stage": "training", "epoch": 2, "epochs": 3, "step": 7, "steps": 50}
        job.save(update_fields=["status", "progress"])
        retrain_announce(job)
    expect(page.get_by_test_id(f"job-{job.pk}-progress")).to_have_text(
        "training · epoch 2/3 · step 7/50"
    )
    expect(page.get_by_test_id(f"job-{job.pk}-status")).to_have_text("running")


def test_a_reviewer_reads_the_page_but_cannot_act(
    page_for: Any, asgi_server: Any, project: Project, cast: dict[str, Any], tmp_path: Path
) -> None:
    candidate = _candidate(tmp_path)
    sagittal = next(v for v in shipped_models_register() if v.task == "sagittal")
    page = page_for("reviewer", PASSWORD)
    page.goto(f"{asgi_server.url}/projects/{project.slug}/models/")
    expect(page.get_by_test_id("model-versions")).to_be_visible()
    # Each version says what its weights are: the shipped sagittal file is int8.
    mb = model_path(sagittal).stat().st_size / 1024**2
    expect(page.get_by_test_id(f"model-{sagittal.pk}-weights")).to_have_text(f"int8 · {mb:.1f} MB")
    expect(page.get_by_test_id(f"model-{candidate.pk}-weights")).to_contain_text("float32 · ")
    # Its Dice is that of the real slices held out of its training.
    held = sagittal.metrics["metrics"]["real"]["cord_dice"]["mean"]
    row = page.get_by_test_id("model-versions").locator("tr", has_text=f"#{sagittal.pk}")
    expect(row).to_contain_text(f"{100 * held:.1f} %")
    expect(page.get_by_test_id("models-page").locator("button:enabled")).to_have_count(0)
    expect(page.get_by_test_id("corrections")).to_contain_text("No corrections yet")
