"""A real NIfTI volume (SCT's t2) imported and exported: every exported voxel lies, through
the exported affine, on the original voxel with the same value, and the label map of a read
made from the imported cord mask lies on the original mask (nibabel on both sides)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from django.contrib.auth.models import User

from annotation.ingest import ingest_paths
from annotation.models import Case, Project, Read, ReadKind
from annotation.services.revisions import revision_create
from tests.exports.conftest import export_now, unzip

pytestmark = pytest.mark.django_db

SCT = Path(__file__).resolve().parents[2] / "fixtures" / "data" / "sct_testing_data" / "t2"


def _original_index(affine: np.ndarray, original: Any, ijk: np.ndarray) -> np.ndarray:
    """Original voxel indices of exported voxels (rows of ijk), through both affines."""
    world = affine @ np.c_[ijk, np.ones(len(ijk))].T
    back = np.linalg.inv(original.affine) @ world
    return np.asarray(back[:3].T)


def test_exported_volumes_and_masks_sit_on_the_original_voxels(
    project: Project, cast: dict[str, User], tmp_path: Path
) -> None:
    summary = ingest_paths(project=project, paths=[SCT / "t2.nii.gz", SCT / "t2_seg-manual.nii.gz"])
    case = Case.objects.get(pk=summary.cases[0].id)
    imported = Read.objects.get(case=case, kind=ReadKind.IMPORTED)
    assert imported.head is not None
    mine = Read.objects.create(case=case, kind=ReadKind.HUMAN, author=cast["annotator"])
    revision_create(
        read=mine, parent_id=None, shapes=imported.head.shapes, author=cast["annotator"]
    )

    job = export_now(
        project=project,
        user=cast["lead"],
        role="lead",
        formats=("nifti",),
        kind="group",
        value="annotator",
    )

    root = unzip(job, tmp_path / "out") / "nifti" / case.pseudonym
    original: Any = nib.load(SCT / "t2.nii.gz")
    volume = np.asarray(original.dataobj)
    truth: Any = nib.load(SCT / "t2_seg-manual.nii.gz")
    cord = np.asarray(truth.dataobj) > 0
    checked = 0
    for folder in sorted(root.iterdir()):
        image: Any = nib.load(folder / "image.nii")
        (labels_file,) = folder.glob("*.labels.nii")
        labels: Any = nib.load(labels_file)
        np.testing.assert_allclose(labels.affine, image.affine)
        data = np.asarray(image.dataobj)
        rng = np.random.default_rng(3)
        ijk = np.stack([rng.integers(0, n, 400) for n in data.shape], axis=1)
        back = _original_index(image.affine, original, ijk)
        np.testing.assert_allclose(back, np.rint(back), atol=1e-3)
        src = np.rint(back).astype(int)
        np.testing.assert_allclose(data[tuple(ijk.T)], volume[tuple(src.T)], rtol=1e-5, atol=1e-3)
        # Every cord voxel of the exported label map is a cord voxel of the original mask.
        marked = np.argwhere(np.asarray(labels.dataobj) == 1)
        assert len(marked) > 0
        src = np.rint(_original_index(labels.affine, original, marked)).astype(int)
        assert cord[tuple(src.T)].mean() > 0.99
        checked += 1
    assert checked == 2  # the sagittal and the axial series
