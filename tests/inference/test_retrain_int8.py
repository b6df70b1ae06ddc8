"""A retrain of an int8 model tries to ship an int8 candidate, and the models list says which
precision each version's weights are (the shipped sagittal file is int8)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from annotation.models import Split
from inference.models import JobStatus, ModelStatus, ModelVersion, RetrainJob, RetrainPolicy
from inference.services.registry import model_path, model_register, shipped_models_register
from inference.training.data import phantom_slices
from inference.training.quantize import is_quantised, network_inputs, quantise_file
from tests.inference.retrain_fixtures import _tiny_build, phantom_gold_case

pytestmark = pytest.mark.django_db(transaction=True)


def _tiny_int8_model(folder: Path) -> ModelVersion:
    """The tiny trained network quantised, registered active; its float checkpoint is the one
    the fine-tuning starts from."""
    from inference.runtime.contract import load_contract

    build = _tiny_build(0)
    contract = load_contract(build.contract)
    int8 = folder / "tiny-int8.onnx"
    calibration = phantom_slices("sagittal", [1000], sagittal_offsets=(0,))
    quantise_file(build.onnx_path, int8, network_inputs(contract, calibration), "image")
    return model_register(
        file=int8,
        task="sagittal",
        contract=build.contract,
        name="tiny int8",
        training_manifest={"out": str(build.onnx_path.parent)},
        status=ModelStatus.ACTIVE,
    )


def _weights(client, project) -> dict[int, dict[str, Any]]:
    listed = client.get(f"/api/projects/{project.slug}/models").json()
    return {m["id"]: m["weights"] for m in listed}


def test_an_int8_base_makes_the_run_try_int8_and_the_list_says_why_it_stayed_float(
    clients, cast, project, tmp_path: Path
) -> None:
    base = _tiny_int8_model(tmp_path)
    assert is_quantised(model_path(base))
    RetrainPolicy.objects.create(project=project, epochs=1, steps_per_epoch=2, batch_size=2)
    for seed, split in ((61, Split.TRAIN), (62, Split.TUNE)):
        phantom_gold_case(
            project=project, folder=tmp_path, seed=seed, split=split, signer=cast["reviewer"]
        )
    reply = clients["lead"].post(
        f"/api/projects/{project.slug}/retrain",
        {"task": "sagittal"},
        content_type="application/json",
    )
    assert reply.status_code == 202, reply.json()
    call_command("worker", batch=True, interval=0)

    job = RetrainJob.objects.get()
    assert job.status == JobStatus.SUCCEEDED, job.error
    candidate = job.candidate
    assert candidate is not None
    # Two training steps predict no mask yet: nothing to check the int8 file against.
    reason = "no held-out input has a mask to compare the two networks on"
    assert candidate.metrics["quantisation"] == {"kept_float": reason}
    assert candidate.training_manifest["quantisation"] == {"kept_float": reason}
    assert not is_quantised(model_path(candidate))
    weights = _weights(clients["annotator"], project)
    assert weights[base.pk]["precision"] == "int8"  # registered by hand: read from its file
    assert weights[candidate.pk] == {
        "precision": "float32",
        "size_bytes": model_path(candidate).stat().st_size,
        "kept_float": reason,
    }


def test_the_models_list_names_the_shipped_sagittal_file_int8_with_its_held_out_dice(
    clients, project
) -> None:
    sagittal, axial = sorted(shipped_models_register(), key=lambda v: v.task != "sagittal")
    weights = _weights(clients["annotator"], project)
    assert weights[sagittal.pk] == {
        "precision": "int8",
        "size_bytes": model_path(sagittal).stat().st_size,
        "kept_float": "",
    }
    assert weights[axial.pk]["precision"] == "float32"
    # Its Dice column reads the real slices held out of its training, not their names.
    listed = {
        m["id"]: m for m in clients["annotator"].get(f"/api/projects/{project.slug}/models").json()
    }
    held = sagittal.metrics["metrics"]["real"]["cord_dice"]
    assert listed[sagittal.pk]["metrics"]["held_out"]["cord_dice"] == held
    assert "held_out" not in listed[axial.pk]["metrics"]  # every real volume trained on
