"""Small helpers the writers share: safe names, JSON files, PNG encoding of slices.

PNGs are encoded by OpenCV, which writes no text chunks (no software name, no date, no
metadata of any kind), so an image file carries nothing but its pixels.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from exports.bundle import SeriesBundle

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str) -> str:
    """A file-name part made of letters, digits, dot, dash and underscore only."""
    cleaned = _UNSAFE.sub("_", text).strip("._")
    return cleaned or "unnamed"


def series_folder(series: SeriesBundle) -> str:
    """e.g. "s01-sagittal" (number and orientation; descriptions are free text)."""
    return f"s{series.number:02d}-{safe_name(series.orientation)}-{series.id}"


def image_stem(index: int) -> str:
    return f"slice{index:04d}"


def write_json(path: Path, data: Any, *, indent: int | None = None) -> None:
    """One write of the whole text: json.dumps runs the C encoder, json.dump would not."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, ensure_ascii=False, indent=indent, allow_nan=False)
    path.write_bytes(text.encode("utf-8"))


def windowed_uint8(pixels: np.ndarray, *, center: float, width: float) -> np.ndarray:
    """The slice as 8-bit grey under a DICOM linear window (PS3.3 C.11.2.1.2)."""
    width = max(float(width), 1.0)
    low = center - 0.5 - (width - 1.0) / 2.0
    scaled = (pixels.astype(np.float32) - low) / (width - 1.0) * 255.0
    return np.asarray(np.clip(np.rint(scaled), 0, 255), dtype=np.uint8)


def png_bytes(array: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(
        ".png", np.ascontiguousarray(array), [cv2.IMWRITE_PNG_COMPRESSION, 1]
    )
    if not ok:  # pragma: no cover - OpenCV encodes any uint8/uint16 image
        raise ValueError("could not encode a PNG")
    return encoded.tobytes()


def original_uint16(pixels: np.ndarray) -> tuple[np.ndarray, int] | None:
    """The stored slice as unsigned 16-bit with the offset to add back (int16 is shifted by
    32768); None for float data, which has no lossless 16-bit form."""
    if pixels.dtype in (np.uint8, np.uint16):
        return pixels.astype(np.uint16, copy=False), 0
    if pixels.dtype == np.int16:
        return (pixels.astype(np.int32) + 32768).astype(np.uint16), -32768
    return None
