"""Read one DICOM file: check it, decode its frames, queue their pixels for the store.

Each file is read once. Native little-endian pixel data is viewed in place (numpy over the
element's bytes); anything else goes through pydicom's decoders (pylibjpeg plugins for
JPEG, JPEG 2000, JPEG-LS and RLE). Enhanced multi-frame objects become one slice per frame,
with geometry from the per-frame (or shared) functional groups.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels.decoders.base import get_decoder
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from annotation.ingest.imaging import subsample
from annotation.ingest.pixelstore import PixelWriter, StoredSlice
from annotation.ingest.types import Refused
from annotation.pixels import normalise_dtype

# Pixel data of these transfer syntaxes is raw little-endian once pydicom has read the file.
_NATIVE_LE = {ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian}
_FAST_DTYPES = {(8, 0): "u1", (8, 1): "i1", (16, 0): "<u2", (16, 1): "<i2"}


@dataclass
class DicomSlice:
    """One frame of one file, its geometry, and its pixels on their way to the store."""

    file: str
    path: Path
    study_uid: str
    series_uid: str
    sop_uid: str
    frame: int | None
    modality: str
    rows: int
    columns: int
    orientation: tuple[float, ...] | None
    position: tuple[float, ...] | None
    spacing: tuple[float, float] | None
    thickness: float | None
    echo: str
    instance_number: int
    series_number: int
    window: tuple[float, float] | None
    dtype: str
    sample: np.ndarray
    pending: Future[StoredSlice]

    @property
    def key(self) -> str:
        return self.sop_uid if self.frame is None else f"{self.sop_uid}#{self.frame}"


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    return "" if value is None else str(value).strip()


def _floats(value: Any, count: int, name: str) -> tuple[float, ...] | None:
    if value is None or value == "":
        return None
    try:
        numbers = tuple(float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise Refused(f"malformed {name}") from exc
    if len(numbers) != count or not all(np.isfinite(numbers)):
        raise Refused(f"malformed {name} (expected {count} finite numbers)")
    return numbers


def _number(value: Any, default: float | None = None) -> float | None:
    if value is None or value == "":
        return default
    try:
        if hasattr(value, "__len__") and not isinstance(value, str | bytes):
            value = value[0] if len(value) else None
        result = float(value) if value is not None else default
    except (TypeError, ValueError):
        return default
    return result if result is None or np.isfinite(result) else default


def _integer(value: Any) -> int:
    number = _number(value, 0.0)
    return int(number) if number is not None else 0


def _read_dataset(path: Path) -> Dataset:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise Refused(f"cannot be read ({exc.strerror or 'I/O error'})") from exc
    if size == 0:
        raise Refused("empty file")
    try:
        return dcmread(path)
    except InvalidDicomError as exc:
        raise Refused("not a DICOM file (no DICM prefix in the file meta)") from exc
    except Exception as exc:  # pydicom raises many types on a damaged file
        raise Refused(
            f"not a readable DICOM file, truncated or corrupt ({type(exc).__name__})"
        ) from exc


def _transfer_syntax(ds: Dataset) -> UID:
    meta = getattr(ds, "file_meta", None)
    uid = meta.get("TransferSyntaxUID") if meta is not None else None
    if not uid:
        raise Refused("no transfer syntax in the file meta (truncated, or not a DICOM file)")
    ts = UID(str(uid))
    if ts in _NATIVE_LE or not ts.is_compressed:
        return ts
    try:
        decoder = get_decoder(ts)
    except NotImplementedError as exc:
        raise Refused(f"transfer syntax {ts.name} ({ts}) is not supported") from exc
    if not decoder.is_available:
        raise Refused(
            f"transfer syntax {ts.name} ({ts}) needs a decoder plugin that is not installed"
        )
    return ts


def _check_image(ds: Dataset) -> tuple[int, int, int]:
    if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        raise Refused("no pixel data (not an image, or a truncated file)")
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
        if not _text(ds, keyword):
            raise Refused(f"no {keyword}")
    if _text(ds, "BurnedInAnnotation").upper() == "YES":
        raise Refused("BurnedInAnnotation is YES: the pixels may show identifiers")
    samples = _integer(ds.get("SamplesPerPixel", 1)) or 1
    if samples != 1:
        raise Refused(f"colour images are not supported (SamplesPerPixel {samples})")
    rows, columns = _integer(ds.get("Rows")), _integer(ds.get("Columns"))
    if rows <= 0 or columns <= 0:
        raise Refused("no image size (Rows/Columns)")
    limit = settings.INGEST_MAX_IMAGE_PIXELS
    if rows * columns > limit:
        raise Refused(
            f"image of {rows}x{columns} pixels is above the limit of {limit} pixels"
            " (INGEST_MAX_IMAGE_PIXELS)"
        )
    frames = max(1, _integer(ds.get("NumberOfFrames", 1)))
    if frames > settings.INGEST_MAX_SERIES_SLICES:
        raise Refused(
            f"{frames} frames, above the limit of {settings.INGEST_MAX_SERIES_SLICES} slices"
            " (INGEST_MAX_SERIES_SLICES)"
        )
    return rows, columns, frames


def _fast_pixels(ds: Dataset, ts: UID, rows: int, columns: int) -> np.ndarray | None:
    """View native pixel data without pydicom's decoder machinery (most of the cost of
    ``pixel_array`` on an uncompressed slice); None where the general path is needed."""
    if ts not in _NATIVE_LE or "PixelData" not in ds:
        return None
    bits = _integer(ds.get("BitsAllocated"))
    signed = _integer(ds.get("PixelRepresentation", 0))
    stored = _integer(ds.get("BitsStored", bits))
    dtype = _FAST_DTYPES.get((bits, signed))
    if dtype is None or (signed and stored != bits):
        return None
    data = ds.PixelData
    expected = rows * columns * bits // 8
    if len(data) < expected:
        raise Refused(f"truncated pixel data ({len(data)} of {expected} bytes)")
    return np.frombuffer(data, dtype=dtype, count=rows * columns).reshape(rows, columns)


def _decode(ds: Dataset, ts: UID, rows: int, columns: int, frames: int) -> np.ndarray:
    if frames == 1:
        fast = _fast_pixels(ds, ts, rows, columns)
        if fast is not None:
            return fast[np.newaxis]
    try:
        pixels = ds.pixel_array
    except Exception as exc:  # decoders raise ValueError, RuntimeError, ... on bad data
        message = str(exc).split(" - ")[0][:160]
        if "less than expected" in message or "truncated" in message.lower():
            raise Refused(f"truncated pixel data ({message})") from exc
        raise Refused(f"pixel data could not be decoded ({ts.name}): {message}") from exc
    pixels = np.asarray(pixels)
    return pixels.reshape(frames, rows, columns) if pixels.ndim == 2 else pixels


def _groups(ds: Dataset, frame: int) -> list[Dataset]:
    """Per-frame functional group item first, then the shared one (empty when absent)."""
    found = []
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if per_frame is not None and frame < len(per_frame):
        found.append(per_frame[frame])
    shared = ds.get("SharedFunctionalGroupsSequence")
    if shared:
        found.append(shared[0])
    return found


def _lookup(ds: Dataset, frame: int | None, sequence: str, keyword: str) -> Any:
    if frame is not None:
        for group in _groups(ds, frame):
            items = group.get(sequence)
            if items and keyword in items[0]:
                return items[0].get(keyword)
    return ds.get(keyword)


def _pixels_for_store(
    raw: np.ndarray, *, slope: float, intercept: float, monochrome1: bool, bits: int
) -> np.ndarray:
    if slope != 1.0 or intercept != 0.0:
        pixels = raw.astype(np.float32) * np.float32(slope) + np.float32(intercept)
    else:
        pixels = normalise_dtype(raw)
    if monochrome1:
        # Stored so that higher is brighter, as every other series.
        if pixels.dtype.kind == "u":
            top = min((1 << max(bits, 1)) - 1, 255 if pixels.dtype.itemsize == 1 else 65535)
            pixels = (top - pixels.astype(np.int64)).clip(0, top).astype(pixels.dtype)
        elif pixels.dtype.kind == "i":
            pixels = np.invert(pixels)
        else:
            pixels = -pixels
    return pixels


def read_dicom(path: Path, *, file: str, writer: PixelWriter) -> tuple[Dataset, list[DicomSlice]]:
    """Check and decode one file; its slices' pixels are queued on ``writer``.

    Returns the dataset without its pixel data (the series keeps one as its header).
    Raises Refused with the reason when the file cannot be imported.
    """
    ds = _read_dataset(path)
    ts = _transfer_syntax(ds)
    rows, columns, frames = _check_image(ds)
    pixels = _decode(ds, ts, rows, columns, frames)
    multi = frames > 1 or "PerFrameFunctionalGroupsSequence" in ds
    study_uid = _text(ds, "StudyInstanceUID")
    series_uid = _text(ds, "SeriesInstanceUID")
    sop_uid = _text(ds, "SOPInstanceUID")
    modality = _text(ds, "Modality") or "OT"
    echo = _text(ds, "EchoNumbers")
    instance_number = _integer(ds.get("InstanceNumber"))
    series_number = _integer(ds.get("SeriesNumber"))
    monochrome1 = _text(ds, "PhotometricInterpretation") == "MONOCHROME1"
    bits = _integer(ds.get("BitsStored", ds.get("BitsAllocated", 16)))
    slices = []
    for index in range(pixels.shape[0]):
        frame = index if multi else None
        slope = _number(_lookup(ds, frame, "PixelValueTransformationSequence", "RescaleSlope"), 1.0)
        intercept = _number(
            _lookup(ds, frame, "PixelValueTransformationSequence", "RescaleIntercept"), 0.0
        )
        stored = _pixels_for_store(
            pixels[index],
            slope=slope if slope else 1.0,
            intercept=intercept or 0.0,
            monochrome1=monochrome1,
            bits=bits,
        )
        center = _number(_lookup(ds, frame, "FrameVOILUTSequence", "WindowCenter"))
        width = _number(_lookup(ds, frame, "FrameVOILUTSequence", "WindowWidth"))
        spacing = _floats(
            _lookup(ds, frame, "PixelMeasuresSequence", "PixelSpacing")
            or ds.get("ImagerPixelSpacing"),
            2,
            "PixelSpacing",
        )
        slices.append(
            DicomSlice(
                file=file,
                path=path,
                study_uid=study_uid,
                series_uid=series_uid,
                sop_uid=sop_uid,
                frame=frame,
                modality=modality,
                rows=rows,
                columns=columns,
                echo=echo,
                instance_number=instance_number,
                series_number=series_number,
                orientation=_floats(
                    _lookup(ds, frame, "PlaneOrientationSequence", "ImageOrientationPatient"),
                    6,
                    "ImageOrientationPatient",
                ),
                position=_floats(
                    _lookup(ds, frame, "PlanePositionSequence", "ImagePositionPatient"),
                    3,
                    "ImagePositionPatient",
                ),
                spacing=(spacing[0], spacing[1]) if spacing else None,
                thickness=_number(_lookup(ds, frame, "PixelMeasuresSequence", "SliceThickness")),
                window=(center, width)
                if center is not None and width and width > 0 and not monochrome1
                else None,
                dtype=stored.dtype.name,
                sample=subsample(stored),
                pending=writer.submit(stored),
            )
        )
    for keyword in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"):
        if keyword in ds:
            delattr(ds, keyword)
    return ds, slices
