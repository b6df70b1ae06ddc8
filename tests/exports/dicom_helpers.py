"""Shared by the DICOM SEG and SR export tests: a phantom study imported from DICOM files
carrying known identifiers, a read drawn on it, dciodvfy, and an identifier scan."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from pydicom import dcmread
from pydicom.dataset import Dataset

from annotation.ingest import ingest_paths
from annotation.ingest.deid import replacement_uid
from annotation.models import Image, Project, Read
from annotation.services.reads import read_get_or_create_human
from annotation.services.revisions import revision_create
from exports.bundle import CaseBundle, ExportContext
from exports.selectors import case_bundles
from fixtures.dicom_io import dicom_identifiers, write_dicom
from fixtures.labelme_io import labelme_truth
from fixtures.phantom import Phantom, make_phantom
from fixtures.phantom_types import PhantomSpec

NAME = "Quimby^Josephine"
PATIENT_ID = "HOSP-7731-0042"
# Kept on purpose by the de-identification (Retain Patient Characteristics Option).
KEPT = {"PatientSex", "PatientAge"}


@dataclass
class ImportedStudy:
    phantom: Phantom
    case_id: int
    read: Read
    sagittal: Image  # the mid-sagittal slice the read drew on
    axial: Image  # the narrowest axial slice the read drew on
    shapes: dict[str, list[dict[str, Any]]]  # {str(image id): labelme shapes}
    identifiers: list[str]  # values that must appear in no exported file


def _identifiers(paths: list[Path], seed: int) -> list[str]:
    values = [
        v
        for k, v in dicom_identifiers(patient_name=NAME, patient_id=PATIENT_ID, seed=seed).items()
        if k not in KEPT
    ]
    values += ["Quimby", "Josephine", "Quimby Josephine"]
    for path in paths:
        ds = dcmread(path, stop_before_pixels=True)
        values += [ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID]
        values += [ds.FrameOfReferenceUID]
    # Short values would match by chance inside unrelated bytes: keep distinctive ones.
    return sorted({v for v in values if len(v) >= 5})


def _image_of(project: Project, path: Path) -> Image:
    original = str(dcmread(path, stop_before_pixels=True).SOPInstanceUID)
    return Image.objects.get(uid=replacement_uid(salt=project.pseudonym_salt, original=original))


def import_phantom_study(*, project: Project, author: User, folder: Path) -> ImportedStudy:
    """The phantom's sagittal and axial series written as DICOM with identifiers, imported,
    and one annotator read with the truth polygons (and keypoints) on two slices."""
    project.prelabel_on_import = False
    project.save(update_fields=["prelabel_on_import"])
    spec = PhantomSpec(seed=11, n_sagittal_slices=3)
    phantom = make_phantom(spec)
    paths = write_dicom(phantom, folder / NAME, patient_name=NAME, patient_id=PATIENT_ID)
    summary = ingest_paths(project=project, paths=[folder / NAME])
    assert summary.skipped == [], summary.skipped
    (case,) = summary.cases
    sagittal_files = sorted(p for p in paths if "sagittal" in p.parent.name)
    axial_files = sorted(p for p in paths if "axial" in p.parent.name)
    sagittal = _image_of(project, sagittal_files[phantom.sagittal_truth.mid_index])
    axial = _image_of(project, axial_files[phantom.axial_truth.narrowest_index])
    shapes = {
        str(sagittal.pk): labelme_truth(phantom, view="sagittal", image_path="s.png")["shapes"],
        str(axial.pk): labelme_truth(phantom, view="axial", image_path="a.png")["shapes"],
    }
    read, _ = read_get_or_create_human(case=sagittal.series.case, author=author)
    revision_create(read=read, parent_id=None, shapes=shapes, author=author)
    read.refresh_from_db()
    return ImportedStudy(
        phantom=phantom,
        case_id=case.id,
        read=read,
        sagittal=sagittal,
        axial=axial,
        shapes=shapes,
        identifiers=_identifiers(paths, spec.seed),
    )


def bundle_of(read: Read) -> CaseBundle:
    (bundle,) = case_bundles(
        reads=Read.objects.filter(pk=read.pk),
        case_ids=[read.case_id],
        project_id=read.case.project_id,
    )
    return bundle


def export_context(project: Project) -> ExportContext:
    return ExportContext(
        project_slug=project.slug,
        export_id=1,
        template=project.template,
        selection={"kind": "annotator"},
        split="",
        created_at="2026-01-01T00:00:00Z",
    )


def dciodvfy(path: Path) -> tuple[list[str], list[str]]:
    """(error lines, warning lines) of dicom3tools' validator on one file."""
    tool = shutil.which("dciodvfy")
    assert tool, "dciodvfy is missing: scripts/ensure_services.sh installs dicom3tools"
    done = subprocess.run([tool, str(path)], capture_output=True, text=True, check=False)
    lines = (done.stdout + done.stderr).splitlines()
    errors = [line for line in lines if line.startswith("Error")]
    warnings = [line for line in lines if line.startswith("Warning")]
    return errors, warnings


# The only warnings expected: the study's date and time are removed by the
# de-identification (empty type 2 attributes), which a DICOMDIR would want.
EXPECTED_WARNINGS = (
    "Warning - Missing attribute or value that would be needed to build DICOMDIR - Study Date",
    "Warning - Missing attribute or value that would be needed to build DICOMDIR - Study Time",
)
# The SR's MSCC, MCC, TA and CR have no standard codes: they use a private coding scheme
# (declared in CodingSchemeIdentificationSequence), which dciodvfy does not know.
SR_WARNINGS = (
    *EXPECTED_WARNINGS,
    "Warning - Unrecognized defined term <99SPINELABEL> for value 1 of attribute "
    "<Coding Scheme Designator>",
)


def _values(dataset: Dataset) -> Iterator[str]:
    """Every element value as text, at any depth, file meta included."""
    for elem in dataset.iterall():
        if elem.VR in ("OB", "OW", "OF", "OD", "OL", "OV", "UN"):
            continue
        yield str(elem.value)
    meta = getattr(dataset, "file_meta", None)
    if meta is not None:
        for elem in meta.iterall():
            yield str(elem.value)


def identifiers_found(path: Path, identifiers: list[str]) -> list[str]:
    """Identifiers present in the file's elements (nested sequences included) or bytes."""
    raw = path.read_bytes()
    text = "\n".join(_values(dcmread(path)))
    return [v for v in identifiers if v in text or v.encode() in raw]
