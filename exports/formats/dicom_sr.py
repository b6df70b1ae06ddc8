"""DICOM SR measurement report (TID 1500, highdicom Comprehensive 3D SR), one per read.

Each measured image of the read is one measurement group (TID 1501) referencing its source
image: MSCC and MCC (UCUM "%") on a sagittal image, TA (mm2) and CR ({ratio}) on an axial
one, each with the measurement algorithm's version (TID 4019). Values come from the stored
measurement results of the exported revision; where a shape-based value is missing and
the reader drew calipers, the caliper value is reported with the method "manual caliper".
The observer is the measurement software for model reads and a person named only by the
read's role (annotator, reader, reviewer, lead, gold) otherwise.

Layout per case: ``<pseudonym>/<read tag>-sr.dcm`` and the referenced MR images under
``<pseudonym>/source/`` (exports.formats.dicom_source).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import highdicom as hd
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from exports.bundle import CaseBundle, ExportContext, ImageRef, ReadBundle, SeriesBundle
from exports.formats import ExportFormatError, FormatSpec
from exports.formats.dicom_source import (
    SOFTWARE,
    derived_uid,
    save_dataset,
    source_images,
    write_sources,
)

PRIVATE_SCHEME = "99SPINELABEL"
ALGORITHM_NAME = f"{SOFTWARE} measurements"
MANUAL_CALIPER = hd.sr.CodedConcept("CALIPER", PRIVATE_SCHEME, "Manual caliper measurement")
_CORD = hd.sr.FindingSite(anatomic_location=codes.SCT.SpinalCord)
_CANAL = hd.sr.FindingSite(anatomic_location=codes.SCT.SpinalCanalStructure)
PERCENT = hd.sr.CodedConcept.from_code(codes.UCUM.Percent)
SQUARE_MM = hd.sr.CodedConcept.from_code(codes.UCUM.SquareMillimeter)
RATIO = hd.sr.CodedConcept.from_code(codes.UCUM.Ratio)


@dataclass(frozen=True)
class Quantity:
    """One reported measurement: its stored value keys (shape-based, then caliper)."""

    name: hd.sr.CodedConcept
    unit: hd.sr.CodedConcept
    site: hd.sr.FindingSite
    key: str
    caliper_key: str


QUANTITIES: dict[str, tuple[Quantity, ...]] = {
    "sagittal": (
        Quantity(
            hd.sr.CodedConcept("MSCC", PRIVATE_SCHEME, "Maximum spinal cord compression"),
            PERCENT,
            _CORD,
            "mscc_percent",
            "manual_mscc_percent",
        ),
        Quantity(
            hd.sr.CodedConcept("MCC", PRIVATE_SCHEME, "Maximum canal compromise"),
            PERCENT,
            _CANAL,
            "mcc_percent",
            "manual_mcc_percent",
        ),
    ),
    "axial": (
        Quantity(
            hd.sr.CodedConcept("TA", PRIVATE_SCHEME, "Transverse area of the spinal cord"),
            SQUARE_MM,
            _CORD,
            "ta",
            "manual_ta",
        ),
        Quantity(
            hd.sr.CodedConcept("CR", PRIVATE_SCHEME, "Compression ratio of the spinal cord"),
            RATIO,
            _CORD,
            "cr",
            "manual_cr",
        ),
    ),
}


@dataclass(frozen=True)
class MeasuredImage:
    """The stored values of one image, with the source image they were measured on."""

    source: Dataset
    label: str  # names the group, e.g. "sagittal image 7"
    view: str
    values: Mapping[str, Any]
    algorithm_version: str


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _value(
    values: Mapping[str, Any], quantity: Quantity
) -> tuple[float | None, hd.sr.CodedConcept | None]:
    """The shape-based value, else the caliper one (with its method), else None."""
    value = _number(values.get(quantity.key))
    if value is not None:
        return value, None
    return _number(values.get(quantity.caliper_key)), MANUAL_CALIPER


def reportable(view: str, values: Mapping[str, Any]) -> bool:
    """Whether an image's stored values hold any of MSCC, MCC, TA, CR to report."""
    return any(_value(values, q)[0] is not None for q in QUANTITIES.get(view, ()))


def measurements_of(item: MeasuredImage) -> list[hd.sr.Measurement]:
    """TID 300 measurements of one image (those with a finite value)."""
    algorithm = hd.sr.AlgorithmIdentification(name=ALGORITHM_NAME, version=item.algorithm_version)
    reference = hd.sr.SourceImageForMeasurement.from_source_image(item.source)
    out = []
    for quantity in QUANTITIES.get(item.view, ()):
        value, method = _value(item.values, quantity)
        if value is None:
            continue
        out.append(
            hd.sr.Measurement(
                name=quantity.name,
                value=value,
                unit=quantity.unit,
                method=method,
                algorithm_id=algorithm,
                finding_sites=[quantity.site],
                referenced_images=[reference],
            )
        )
    return out


def observer_context(read: ReadBundle) -> hd.sr.ObservationContext:
    """A device for model reads; otherwise a person named only by the read's role."""
    if read.kind == "model":
        version = read.model_version or "unknown"
        device = hd.sr.DeviceObserverIdentifyingAttributes(
            uid=derived_uid("device", version),
            name=f"{SOFTWARE} model",
            manufacturer_name=SOFTWARE,
            model_name=version[:64],
        )
        return hd.sr.ObservationContext(
            observer_device_context=hd.sr.ObserverContext(
                observer_type=codes.DCM.Device, observer_identifying_attributes=device
            )
        )
    # The role as the family-name component (a caret: not the retired single-value form).
    person = hd.sr.PersonObserverIdentifyingAttributes(name=f"{read.author_role[:60]}^")
    return hd.sr.ObservationContext(
        observer_person_context=hd.sr.ObserverContext(
            observer_type=codes.DCM.Person, observer_identifying_attributes=person
        )
    )


def measurement_report(
    *, read: ReadBundle, measured: Sequence[MeasuredImage], series_number: int = 2000
) -> Dataset:
    """The SR document of one read; ValueError when nothing is measured."""
    groups = []
    for item in measured:
        found = measurements_of(item)
        if not found:
            continue
        tracking = hd.sr.TrackingIdentifier(
            uid=derived_uid("sr-group", str(read.revision_id), str(item.source.SOPInstanceUID)),
            identifier=f"{read.tag} {item.label}"[:64],
        )
        groups.append(
            hd.sr.MeasurementsAndQualitativeEvaluations(
                tracking_identifier=tracking,
                measurements=found,
                source_images=[hd.sr.SourceImageForMeasurementGroup.from_source_image(item.source)],
            )
        )
    if not groups:
        raise ValueError("no MSCC, MCC, TA or CR to report")
    report = hd.sr.MeasurementReport(
        observation_context=observer_context(read),
        procedure_reported=codes.SCT.ImagingProcedure,
        imaging_measurements=groups,
    )
    sources = {str(item.source.SOPInstanceUID): item.source for item in measured}
    sr: Dataset = hd.sr.Comprehensive3DSR(
        evidence=list(sources.values()),
        content=report,
        series_instance_uid=derived_uid("sr-series", str(read.revision_id)),
        series_number=series_number,
        sop_instance_uid=derived_uid("sr", str(read.revision_id)),
        instance_number=1,
        manufacturer=SOFTWARE,
        is_complete=True,
    )
    sr.CodingSchemeIdentificationSequence = [private_scheme()]
    return sr


def private_scheme() -> Dataset:
    """Declares the private coding scheme of the MSCC, MCC, TA and CR codes."""
    item = Dataset()
    item.CodingSchemeDesignator = PRIVATE_SCHEME
    item.CodingSchemeName = "spinelabel measurement codes"
    item.CodingSchemeResponsibleOrganization = SOFTWARE
    return item


class SrWriter:
    def __init__(self, folder: Path, context: ExportContext) -> None:
        self.folder = folder
        self.context = context

    def write_case(self, case: CaseBundle) -> None:
        series_of = case.series_of_image()
        for read in case.reads:
            try:
                self._write(case, read, series_of)
            except ValueError as exc:
                raise ExportFormatError(
                    f"{case.pseudonym}: DICOM SR of {read.tag} cannot be written: {exc}"
                ) from exc

    def _measured(
        self, case: CaseBundle, read: ReadBundle, series_of: dict[int, SeriesBundle]
    ) -> list[MeasuredImage]:
        found: list[tuple[SeriesBundle, ImageRef, Any]] = []
        for result in read.measurements:
            series = series_of.get(result.image_id)
            if series is None or not reportable(result.view, result.values):
                continue
            image = next(i for i in series.images if i.id == result.image_id)
            found.append((series, image, result))
        found.sort(key=lambda f: (f[0].number, f[0].id, f[1].index))
        items = []
        for series, image, result in found:
            (source,) = source_images(
                case=case, series=series, images=[image], project_slug=self.context.project_slug
            )
            items.append(
                MeasuredImage(
                    source=source,
                    label=f"series {series.number} image {image.index + 1}",
                    view=result.view,
                    values=result.values,
                    algorithm_version=result.algorithm_version,
                )
            )
        return items

    def _write(
        self, case: CaseBundle, read: ReadBundle, series_of: dict[int, SeriesBundle]
    ) -> Path | None:
        items = self._measured(case, read, series_of)
        if not items:
            return None  # nothing measured: no report rather than an empty one
        report = measurement_report(read=read, measured=items)
        case_folder = self.folder / case.pseudonym
        write_sources(case_folder / "source", [item.source for item in items])
        path = case_folder / f"{read.tag}-sr.dcm"
        save_dataset(report, path)
        return path

    def close(self) -> None:
        """Nothing spans cases: every report is written with its case."""


def open_writer(folder: Path, context: ExportContext) -> SrWriter:
    return SrWriter(folder, context)


FORMAT = FormatSpec(
    name="dicom_sr", title="DICOM SR measurement report (TID 1500)", open=open_writer
)
