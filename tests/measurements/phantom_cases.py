"""Phantom cases imported through the real DICOM ingest, with the phantom's truth as
labelme shapes by image id, and the phantom's own plan of which axial slice lies at which
disc (the independent answer for disc levels)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from annotation.ingest import ingest_paths
from annotation.models import Case, Image, Project
from fixtures.dicom_io import write_dicom
from fixtures.labelme_io import labelme_truth
from fixtures.phantom import make_phantom
from fixtures.phantom_types import Phantom, PhantomSpec


def import_phantom(project: Project, spec: PhantomSpec, folder: Path) -> tuple[Case, Phantom]:
    phantom = make_phantom(spec)
    write_dicom(phantom, folder, patient_name="Doe^Jane", patient_id=f"P{spec.seed}")
    summary = ingest_paths(project=project, paths=[folder])
    return Case.objects.get(pk=summary.cases[0].id), phantom


def image_at(case: Case, view: str, position: tuple[float, float, float]) -> Image:
    """The case's image of that view whose ImagePositionPatient is `position`."""
    return next(
        i
        for i in Image.objects.filter(series__case=case, series__orientation=view)
        if all(abs(a - b) < 1e-3 for a, b in zip(i.image_position, position, strict=True))
    )


def axial_images(case: Case, phantom: Phantom) -> list[Image]:
    """The case's axial images in the phantom's slice order."""
    return [image_at(case, "axial", p) for p in phantom.axial.slice_positions]


def sagittal_mid(case: Case, phantom: Phantom) -> Image:
    mid = phantom.sagittal_truth.mid_index
    return image_at(case, "sagittal", phantom.sagittal.slice_positions[mid])


def truth_shapes(
    case: Case, phantom: Phantom, *, sagittal: bool = True, corners: bool = True, axial: bool = True
) -> dict[str, list[Any]]:
    """The truth as a revision's shapes: the mid-sagittal slice (cord, canal and, with
    `corners`, the 20 vertebral corners) and the cord and dural sac on every axial slice."""
    shapes: dict[str, list[Any]] = {}
    if sagittal:
        found = labelme_truth(phantom, view="sagittal", image_path="x.png")["shapes"]
        if not corners:
            found = [s for s in found if s["shape_type"] != "point"]
        shapes[str(sagittal_mid(case, phantom).pk)] = found
    if axial:
        for index, image in enumerate(axial_images(case, phantom)):
            doc = labelme_truth(phantom, view="axial", image_path="x.png", index=index)
            shapes[str(image.pk)] = doc["shapes"]
    return shapes


def disc_slices(case: Case, phantom: Phantom) -> dict[str, Image]:
    """The phantom's own plan: which axial slice it drew at which disc ("C3/C4" → "C3/4")."""
    names = phantom.axial_truth.level_names
    return {
        n.replace("/C", "/"): img
        for n, img in zip(names, axial_images(case, phantom), strict=True)
        if "/" in n
    }
