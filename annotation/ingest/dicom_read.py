"""Read one DICOM file: check it, decode its frames, queue their pixels for the store.

Each file is read once. The few attributes ingest needs are decoded straight from the raw
elements (pydicom's per-attribute conversion costs more than parsing the whole file), and
native little-endian pixel data is viewed in place; anything else goes through pydicom's
decoders (pylibjpeg plugins for JPEG, JPEG 2000, JPEG-LS and RLE). Enhanced multi-frame
objects become one slice per frame, with geometry from the per-frame (or shared) groups.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from pydicom import dcmread
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels.decoders.base import get_decoder
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from annotation.ingest.pixelstore import SliceSink, StoredSlice
from annotation.ingest.types import Refused
from annotation.pixels import normalise_dtype

# Pixel data of these transfer syntaxes is raw little-endian once pydicom has read the file.
_NATIVE_LE = {ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian}
_FAST_DTYPES = {(8, 0): "u1", (8, 1): "i1", (16, 0): "<u2", (16, 1): "<i2"}
_PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)  # PixelData, Float..., DoubleFloat...

# Tags read on every file (keywords in comments).
STUDY_UID, SERIES_UID, SOP_UID = 0x0020000D, 0x0020000E, 0x00080018
MODALITY, ECHO, INSTANCE, SERIES_NUMBER = 0x00080060, 0x00180086, 0x00200013, 0x00200011
PHOTOMETRIC, SAMPLES, FRAMES = 0x00280004, 0x00280002, 0x00280008
ROWS, COLUMNS, BITS_ALLOCATED, BITS_STORED = 0x00280010, 0x00280011, 0x00280100, 0x00280101
PIXEL_REPRESENTATION, BURNED_IN = 0x00280103, 0x00280301
SLOPE, INTERCEPT, CENTER, WIDTH = 0x00281053, 0x00281052, 0x00281050, 0x00281051
SPACING, IMAGER_SPACING, THICKNESS = 0x00280030, 0x00181164, 0x00180050
ORIENTATION, POSITION = 0x00200037, 0x00200032
PER_FRAME, SHARED = 0x52009230, 0x52009229
# Functional group sequences holding the attributes above in enhanced objects.
PLANE_POSITION, PLANE_ORIENTATION, PIXEL_MEASURES = 0x00209113, 0x00209116, 0x00289110
VALUE_TRANSFORM, FRAME_VOI = 0x00289145, 0x00289132
_BINARY_US = {ROWS, COLUMNS, BITS_ALLOCATED, BITS_STORED, PIXEL_REPRESENTATION, SAMPLES}


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
    # A Future while the write is queued in this process; the result once it crossed from
    # a worker process (futures cannot be pickled).
    pending: Future[StoredSlice] | StoredSlice

    @property
    def key(self) -> str:
        return self.sop_uid if self.frame is None else f"{self.sop_uid}#{self.frame}"

    @property
    def sample(self) -> np.ndarray:
        """Pixels for the series' default window (taken when the slice was stored)."""
        sample = self.stored().sample
        return sample if sample is not None else np.zeros(0, np.float32)

    def stored(self) -> StoredSlice:
        return self.pending if isinstance(self.pending, StoredSlice) else self.pending.result()


def _values(ds: Dataset, tag: int) -> list[Any]:
    """The element's values without pydicom's conversion: strings for text and numbers in
    text (IS, DS, UI, CS), ints for the binary US attributes; [] when absent or empty."""
    elem = ds.get_item(tag)
    if elem is None:
        return []
    if isinstance(elem, RawDataElement):
        raw = elem.value
        if not raw:
            return []
        if tag in _BINARY_US:
            order = "little" if elem.is_little_endian else "big"
            return [int.from_bytes(raw[i : i + 2], order) for i in range(0, len(raw) - 1, 2)]
        text = raw.decode("latin-1").strip("\x00 ")
        return [part.strip("\x00 ") for part in text.split("\\")] if text else []
    value = elem.value
    if value is None or value == "":
        return []
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def _text(ds: Dataset, tag: int) -> str:
    values = _values(ds, tag)
    return str(values[0]).strip() if values else ""


def _number(ds: Dataset, tag: int, default: float | None = None) -> float | None:
    values = _values(ds, tag)
    if not values:
        return default
    try:
        number = float(values[0])
    except (TypeError, ValueError):
        return default
    return number if np.isfinite(number) else default


def _integer(ds: Dataset, tag: int, default: int = 0) -> int:
    number = _number(ds, tag)
    return int(number) if number is not None else default


def _floats(ds: Dataset, tag: int, count: int, name: str) -> tuple[float, ...] | None:
    values = _values(ds, tag)
    if not values:
        return None
    try:
        numbers = tuple(float(v) for v in values)
    except (TypeError, ValueError) as exc:
        raise Refused(f"malformed {name}") from exc
    if len(numbers) != count or not all(np.isfinite(numbers)):
        raise Refused(f"malformed {name} (expected {count} finite numbers)")
    return numbers


def _read_dataset(path: Path, data: bytes | None = None) -> Dataset:
    try:
        return dcmread(path if data is None else BytesIO(data))
    except InvalidDicomError as exc:
        if (_size(path) if data is None else len(data)) == 0:
            raise Refused("empty file") from exc
        raise Refused("not a DICOM file (no DICM prefix in the file meta)") from exc
    except OSError as exc:
        raise Refused(f"cannot be read ({exc.strerror or 'I/O error'})") from exc
    except Exception as exc:  # pydicom raises many types on a damaged file
        raise Refused(
            f"not a readable DICOM file, truncated or corrupt ({type(exc).__name__})"
        ) from exc


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


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
    if not any(tag in ds for tag in _PIXEL_TAGS):
        raise Refused("no pixel data (not an image, or a truncated file)")
    for tag, name in (
        (STUDY_UID, "StudyInstanceUID"),
        (SERIES_UID, "SeriesInstanceUID"),
        (SOP_UID, "SOPInstanceUID"),
    ):
        if not _text(ds, tag):
            raise Refused(f"no {name}")
    if _text(ds, BURNED_IN).upper() == "YES":
        raise Refused("BurnedInAnnotation is YES: the pixels may show identifiers")
    samples = _integer(ds, SAMPLES, 1)
    if samples != 1:
        raise Refused(f"colour images are not supported (SamplesPerPixel {samples})")
    rows, columns = _integer(ds, ROWS), _integer(ds, COLUMNS)
    if rows <= 0 or columns <= 0:
        raise Refused("no image size (Rows/Columns)")
    limit = settings.INGEST_MAX_IMAGE_PIXELS
    if rows * columns > limit:
        raise Refused(
            f"image of {rows}x{columns} pixels is above the limit of {limit} pixels"
            " (INGEST_MAX_IMAGE_PIXELS)"
        )
    frames = max(1, _integer(ds, FRAMES, 1))
    if frames > settings.INGEST_MAX_SERIES_SLICES:
        raise Refused(
            f"{frames} frames, above the limit of {settings.INGEST_MAX_SERIES_SLICES} slices"
            " (INGEST_MAX_SERIES_SLICES)"
        )
    return rows, columns, frames


def _fast_pixels(ds: Dataset, ts: UID, rows: int, columns: int) -> np.ndarray | None:
    """View native pixel data without pydicom's decoder machinery (most of the cost of
    ``pixel_array`` on an uncompressed slice); None where the general path is needed."""
    elem = ds.get_item(_PIXEL_TAGS[0])
    if ts not in _NATIVE_LE or elem is None:
        return None
    bits = _integer(ds, BITS_ALLOCATED)
    signed = _integer(ds, PIXEL_REPRESENTATION)
    stored = _integer(ds, BITS_STORED, bits)
    dtype = _FAST_DTYPES.get((bits, signed))
    if dtype is None or (signed and stored != bits):
        return None
    data = elem.value
    if not isinstance(data, bytes | bytearray):
        return None
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


class _Frame:
    """Attribute lookups for one frame: its per-frame functional groups, then the shared
    ones, then the top level (single-frame objects only have the top level)."""

    def __init__(self, ds: Dataset, frame: int | None) -> None:
        self.ds = ds
        self.groups: list[Dataset] = []
        if frame is not None:
            per_frame = ds.get(PER_FRAME)
            if per_frame is not None and frame < len(per_frame.value):
                self.groups.append(per_frame.value[frame])
            shared = ds.get(SHARED)
            if shared is not None and shared.value:
                self.groups.append(shared.value[0])

    def source(self, sequence: int, tag: int) -> Dataset:
        for group in self.groups:
            items = group.get(sequence)
            if items is not None and items.value and tag in items.value[0]:
                item: Dataset = items.value[0]
                return item
        return self.ds


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


def _frame_slice(
    ds: Dataset, pixels: np.ndarray, frame: int | None, *, monochrome1: bool, bits: int
) -> tuple[np.ndarray, dict[str, Any]]:
    lookup = _Frame(ds, frame)
    slope = _number(lookup.source(VALUE_TRANSFORM, SLOPE), SLOPE, 1.0) or 1.0
    intercept = _number(lookup.source(VALUE_TRANSFORM, INTERCEPT), INTERCEPT, 0.0) or 0.0
    stored = _pixels_for_store(
        pixels, slope=slope, intercept=intercept, monochrome1=monochrome1, bits=bits
    )
    center = _number(lookup.source(FRAME_VOI, CENTER), CENTER)
    width = _number(lookup.source(FRAME_VOI, WIDTH), WIDTH)
    spacing = _floats(lookup.source(PIXEL_MEASURES, SPACING), SPACING, 2, "PixelSpacing")
    if spacing is None:
        spacing = _floats(ds, IMAGER_SPACING, 2, "ImagerPixelSpacing")
    geometry = {
        "orientation": _floats(
            lookup.source(PLANE_ORIENTATION, ORIENTATION),
            ORIENTATION,
            6,
            "ImageOrientationPatient",
        ),
        "position": _floats(
            lookup.source(PLANE_POSITION, POSITION), POSITION, 3, "ImagePositionPatient"
        ),
        "spacing": (spacing[0], spacing[1]) if spacing else None,
        "thickness": _number(lookup.source(PIXEL_MEASURES, THICKNESS), THICKNESS),
        "window": (center, width)
        if center is not None and width and width > 0 and not monochrome1
        else None,
    }
    return stored, geometry


def read_dicom(
    path: Path, *, file: str, sink: SliceSink, data: bytes | None = None
) -> list[DicomSlice]:
    """Check and decode one file (or its bytes, ``data``, as a PACS sent them: ``path``
    then only names it); its slices' pixels go to ``sink``.

    Raises Refused with the reason when the file cannot be imported. The header is not
    kept: the series re-reads the one instance it stores as its header.
    """
    ds = _read_dataset(path, data)
    ts = _transfer_syntax(ds)
    rows, columns, frames = _check_image(ds)
    pixels = _decode(ds, ts, rows, columns, frames)
    multi = frames > 1 or PER_FRAME in ds
    monochrome1 = _text(ds, PHOTOMETRIC) == "MONOCHROME1"
    bits = _integer(ds, BITS_STORED, _integer(ds, BITS_ALLOCATED, 16))
    # Everything is checked before the first slice is queued for the store.
    prepared = [
        _frame_slice(ds, pixels[i], i if multi else None, monochrome1=monochrome1, bits=bits)
        for i in range(pixels.shape[0])
    ]
    study_uid, series_uid, sop_uid = (_text(ds, t) for t in (STUDY_UID, SERIES_UID, SOP_UID))
    modality, echo = _text(ds, MODALITY) or "OT", _text(ds, ECHO)
    instance_number, series_number = _integer(ds, INSTANCE), _integer(ds, SERIES_NUMBER)
    slices = [
        DicomSlice(
            file=file,
            path=path,
            study_uid=study_uid,
            series_uid=series_uid,
            sop_uid=sop_uid,
            frame=index if multi else None,
            modality=modality,
            rows=rows,
            columns=columns,
            echo=echo,
            instance_number=instance_number,
            series_number=series_number,
            dtype=stored.dtype.name,
            pending=sink.submit(stored),
            **geometry,
        )
        for index, (stored, geometry) in enumerate(prepared)
    ]
    return slices
