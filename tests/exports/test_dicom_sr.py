"""DICOM SR measurement report (TID 1500): read back by highdicom with each read's MSCC, MCC,
TA and CR, their UCUM units and the algorithm version; valid for dciodvfy; no identifier or
person's name inside."""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
import pytest
from django.contrib.auth.models import User
from pydicom import dcmread
from pydicom.sr.codedict import codes

from annotation.models import Membership, Project, Read, ReadKind
from annotation.models.reads import RevisionSource
from annotation.services.revisions import revision_create
from exports.formats import format_get
from inference.models import ModelVersion, PrelabelJob
from measurements.core import ALGORITHM_VERSION
from measurements.models import MeasurementResult
from tests.exports.dicom_helpers import (
    SR_WARNINGS,
    ImportedStudy,
    bundle_of,
    dciodvfy,
    export_context,
    identifiers_found,
    import_phantom_study,
)

pytestmark = pytest.mark.django_db

# name code -> (stored value key, UCUM unit)
REPORTED = {
    "MSCC": ("mscc_percent", "%"),
    "MCC": ("mcc_percent", "%"),
    "TA": ("ta", "mm2"),
    "CR": ("cr", "{ratio}"),
}
AUTHOR = "hibbert.julius"


@pytest.fixture
def study(project: Project, tmp_path: Path) -> ImportedStudy:
    # An author whose user name must not reach the report (only the role does).
    author = User.objects.create(username=AUTHOR, first_name="Julius", last_name="Hibbert")
    Membership.objects.create(project=project, user=author, role="annotator")
    imported = import_phantom_study(project=project, author=author, folder=tmp_path)
    imported.identifiers += [AUTHOR, "Hibbert"]
    return imported


def _export(project: Project, read: Read, folder: Path) -> list[Path]:
    spec = format_get("dicom_sr")
    assert spec is not None
    writer = spec.open(folder, export_context(project))
    writer.write_case(bundle_of(read))
    writer.close()
    return sorted(folder.rglob("*.dcm"))


def _report(path: Path) -> hd.sr.MeasurementReport:
    """The document's content as TID 1500 (highdicom recognises the template on reading)."""
    report = hd.sr.Comprehensive3DSR.from_dataset(dcmread(path)).content
    assert isinstance(report, hd.sr.MeasurementReport)
    return report


def _reported(path: Path) -> dict[str, tuple[float, str, str, str]]:
    """name code -> (value, unit code, referenced SOP Instance UID, algorithm version)."""
    report = _report(path)
    out: dict[str, tuple[float, str, str, str]] = {}
    for group in report.get_image_measurement_groups():
        for measurement in group.get_measurements():
            (version,) = [
                item.TextValue
                for item in measurement[0].ContentSequence
                if item.ConceptNameCodeSequence[0].CodeValue == codes.DCM.AlgorithmVersion.value
            ]
            (image,) = measurement.referenced_images
            out[measurement.name.value] = (
                float(measurement.value),
                measurement.unit.value,
                image.referenced_sop_instance_uid,
                version,
            )
    return out


def test_the_report_carries_each_value_with_its_unit_image_and_algorithm_version(
    project: Project, study: ImportedStudy, tmp_path: Path
) -> None:
    files = _export(project, study.read, tmp_path / "out")

    (path,) = [p for p in files if p.name.endswith("-sr.dcm")]
    assert study.read.head_id is not None
    stored = {
        r.image_id: r for r in MeasurementResult.objects.filter(revision_id=study.read.head_id)
    }
    reported = _reported(path)
    assert set(reported) == set(REPORTED)
    for name, (key, unit) in REPORTED.items():
        image = study.sagittal if name in ("MSCC", "MCC") else study.axial
        value, unit_code, referenced, version = reported[name]
        assert value == pytest.approx(stored[image.pk].values[key], rel=1e-6)
        assert unit_code == unit
        assert referenced == image.uid  # the de-identified instance it was measured on
        assert version == stored[image.pk].algorithm_version == ALGORITHM_VERSION
    expected = study.phantom.expected
    assert reported["MSCC"][0] == pytest.approx(100 * expected["mscc"], abs=0.5)
    assert reported["TA"][0] == pytest.approx(expected["ta"], rel=0.01)
    # The evidence is the measured images, exported beside the report under their UIDs.
    sources = {str(dcmread(p).SOPInstanceUID) for p in files if p.parent.name == "source"}
    assert sources == {study.sagittal.uid, study.axial.uid}
    sr = dcmread(path)
    evidence = {
        item.ReferencedSOPInstanceUID
        for study_item in sr.CurrentRequestedProcedureEvidenceSequence
        for series in study_item.ReferencedSeriesSequence
        for item in series.ReferencedSOPSequence
    }
    assert evidence == sources


def test_the_observer_is_a_role_never_a_name_and_every_file_is_valid_and_clean(
    project: Project, study: ImportedStudy, tmp_path: Path
) -> None:
    files = _export(project, study.read, tmp_path / "out")

    (path,) = [p for p in files if p.name.endswith("-sr.dcm")]
    report = _report(path)
    (observer,) = report.get_observer_contexts()
    assert observer.observer_type == codes.DCM.Person
    assert str(observer.observer_identifying_attributes.name) == "annotator^"
    assert len(files) == 3
    for file in files:
        errors, warnings = dciodvfy(file)
        assert errors == [], (file.name, errors)
        assert set(warnings) <= set(SR_WARNINGS), (file.name, warnings)
        assert identifiers_found(file, study.identifiers) == [], file.name


def test_a_model_read_is_reported_by_a_device_with_its_model_version(
    project: Project, study: ImportedStudy, tmp_path: Path
) -> None:
    model = Read.objects.create(case_id=study.case_id, kind=ReadKind.MODEL, name="sagittal #1")
    revision_create(read=model, parent_id=None, shapes=study.shapes, source=RevisionSource.MODEL)
    version = ModelVersion.objects.create(
        task="sagittal", name="phantom-net v1", file="none.onnx", sha256="0" * 64
    )
    job = PrelabelJob.objects.create(case_id=study.case_id, read=model, status="succeeded")
    job.model_versions.add(version)
    model.refresh_from_db()

    files = _export(project, model, tmp_path / "out")

    (path,) = [p for p in files if p.name.endswith("-sr.dcm")]
    report = _report(path)
    (observer,) = report.get_observer_contexts()
    assert observer.observer_type == codes.DCM.Device
    device = observer.observer_identifying_attributes
    assert isinstance(device, hd.sr.DeviceObserverIdentifyingAttributes)
    assert device.model_name == f"sagittal #{version.pk} phantom-net v1"
    assert set(_reported(path)) == set(REPORTED)
    errors, warnings = dciodvfy(path)
    assert errors == []
    assert set(warnings) <= set(SR_WARNINGS)


def test_a_read_without_measurements_writes_no_report(
    project: Project, study: ImportedStudy, tmp_path: Path
) -> None:
    empty = Read.objects.create(case_id=study.case_id, kind=ReadKind.MODEL, name="empty")
    revision_create(read=empty, parent_id=None, shapes={}, source=RevisionSource.MODEL)
    empty.refresh_from_db()

    assert _export(project, empty, tmp_path / "out") == []


def test_caliper_values_stand_in_where_no_polygon_was_measured(
    project: Project, study: ImportedStudy, tmp_path: Path
) -> None:
    # Horizontal calipers on the sagittal slice: d_i 5 px, d_a and d_b 10 px, so whatever
    # the column spacing, MSCC = (1 - 2 * 5 / 20) * 100 = 50 %.
    lines = {"d_i": (20.0, 25.0), "d_a": (20.0, 30.0), "d_b": (20.0, 30.0)}
    shapes = {
        str(study.sagittal.pk): [
            {"label": name, "points": [[x0, 40.0 + k], [x1, 40.0 + k]], "shape_type": "line"}
            for k, (name, (x0, x1)) in enumerate(lines.items())
        ]
    }
    calipers = Read.objects.create(case_id=study.case_id, kind=ReadKind.MODEL, name="calipers")
    revision_create(read=calipers, parent_id=None, shapes=shapes, source=RevisionSource.MODEL)
    calipers.refresh_from_db()

    files = _export(project, calipers, tmp_path / "out")

    (path,) = [p for p in files if p.name.endswith("-sr.dcm")]
    (group,) = _report(path).get_image_measurement_groups()
    (measurement,) = group.get_measurements()
    assert measurement.name.value == "MSCC"
    assert float(measurement.value) == pytest.approx(50.0)
    assert measurement.unit.value == "%"
    assert measurement.method is not None
    assert measurement.method.value == "CALIPER"
