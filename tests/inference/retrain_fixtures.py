"""What the retraining tests start from: a tiny trainable sagittal model (ONNX + checkpoint)
and phantom cases imported through the real ingest whose gold reads carry the phantom's
truth (cord and canal polygons, the 20 corners), signed by a reviewer."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User

from annotation.models import Case, Project, Read, ReadKind
from annotation.models.imaging import CaseState
from inference.models import ModelStatus, ModelVersion

# Small enough that a fine-tuning run (1 epoch of 2 steps) and its export take seconds.
TINY_RECIPE: dict[str, Any] = {
    "widths": (4, 8, 16, 32),
    "input_size": (64, 64),
    "phantom_train_seeds": (1000,),
    "phantom_val_seeds": (),
    "real_train": (),
    "real_val": (),
}


@functools.cache
def _tiny_build(seed: int) -> Any:
    """One training per seed and test process (the files are read, never changed)."""
    from inference.training.pipeline import train_and_export

    folder = Path(tempfile.mkdtemp(prefix=f"tiny-{seed}-"))
    return train_and_export(
        task="sagittal", out_dir=folder, epochs=1, steps_per_epoch=2, batch_size=2, seed=seed,
        device="cpu", **TINY_RECIPE,
    )  # fmt: skip


def trained_tiny_model(*, seed: int = 0) -> ModelVersion:
    """Register (active) a tiny trained sagittal network whose checkpoint lies beside it."""
    from inference.services.registry import model_register

    build = _tiny_build(seed)
    folder = build.onnx_path.parent
    return model_register(
        file=build.onnx_path,
        task="sagittal",
        contract=build.contract,
        name=f"tiny trained {seed}",
        training_manifest={"out": str(folder)},
        status=ModelStatus.ACTIVE,
    )


def phantom_truth_shapes(case: Case, seed: int) -> dict[str, list[dict[str, Any]]]:
    """The phantom's sagittal truth as labelme shapes on the case's mid sagittal image."""
    from fixtures.phantom import make_phantom
    from fixtures.phantom_types import PhantomSpec

    truth = make_phantom(PhantomSpec(seed=seed, compression_level="C5")).sagittal_truth
    series = case.series.get(orientation="sagittal")
    image = series.images.get(index=truth.mid_index)

    def shape(label: str, points: Any, kind: str) -> dict[str, Any]:
        return {
            "label": label,
            "points": [[float(x), float(y)] for x, y in points],
            "group_id": None,
            "description": "",
            "shape_type": kind,
            "flags": {},
            "mask": None,
        }

    shapes = [
        shape("cord", truth.cord_polygon, "polygon"),
        shape("canal", truth.canal_polygon, "polygon"),
        *(shape(name, [xy], "point") for name, xy in truth.keypoints.items()),
    ]
    return {str(image.pk): shapes}


def phantom_gold_case(
    *, project: Project, folder: Path, seed: int, split: str, signer: User | None
) -> Case:
    """Import a phantom study, put it in `split` with a gold read of its truth; sign it
    (through the review service, so GoldSigned is published) when `signer` is given."""
    from annotation.ingest import ingest_paths
    from annotation.services.revisions import revision_create
    from fixtures.phantom import make_phantom, write_dicom
    from fixtures.phantom_types import PhantomSpec

    study = folder / f"study-{seed}"
    write_dicom(make_phantom(PhantomSpec(seed=seed, compression_level="C5")), study)
    summary = ingest_paths(project=project, paths=[study])
    case = Case.objects.get(pk=summary.cases[0].id)
    Case.objects.filter(pk=case.pk).update(split=split, state=CaseState.IN_REVIEW)
    case.refresh_from_db()
    gold = Read.objects.create(case=case, kind=ReadKind.GOLD, name="gold")
    revision = revision_create(
        read=gold, parent_id=None, shapes=phantom_truth_shapes(case, seed), message="gold"
    )
    if signer is not None:
        from annotation.services.gold import gold_sign

        gold_sign(case=case, user=signer, role="reviewer", revision_id=revision.pk)
    return case
