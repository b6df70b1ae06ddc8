"""De-identification: no direct identifier survives an import, anywhere it could be stored."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from django.conf import settings
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import MRImageStorage

from annotation.ingest import ingest_paths
from annotation.ingest.deid import deidentify, replacement_uid
from annotation.models import Case, Image, Project, Read, Revision, Series
from fixtures.dicom_io import dicom_identifiers, write_dicom
from fixtures.phantom import make_phantom
from fixtures.phantom_types import PhantomSpec
from tests.annotation.conftest import IDENTIFIERS

pytestmark = pytest.mark.django_db

NAME = "Quimby^Josephine"
PATIENT_ID = "HOSP-7731-0042"
# Kept on purpose (Retain Patient Characteristics Option): sex and age.
KEPT = {"PatientSex", "PatientAge"}


def _phantom_study(folder: Path) -> tuple[list[Path], list[str]]:
    spec = PhantomSpec(n_sagittal_slices=3, seed=11)
    paths = write_dicom(make_phantom(spec), folder, patient_name=NAME, patient_id=PATIENT_ID)
    values = [
        v
        for k, v in dicom_identifiers(
            patient_name=NAME, patient_id=PATIENT_ID, seed=spec.seed
        ).items()
        if k not in KEPT
    ]
    values += ["Quimby", "Josephine", "Quimby Josephine"]
    first = dcmread(paths[0], stop_before_pixels=True)
    values += [first.StudyInstanceUID, first.SeriesInstanceUID, first.SOPInstanceUID]
    values += [first.FrameOfReferenceUID]
    # Short values ("S11") would match by chance inside unrelated text: keep distinctive ones.
    return paths, [v for v in values if len(v) >= 5]


def _stored_text() -> str:
    rows = [
        list(Case.objects.values()),
        list(
            Series.objects.values(*[f.name for f in Series._meta.fields if f.name != "thumbnail"])
        ),
        list(Image.objects.values()),
        list(Read.objects.values()),
        list(Revision.objects.values()),
    ]
    return json.dumps(rows, default=str)


def test_no_identifier_survives_in_rows_pixels_summary_or_logs(
    project: Project, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    paths, identifiers = _phantom_study(tmp_path / "Quimby^Josephine")
    caplog.set_level(logging.DEBUG)

    summary = ingest_paths(project=project, paths=[tmp_path / "Quimby^Josephine"])

    assert summary.skipped == []
    assert summary.images == len(paths)
    stored = _stored_text()
    pixel_bytes = b"".join(p.read_bytes() for p in Path(settings.PIXEL_ROOT).rglob("*.raw"))
    summary_text = json.dumps(
        {"cases": summary.as_dict()["cases"], "series": summary.series, "notes": summary.notes}
    )
    for value in identifiers:
        assert value not in stored, value
        assert value.encode() not in pixel_bytes, value
        assert value not in summary_text, value
        assert value not in caplog.text, value


def test_the_stored_header_keeps_what_measurements_need(project: Project, tmp_path: Path) -> None:
    _paths, _ = _phantom_study(tmp_path / "study")

    summary = ingest_paths(project=project, paths=[tmp_path / "study"])

    (case,) = summary.cases
    for series in Series.objects.filter(case_id=case.id):
        header = series.header
        for keyword_tag in ("00280030", "00180050", "00200037", "00200032", "00280010", "00280011"):
            assert keyword_tag in header  # PixelSpacing, SliceThickness, IOP, IPP, Rows, Columns
        assert header["00280101"]["Value"] == [12]  # BitsStored
        assert header["00080060"]["Value"] == ["MR"]
        assert header["0008103E"]["Value"] == [series.description]
        assert header["00100010"]["Value"] == [{"Alphabetic": case.pseudonym}]
        assert header["00100020"]["Value"] == [case.pseudonym]
        assert header["00120062"]["Value"] == ["YES"]  # PatientIdentityRemoved
        assert "00120063" in header  # DeidentificationMethod
        assert not any(int(tag[:4], 16) % 2 for tag in header), "private tag kept"
        assert not any(v.get("vr") in {"DA", "DT", "TM"} for v in header.values())
        # UIDs are replaced consistently: the header names this series and one of its images.
        assert header["0020000E"]["Value"] == [series.uid]
        assert series.images.filter(uid=header["00080018"]["Value"][0]).exists()
    studies = {s.header["0020000D"]["Value"][0] for s in Series.objects.all()}
    assert len(studies) == 1
    assert next(iter(studies)).startswith("2.25.")


def test_deidentify_cleans_nested_sequences_and_keeps_standard_uids() -> None:
    ds = Dataset()
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = "1.2.3.4.5"
    ds.PatientName = "Doe^John"
    ds.PatientAge = "095Y"
    ds.PatientSex = "M"
    ds.StudyDate = "20240102"
    ds.InstitutionName = "General"
    ds.SeriesDescription = "T2 SAG"
    ds.PixelSpacing = [0.5, 0.5]
    item = Dataset()
    item.ReferencedSOPClassUID = MRImageStorage
    item.ReferencedSOPInstanceUID = "1.2.3.4.5"
    item.PersonName = "Doe^Jane"
    item.ContentDate = "20240102"
    ds.ReferencedImageSequence = Sequence([item])
    ds.add_new(0x00291010, "LO", "Doe John private")

    clean = deidentify(ds, salt="s3cret", pseudonym="CASE-0001")

    assert clean.SOPClassUID == MRImageStorage
    assert clean.SOPInstanceUID == replacement_uid(salt="s3cret", original="1.2.3.4.5")
    nested = clean.ReferencedImageSequence[0]
    assert nested.ReferencedSOPInstanceUID == clean.SOPInstanceUID  # consistent mapping
    assert nested.ReferencedSOPClassUID == MRImageStorage
    assert "PersonName" not in nested
    assert "ContentDate" not in nested
    assert str(clean.PatientName) == "CASE-0001"
    assert clean.PatientID == "CASE-0001"
    assert clean.PatientAge == "090Y"
    assert clean.PatientSex == "M"
    assert "StudyDate" not in clean
    assert "InstitutionName" not in clean
    assert clean.SeriesDescription == "T2 SAG"
    assert clean.PixelSpacing == [0.5, 0.5]
    assert 0x00291010 not in clean
    assert clean.PatientIdentityRemoved == "YES"
    assert replacement_uid(salt="other", original="1.2.3.4.5") != clean.SOPInstanceUID


def test_uids_and_case_keys_differ_between_projects(tmp_path: Path, write_series) -> None:
    from annotation.services.projects import project_create

    first = project_create(slug="first")
    second = project_create(slug="second")
    write_series(tmp_path / "s", slices=1)

    ingest_paths(project=first, paths=[tmp_path / "s"])
    ingest_paths(project=second, paths=[tmp_path / "s"])

    a, b = (Series.objects.get(case__project=p) for p in (first, second))
    assert a.uid != b.uid
    assert a.case.source_key != b.case.source_key


def test_original_files_are_kept_only_when_the_project_asks(
    project: Project, tmp_path: Path, write_series
) -> None:
    paths = write_series(tmp_path / "s", slices=2)
    originals = Path(settings.DATA_DIR) / "originals"

    ingest_paths(project=project, paths=[tmp_path / "s"])
    assert not originals.exists()

    project.keep_original_files = True
    project.save(update_fields=["keep_original_files"])
    write_series(tmp_path / "t", slices=2)
    summary = ingest_paths(project=project, paths=[tmp_path / "t"])

    case = summary.cases[0]
    kept = sorted((originals / project.slug / case.pseudonym).rglob("*.dcm"))
    assert len(kept) == 2
    sources = {p.read_bytes() for p in (tmp_path / "t").iterdir()}
    assert {p.read_bytes() for p in kept} == sources
    # Kept under replacement names: no original file or folder name, no identifier.
    assert all(IDENTIFIERS["PatientName"] not in str(p) for p in kept)
    assert not str(originals).startswith(str(settings.PIXEL_ROOT))
    assert paths  # the first import kept nothing even though it had files
