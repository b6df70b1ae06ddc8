"""Fixtures of the export tests: a phantom study carrying identifiers, imported through the
real ingest, with an annotator's read, a signed gold read and a model read on it."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from annotation.ingest import ingest_paths
from annotation.models import Case, Image, Project, Read, ReadKind, Split
from annotation.models.review import GoldSignature
from annotation.services.revisions import revision_create
from exports.archive import export_root
from exports.models import ExportJob
from exports.run import export_run
from exports.services import ExportRequest, export_request
from fixtures.dicom_io import dicom_identifiers, write_dicom
from fixtures.labelme_io import labelme_truth
from fixtures.phantom import make_phantom
from fixtures.phantom_types import Phantom, PhantomSpec
from inference.models import ModelVersion, PrelabelJob

NAME = "Quimby^Josephine"
PATIENT_ID = "HOSP-7731-0042"
SPEC = PhantomSpec(
    seed=23,
    n_sagittal_slices=3,
    sagittal_shape=(256, 256),
    pixel_spacing=(1.0, 1.0),
    axial_shape=(96, 96),
)


@dataclass
class Study:
    case: Case
    phantom: Phantom
    annotator_read: Read
    gold_read: Read
    model_read: Read
    model_version: ModelVersion
    # Identifying values written into the source DICOM (none may leave in an export).
    identifiers: list[str]
    source_uids: list[str]


def _shapes_of(phantom: Phantom, case: Case, *, shift: float = 0.0) -> dict[str, list[Any]]:
    """The phantom's truth on the mid-sagittal and the narrowest axial slice, by image id."""
    shapes: dict[str, list[Any]] = {}
    for view, volume, index in (
        ("sagittal", phantom.sagittal, phantom.sagittal_truth.mid_index),
        ("axial", phantom.axial, phantom.axial_truth.narrowest_index),
    ):
        position = [float(v) for v in volume.slice_positions[index]]
        image = next(
            i
            for i in Image.objects.filter(series__case=case, series__orientation=view)
            if all(abs(a - b) < 1e-3 for a, b in zip(i.image_position, position, strict=True))
        )
        document = labelme_truth(phantom, view=view, image_path="x.png", index=index)  # type: ignore[arg-type]
        for shape in document["shapes"]:
            shape["points"] = [[x + shift, y] for x, y in shape["points"]]
        shapes[str(image.pk)] = document["shapes"]
    return shapes


def _source_values(folder: Path) -> tuple[list[str], list[str]]:
    from pydicom import dcmread

    values = [
        v
        for k, v in dicom_identifiers(
            patient_name=NAME, patient_id=PATIENT_ID, seed=SPEC.seed
        ).items()
        if k not in {"PatientSex", "PatientAge"}
    ]
    values += ["Quimby", "Josephine", "HOSP-7731"]
    uids: set[str] = set()
    for path in folder.rglob("*.dcm"):
        ds = dcmread(path, stop_before_pixels=True)
        uids |= {ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID}
        uids.add(ds.FrameOfReferenceUID)
    return [v for v in values if len(v) >= 5], sorted(uids)


@pytest.fixture
def study(project: Project, cast: dict[str, User], tmp_path: Path) -> Study:
    phantom = make_phantom(SPEC)
    folder = tmp_path / NAME
    write_dicom(phantom, folder, patient_name=NAME, patient_id=PATIENT_ID)
    summary = ingest_paths(project=project, paths=[folder])
    case = Case.objects.get(pk=summary.cases[0].id)
    Case.objects.filter(pk=case.pk).update(split=Split.TEST)
    case.refresh_from_db()

    annotator = Read.objects.create(case=case, kind=ReadKind.HUMAN, author=cast["annotator"])
    revision_create(
        read=annotator,
        parent_id=None,
        shapes=_shapes_of(phantom, case, shift=0.5),
        author=cast["annotator"],
        case_fields={"compression_present": True, "image_quality": "good"},
    )
    gold = Read.objects.create(case=case, kind=ReadKind.GOLD)
    signed = revision_create(
        read=gold, parent_id=None, shapes=_shapes_of(phantom, case), author=cast["reviewer"]
    )
    GoldSignature.objects.create(read=gold, revision=signed, signed_by=cast["reviewer"])
    model = Read.objects.create(case=case, kind=ReadKind.MODEL, name="sagittal #1")
    revision_create(read=model, parent_id=None, shapes=_shapes_of(phantom, case, shift=1.0))
    version = ModelVersion.objects.create(
        task="sagittal", name="phantom-net v1", file="none.onnx", sha256="0" * 64
    )
    job = PrelabelJob.objects.create(case=case, read=model, status="succeeded")
    job.model_versions.add(version)
    identifiers, uids = _source_values(folder)
    for read in (annotator, gold, model):
        read.refresh_from_db()
    return Study(case, phantom, annotator, gold, model, version, identifiers, uids)


def export_now(
    *,
    project: Project,
    user: User,
    role: str,
    formats: tuple[str, ...],
    kind: str = "gold",
    value: str = "",
    split: str = "",
) -> ExportJob:
    """Request an export and run its task body here (the queue is exercised elsewhere)."""
    job = export_request(
        project=project,
        user=user,
        role=role,
        request=ExportRequest(
            split=split, selection_kind=kind, selection_value=value, formats=formats
        ),
    )
    job = export_run(job_id=job.pk)
    assert job.status == "succeeded", job.reason
    return job


def unzip(job: ExportJob, target: Path) -> Path:
    with zipfile.ZipFile(export_root() / job.file) as archive:
        archive.extractall(target)
    return target
