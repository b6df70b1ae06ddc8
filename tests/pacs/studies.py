"""The DICOM loaded into the test Orthanc: two phantom studies, a real sagittal T2 series
(fixtures/data, converted from NIfTI), and a study whose instances carry no pixel data.
Every study carries known identifiers, which the privacy test looks for."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

from fixtures.demo import DEMO_PHANTOMS
from fixtures.phantom import make_phantom, write_dicom
from fixtures.real import real_volume

# The real series' patient: every one of these must stay out of annotators' sight and logs.
REAL_IDENTIFIERS = {
    "PatientName": "Quist^Hortensia^Amalie",
    "PatientID": "PACS-MRN-5521907",
    "PatientBirthDate": "19471123",
    "InstitutionName": "Ravensworth Infirmary Spine Unit",
    "AccessionNumber": "RAV88123",
    "ReferringPhysicianName": "Mbeki^Thandiwe",
    "StudyDate": "20230517",
}


@dataclass(frozen=True)
class Loaded:
    phantom_uids: tuple[str, ...]  # two series each (sagittal 9, axial 6 or 7 instances)
    phantom_names: tuple[str, ...]
    real_uid: str  # one series of REAL_SLICES instances
    no_pixels_uid: str
    instances: dict[str, int]


REAL_SLICES = 52


def _phantoms(folder: Path) -> tuple[list[Path], list[str], list[str], list[int]]:
    paths: list[Path] = []
    counts: list[int] = []
    uids: list[str] = []
    names = ["Phantasm^Philippa", "Phantasm^Peregrine"]
    for index, name in enumerate(names):
        phantom = make_phantom(DEMO_PHANTOMS[index])
        uid = generate_uid()
        written = write_dicom(
            phantom,
            folder / f"phantom-{index}",
            patient_name=name,
            patient_id=f"PH-{index}-4471",
            study_uid=uid,
        )
        paths += written
        counts.append(len(written))
        uids.append(uid)
    return paths, uids, names, counts


def _identify(ds: Dataset, values: dict[str, str]) -> None:
    for keyword, value in values.items():
        setattr(ds, keyword, value)


def _base(study_uid: str, series_uid: str, number: int) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = MRImageStorage
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.Modality = "MR"
    ds.SeriesNumber = 1
    ds.InstanceNumber = number
    _identify(ds, REAL_IDENTIFIERS)
    return ds


def real_series(folder: Path, *, study_uid: str) -> list[Path]:
    """The real sagittal T2 (sct_testing_t2) as one DICOM series: one slice per voxel
    plane along the left-right axis, geometry from the NIfTI affine (RAS to LPS)."""
    volume = real_volume("sct_testing_t2")
    image: Any = nib.load(volume.path)
    data = np.asarray(image.dataobj, dtype=np.float64)
    lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ image.affine
    axes = np.abs(lps[:3, :3])
    slice_axis = int(np.argmax(axes[0]))  # most along x (left-right)
    row_axis = int(np.argmax(np.where(np.arange(3) == slice_axis, -1, axes[2])))  # along z
    col_axis = 3 - slice_axis - row_axis
    pixels = np.clip(np.rint(data), 0, 65535).astype(np.uint16)
    series_uid = generate_uid()
    frame = generate_uid()
    folder.mkdir(parents=True, exist_ok=True)
    row_dir = lps[:3, col_axis] / np.linalg.norm(lps[:3, col_axis])
    col_dir = lps[:3, row_axis] / np.linalg.norm(lps[:3, row_axis])
    spacing = [float(np.linalg.norm(lps[:3, row_axis])), float(np.linalg.norm(lps[:3, col_axis]))]
    stack = np.moveaxis(pixels, (slice_axis, row_axis, col_axis), (0, 1, 2))
    paths = []
    for k in range(stack.shape[0]):
        plane2d = stack[k]
        index = [0, 0, 0]
        index[slice_axis] = k
        origin = lps @ np.array([*index, 1.0])
        ds = _base(study_uid, series_uid, k + 1)
        ds.SeriesDescription = "T2 SAG real"
        ds.FrameOfReferenceUID = frame
        ds.ImageOrientationPatient = [float(v) for v in (*row_dir, *col_dir)]
        ds.ImagePositionPatient = [float(v) for v in origin[:3]]
        ds.PixelSpacing = spacing
        ds.SliceThickness = float(np.linalg.norm(lps[:3, slice_axis]))
        ds.Rows, ds.Columns = plane2d.shape
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 0
        ds.PixelData = np.ascontiguousarray(plane2d, dtype="<u2").tobytes()
        path = folder / f"real-{k + 1:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def no_pixel_study(folder: Path, *, study_uid: str) -> list[Path]:
    """Two MR instances whose pixel data is missing (a header-only export)."""
    folder.mkdir(parents=True, exist_ok=True)
    series_uid = generate_uid()
    paths = []
    for number in (1, 2):
        ds = _base(study_uid, series_uid, number)
        ds.SeriesDescription = "localiser header only"
        ds.AccessionNumber = "NOPIX0001"
        path = folder / f"nopix-{number}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def build(folder: Path) -> tuple[list[Path], Loaded]:
    phantom_paths, phantom_uids, names, counts = _phantoms(folder)
    real_uid, empty_uid = generate_uid(), generate_uid()
    real = real_series(folder / "real", study_uid=real_uid)
    empty = no_pixel_study(folder / "nopix", study_uid=empty_uid)
    instances = dict(zip(phantom_uids, counts, strict=True)) | {real_uid: len(real), empty_uid: 2}
    loaded = Loaded(tuple(phantom_uids), tuple(names), real_uid, empty_uid, instances)
    return phantom_paths + real + empty, loaded
