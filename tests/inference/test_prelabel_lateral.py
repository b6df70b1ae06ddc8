"""A pre-label job on a real sagittal T2 volume (the SCT `t2`, 1 mm slices) with the shipped
models: the cord and the canal are drawn only about the mid-sagittal slice, which the job finds
where the manual cord mask is, and the job's message says what was left out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

from annotation.ingest import ingest_paths
from annotation.models import Case, Project, Read, Series
from inference.models import JobStatus, PrelabelJob
from inference.services.prelabel import prelabel_run
from inference.services.registry import shipped_models_register

pytestmark = pytest.mark.django_db

T2 = Path(__file__).resolve().parents[2] / "fixtures" / "data" / "sct_testing_data" / "t2"


def _manual_cord_slices_mm() -> tuple[float, set[float]]:
    """The manual cord's left-right centre and the positions of the sagittal slices it covers,
    in the RAS x millimetres that a sagittal slice's stored position measures."""
    mask: Any = nib.as_closest_canonical(nib.load(T2 / "t2_seg-manual.nii.gz"))  # type: ignore[no-untyped-call]
    data = np.asanyarray(mask.dataobj) > 0.5
    area = data.sum(axis=(1, 2))
    x_mm = mask.affine[0, 0] * np.arange(data.shape[0]) + mask.affine[0, 3]
    centre = float((x_mm * area).sum() / area.sum())
    return centre, {round(float(x), 3) for x, a in zip(x_mm, area, strict=True) if a > 0}


def test_the_cord_is_drawn_only_about_the_mid_sagittal_slice(project: Project) -> None:
    shipped_models_register()
    case = Case.objects.get(pk=ingest_paths(project=project, paths=[T2 / "t2.nii.gz"]).cases[0].id)
    job = PrelabelJob.objects.create(case=case)
    prelabel_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.read_id is not None
    head = Read.objects.select_related("head").get(pk=job.read_id).head
    assert head is not None
    sagittal = Series.objects.get(case=case, orientation="sagittal")
    position = {str(i.pk): i.position for i in sagittal.images.all()}

    def drawn_or_offered(label: str) -> list[float]:
        out = []
        for key, at in position.items():
            items = head.shapes.get(key, []) + job.withheld.get(key, [])
            if any(s["label"] == label and s["shape_type"] == "polygon" for s in items):
                out.append(at)
        return sorted(out)

    centre, manual = _manual_cord_slices_mm()
    cord, canal = drawn_or_offered("cord"), drawn_or_offered("canal")
    mid = (cord[0] + cord[-1]) / 2
    assert abs(mid - centre) <= 2.0  # the midline is where the manual cord is
    assert cord[-1] - cord[0] <= 16.0
    assert canal[-1] - canal[0] <= 24.0
    # No slice of the manual cord lost, and most of the 52 slices left without one.
    assert manual <= {round(p, 3) for p in cord}
    assert len(cord) <= 17 < len(position)
    assert "sagittal mid-sagittal slice" in job.message
    assert "cord on 17 slices (±8 mm)" in job.message
