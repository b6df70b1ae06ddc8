"""Retraining benchmark (issue 13): from the signature of the gold case that triggers a run
to a registered candidate, fine-tuning the SHIPPED sagittal model on this machine (GPU when
torch sees one) through the database task backend. The product's default recipe runs
(3 epochs x 50 steps x batch 8); RETRAIN_BENCH_EPOCHS / _STEPS / _BATCH make it smaller."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from tests.benchmarks.common import django_setup, emit


def _recipe() -> dict[str, int]:
    return {
        "epochs": int(os.environ.get("RETRAIN_BENCH_EPOCHS", "3")),
        "steps_per_epoch": int(os.environ.get("RETRAIN_BENCH_STEPS", "50")),
        "batch_size": int(os.environ.get("RETRAIN_BENCH_BATCH", "8")),
    }


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-retrain-"))
    django_setup(database="spinelabel_bench_retrain", data_dir=data_dir)
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from annotation.models import Case, Read, ReadKind, Split
    from annotation.services.gold import gold_sign
    from annotation.services.projects import membership_set, project_create
    from inference.models import JobStatus, RetrainJob, RetrainPolicy
    from inference.services.registry import shipped_models_register
    from tests.inference.retrain_fixtures import phantom_gold_case

    call_command("migrate", verbosity=0)
    shipped_models_register()
    project = project_create(slug="bench-retrain", name="Bench retrain")
    reviewer = User.objects.create(username="bench-reviewer", password="!")
    membership_set(project=project, user=reviewer, role="reviewer")
    recipe = _recipe()
    RetrainPolicy.objects.create(project=project, gold_threshold=1, **recipe)
    phantom_gold_case(project=project, folder=data_dir, seed=71, split=Split.TUNE, signer=reviewer)
    case = phantom_gold_case(
        project=project, folder=data_dir, seed=72, split=Split.TRAIN, signer=None
    )
    gold = Read.objects.get(case=case, kind=ReadKind.GOLD)
    assert gold.head_id is not None

    started = time.perf_counter()
    gold_sign(
        case=Case.objects.get(pk=case.pk), user=reviewer, role="reviewer", revision_id=gold.head_id
    )
    call_command("worker", batch=True, interval=0)
    seconds = time.perf_counter() - started

    # One signature starts a run per task with an active model; the phantom gold is sagittal
    # only, so the axial run fails at once ("no axial slice") and costs nothing here.
    job = RetrainJob.objects.get(project=project, task="sagittal")
    if job.status != JobStatus.SUCCEEDED:
        raise SystemExit(f"retrain job failed: {job.error}")
    history = (job.candidate.training_manifest if job.candidate else {}).get("history", [])
    epoch_s = [round(float(h["seconds"]), 2) for h in history]
    extra = {
        **recipe,
        "device": job.candidate.training_manifest.get("device") if job.candidate else "",
    }
    emit("retrain_signature_to_candidate", seconds, "s", "<= 600 (default recipe)", **extra)
    emit(
        "retrain_epoch",
        sum(epoch_s) / max(1, len(epoch_s)),
        "s",
        "",
        epoch_seconds=epoch_s,
        **extra,
    )


if __name__ == "__main__":
    main()
