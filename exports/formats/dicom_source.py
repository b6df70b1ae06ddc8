"""De-identified DICOM MR images rebuilt from the pixel store, for the SEG and SR to reference.

Original files are never exported (where a project keeps them they carry identifiers), so
every DICOM export brings its own source images, built from the stored pixels and geometry:
- UIDs are the de-identified ones stored at ingest (the replacement SOP Instance, Series,
  Study and Frame of Reference UIDs); where a case did not come from DICOM (NIfTI,
  labelme, phantoms) they are derived by hashing the stored series UID, so every export of
  the same series names the same instances.
- Patient name and ID are the case pseudonym; every type 2 identifying attribute (birth
  date, study date, referring physician, accession number, study ID) is present and empty.
- From a DICOM header only technical attributes are copied (an allow-list: sequence
  parameters, scanner make and model, sex and age as the de-identification keeps them).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    ExplicitVRLittleEndian,
    MRImageStorage,
)

from annotation.ingest.deid import METHOD, METHOD_CODES
from exports.bundle import CaseBundle, ImageRef, SeriesBundle

SOFTWARE = "spinelabel"
# Direction cosines (row, column; LPS) assumed where a source had no geometry (labelme).
_DEFAULT_DIRECTIONS = {
    "sagittal": ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0)),
    "coronal": ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0)),
}
_AXIAL = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))

# Technical attributes copied from a de-identified DICOM header (keyword -> tag).
_COPIED = {
    "PatientSex": "00100040",
    "PatientAge": "00101010",
    "Manufacturer": "00080070",
    "ManufacturerModelName": "00081090",
    "BodyPartExamined": "00180015",
    "ScanningSequence": "00180020",
    "SequenceVariant": "00180021",
    "ScanOptions": "00180022",
    "MRAcquisitionType": "00180023",
    "SequenceName": "00180024",
    "RepetitionTime": "00180080",
    "EchoTime": "00180081",
    "InversionTime": "00180082",
    "EchoTrainLength": "00180091",
    "ImagingFrequency": "00180084",
    "ImagedNucleus": "00180085",
    "MagneticFieldStrength": "00180087",
    "FlipAngle": "00181314",
    "PatientPosition": "00185100",
}
# MR Image module attributes of type 1 and 2 with the value used when a header lacks them:
# "RM" (research mode) and "NONE" say honestly that the sequence is not known.
_MR_DEFAULTS: dict[str, Any] = {
    "ScanningSequence": "RM",
    "SequenceVariant": "NONE",
    "ScanOptions": "",
    "MRAcquisitionType": "",
    "RepetitionTime": "",
    "EchoTime": "",
    "EchoTrainLength": "",
    "PatientSex": "",
    "Manufacturer": "",
    "PatientPosition": "",
}


def derived_uid(*parts: str) -> str:
    """A stable 2.25 UID from the given (already de-identified) parts."""
    digest = hashlib.sha256("\x1f".join(("spinelabel-export", *parts)).encode()).digest()
    return "2.25." + str(int.from_bytes(digest[:16], "big"))


def study_uid(case: CaseBundle, series: SeriesBundle, project_slug: str) -> str:
    """The series' de-identified Study Instance UID, or one derived from the case."""
    return series.study_instance_uid or derived_uid("study", project_slug, case.pseudonym)


def frame_of_reference_uid(series: SeriesBundle) -> str:
    return series.frame_of_reference_uid or derived_uid(
        "frame-of-reference", series.series_instance_uid
    )


def image_uid(series: SeriesBundle, image: ImageRef) -> str:
    """The de-identified SOP Instance UID of one slice (derived where not from DICOM)."""
    return image.sop_instance_uid or derived_uid(
        "image", series.series_instance_uid, str(image.index)
    )


def directions(
    series: SeriesBundle,
) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    if series.row_direction and series.column_direction:
        return series.row_direction, series.column_direction
    return _DEFAULT_DIRECTIONS.get(series.orientation, _AXIAL)


def image_position(series: SeriesBundle, image: ImageRef) -> tuple[float, float, float]:
    """LPS position of the first pixel's centre; where unknown, stepped along the normal."""
    if image.position is not None:
        return image.position
    row, column = directions(series)
    normal = np.cross(np.asarray(row), np.asarray(column))
    step = series.slice_spacing or series.slice_thickness or 1.0
    x, y, z = (float(v) for v in normal * step * image.index)
    return (x, y, z)


def _ds(value: float) -> str:
    """A decimal string within DICOM's 16 characters."""
    text = f"{value:.10g}"
    return "0" if text in ("-0", "0") else text


def _header_attributes(header: Mapping[str, Any]) -> Dataset:
    """The allow-listed technical attributes of a de-identified DICOM JSON header."""
    picked = {tag: header[tag] for tag in _COPIED.values() if tag in header}
    try:
        return Dataset.from_json(picked)
    except (ValueError, TypeError, KeyError):
        return Dataset()


def _stored_pixels(pixels: np.ndarray) -> tuple[np.ndarray, tuple[float, float] | None]:
    """16-bit pixels for the MR IOD, and (slope, intercept) where floats had to be scaled."""
    if pixels.dtype in (np.uint16, np.int16):
        return np.ascontiguousarray(pixels), None
    if pixels.dtype == np.uint8:
        return pixels.astype(np.uint16), None
    values = np.nan_to_num(pixels.astype(np.float64))
    low, high = float(values.min(initial=0.0)), float(values.max(initial=0.0))
    if np.array_equal(values, np.round(values)) and low >= 0 and high <= 65535:
        return values.astype(np.uint16), None
    slope = (high - low) / 65535.0 if high > low else 1.0
    scaled = np.clip(np.round((values - low) / slope), 0, 65535).astype(np.uint16)
    return scaled, (slope, low)


def _deid_method(target: Dataset) -> None:
    target.PatientIdentityRemoved = "YES"
    target.DeidentificationMethod = METHOD
    items = []
    for value, meaning in METHOD_CODES:
        item = Dataset()
        item.CodeValue = value
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = meaning
        items.append(item)
    target.DeidentificationMethodCodeSequence = DicomSequence(items)


def patient_study(target: Dataset, *, pseudonym: str, study_instance_uid: str) -> None:
    """Patient and study modules: the pseudonym, and every identifying type 2 left empty."""
    # A trailing caret: the pseudonym is the family-name component (not the retired form).
    target.PatientName = f"{pseudonym}^"
    target.PatientID = pseudonym
    target.PatientBirthDate = ""
    target.StudyInstanceUID = study_instance_uid
    target.StudyDate = ""
    target.StudyTime = ""
    target.ReferringPhysicianName = ""
    target.StudyID = pseudonym[:16]
    target.AccessionNumber = ""
    _deid_method(target)


def mr_image(
    *,
    case: CaseBundle,
    series: SeriesBundle,
    image: ImageRef,
    project_slug: str,
) -> Dataset:
    """One de-identified single-frame MR image of a stored slice, ready to save."""
    uid = image_uid(series, image)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = UID(uid)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = SOFTWARE
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = uid
    for keyword, value in _MR_DEFAULTS.items():
        setattr(ds, keyword, value)
    ds.update(_header_attributes(series.header))
    patient_study(
        ds, pseudonym=case.pseudonym, study_instance_uid=study_uid(case, series, project_slug)
    )
    ds.Modality = "MR"
    if "BodyPartExamined" not in ds:
        # Every image of this product shows the spine (an unpaired part: no Laterality).
        ds.BodyPartExamined = "SPINE"
    ds.SeriesInstanceUID = series.series_instance_uid
    ds.SeriesNumber = series.number
    ds.SeriesDescription = series.description[:64]
    ds.FrameOfReferenceUID = frame_of_reference_uid(series)
    ds.PositionReferenceIndicator = ""
    ds.InstanceNumber = image.index + 1
    ds.ImageType = ["DERIVED", "SECONDARY", "OTHER"]
    ds.DerivationDescription = "rebuilt from the de-identified pixel store" + (
        "" if series.spacing_known else "; pixel spacing unknown (1 mm assumed)"
    )
    _plane(ds, series, image)
    _pixels(ds, series, image)
    return ds


def _plane(ds: Dataset, series: SeriesBundle, image: ImageRef) -> None:
    row, column = directions(series)
    ds.PixelSpacing = [_ds(series.pixel_spacing[0]), _ds(series.pixel_spacing[1])]
    ds.ImageOrientationPatient = [_ds(v) for v in (*row, *column)]
    ds.ImagePositionPatient = [_ds(v) for v in image_position(series, image)]
    ds.SliceThickness = _ds(series.slice_thickness) if series.slice_thickness else ""
    if series.slice_spacing:
        ds.SpacingBetweenSlices = _ds(series.slice_spacing)


def _pixels(ds: Dataset, series: SeriesBundle, image: ImageRef) -> None:
    stored, rescale = _stored_pixels(np.asarray(series.pixels(image)))
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = stored.shape
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1 if stored.dtype == np.int16 else 0
    ds.WindowCenter = _ds(series.window_center)
    ds.WindowWidth = _ds(max(series.window_width, 1.0))
    if rescale is not None:
        slope, intercept = rescale
        ds.RescaleSlope = _ds(slope)
        ds.RescaleIntercept = _ds(intercept)
        ds.RescaleType = "US"
    ds.PixelData = stored.astype(stored.dtype.newbyteorder("<"), copy=False).tobytes()


def source_images(
    *,
    case: CaseBundle,
    series: SeriesBundle,
    images: Sequence[ImageRef],
    project_slug: str,
) -> list[Dataset]:
    """The MR images of the given slices of one series, in slice order."""
    ordered = sorted(images, key=lambda i: i.index)
    return [
        mr_image(case=case, series=series, image=image, project_slug=project_slug)
        for image in ordered
    ]


def save_dataset(dataset: Dataset, path: Path) -> None:
    """Write a DICOM file atomically (a temporary name, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        dataset.save_as(temporary, enforce_file_format=True)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_sources(folder: Path, datasets: Sequence[Dataset]) -> list[Path]:
    """Save source images as <folder>/<SOP Instance UID>.dcm, once each."""
    paths = []
    for dataset in datasets:
        path = folder / f"{dataset.SOPInstanceUID}.dcm"
        if not path.exists():
            save_dataset(dataset, path)
        paths.append(path)
    return paths
