"""Fixtures of the ingest tests: small DICOM series written on the fly, and a store census."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.conf import settings
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

from annotation.models import Case, Image, Read, Series

# Direct identifiers put into every phantom header by `write_series`.
IDENTIFIERS = {
    "PatientName": "Smithers^Waylon",
    "PatientID": "MRN-99173",
    "PatientBirthDate": "19580314",
    "PatientAddress": "742 Evergreen Terrace",
    "InstitutionName": "Springfield General",
    "ReferringPhysicianName": "Hibbert^Julius",
    "OperatorsName": "Tech^Lenny",
    "AccessionNumber": "ACC-31337",
    "StudyID": "STUDY-4242",
    "StudyDate": "20240229",
    "DeviceSerialNumber": "SN-8675309",
}
_ORIENTATIONS = {
    "sagittal": ([0.0, 1.0, 0.0, 0.0, 0.0, -1.0], 0),
    "axial": ([1.0, 0.0, 0.0, 0.0, 1.0, 0.0], 2),
    "coronal": ([1.0, 0.0, 0.0, 0.0, 0.0, -1.0], 1),
}


def _dataset(
    *,
    study_uid: str,
    series_uid: str,
    index: int,
    pixels: np.ndarray,
    orientation: str,
    modality: str,
    spacing: float,
    series_number: int,
) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = MRImageStorage
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = generate_uid()
    for keyword, value in IDENTIFIERS.items():
        setattr(ds, keyword, value)
    block = ds.private_block(0x0029, "PHANTOM WRITER", create=True)
    block.add_new(0x10, "LO", IDENTIFIERS["PatientName"])
    ds.Modality = modality
    ds.SeriesDescription = f"T2 {orientation}"
    ds.SeriesNumber = series_number
    ds.InstanceNumber = index + 1
    iop, axis = _ORIENTATIONS[orientation]
    position = [-20.0, -30.0, 40.0]
    position[axis] += index * spacing
    ds.ImageOrientationPatient = iop
    ds.ImagePositionPatient = position
    ds.PixelSpacing = [0.5, 0.75]
    ds.SliceThickness = spacing
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1 if pixels.dtype == np.int16 else 0
    ds.PixelData = np.ascontiguousarray(pixels, dtype=pixels.dtype.newbyteorder("<")).tobytes()
    return ds


WriteSeries = Callable[..., list[Path]]


@pytest.fixture
def write_series() -> WriteSeries:
    """Write one series of small MR slices with identifiers; returns the paths in slice order.

    Files are named in reverse position order so that sorting by name would be wrong.
    ``edit(ds, index)`` may change a dataset before it is saved.
    """

    def write(
        folder: Path,
        *,
        slices: int = 4,
        rows: int = 12,
        columns: int = 10,
        study_uid: str | None = None,
        series_uid: str | None = None,
        orientation: str = "sagittal",
        modality: str = "MR",
        spacing: float = 3.0,
        series_number: int = 1,
        seed: int = 0,
        edit: Callable[[Dataset, int], Any] | None = None,
    ) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        study_uid = study_uid or generate_uid()
        series_uid = series_uid or generate_uid()
        rng = np.random.default_rng(seed)
        paths = []
        for index in range(slices):
            pixels = rng.integers(0, 4000, size=(rows, columns), dtype=np.uint16)
            pixels[0, 0] = index  # every slice differs, so no two share a pixel file
            ds = _dataset(
                study_uid=study_uid,
                series_uid=series_uid,
                index=index,
                pixels=pixels,
                orientation=orientation,
                modality=modality,
                spacing=spacing,
                series_number=series_number,
            )
            if edit is not None:
                edit(ds, index)
            path = folder / f"IM{slices - index:04d}.dcm"
            ds.save_as(path, enforce_file_format=True)
            paths.append(path)
        return paths

    return write


StoreCensus = Callable[[], dict[str, int]]


@pytest.fixture
def census() -> StoreCensus:
    """Rows of each imaging table and files under PIXEL_ROOT, to prove nothing was left."""

    def count() -> dict[str, int]:
        root = Path(settings.PIXEL_ROOT)
        files = sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0
        return {
            "cases": Case.objects.count(),
            "series": Series.objects.count(),
            "images": Image.objects.count(),
            "reads": Read.objects.count(),
            "pixel_files": files,
        }

    return count
