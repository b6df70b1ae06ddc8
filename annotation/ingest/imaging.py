"""Small imaging helpers shared by the DICOM, NIfTI and labelme readers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from annotation.pixels import SUPPORTED_DTYPES

THUMBNAIL_SIDE = 128
# Pixels kept per slice for the default window: enough for stable percentiles, cheap to keep.
_SAMPLES_PER_SLICE = 4096
_WINDOW_SLICES = 16


def orientation_of(row_direction: Sequence[float], column_direction: Sequence[float]) -> str:
    """Name the plane by the axis its normal is closest to (LPS: x sagittal, y coronal, z axial)."""
    if len(row_direction) != 3 or len(column_direction) != 3:
        return "other"
    normal = np.cross(np.asarray(row_direction, float), np.asarray(column_direction, float))
    if not np.all(np.isfinite(normal)) or float(np.linalg.norm(normal)) < 1e-6:
        return "other"
    return ("sagittal", "coronal", "axial")[int(np.argmax(np.abs(normal)))]


def slice_normal(row_direction: Sequence[float], column_direction: Sequence[float]) -> np.ndarray:
    normal = np.cross(np.asarray(row_direction, float), np.asarray(column_direction, float))
    norm = float(np.linalg.norm(normal))
    return normal / norm if norm > 0 else normal


def subsample(array: np.ndarray) -> np.ndarray:
    """A strided copy of about _SAMPLES_PER_SLICE pixels, kept for the series' window."""
    step = max(1, int(np.sqrt(array.size / _SAMPLES_PER_SLICE)))
    return np.array(array[::step, ::step], dtype=np.float32).ravel()


def default_window(samples: Sequence[np.ndarray]) -> tuple[float, float]:
    """Centre and width from robust percentiles of a few slices' subsamples."""
    if not samples:
        return 0.5, 1.0
    step = max(1, len(samples) // _WINDOW_SLICES)
    values = np.concatenate([samples[i] for i in range(0, len(samples), step)])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.5, 1.0
    low, high = (float(v) for v in np.percentile(values, [0.5, 99.5]))
    if high <= low:
        low, high = float(values.min()), float(values.max())
    width = high - low if high > low else 1.0
    return (low + high) / 2.0, width


def median_spacing(positions: Sequence[float]) -> float | None:
    """Distance between neighbouring slices (median, so one gap does not skew it)."""
    if len(positions) < 2:
        return None
    gaps = np.diff(np.sort(np.asarray(positions, dtype=float)))
    gaps = gaps[gaps > 1e-4]
    return float(np.median(gaps)) if gaps.size else None


def common_dtype(dtypes: Sequence[str], low: float, high: float) -> str:
    """One stored dtype for a series whose slices came out differently."""
    unique = set(dtypes)
    if len(unique) == 1 and next(iter(unique)) in SUPPORTED_DTYPES:
        return next(iter(unique))
    if "float32" in unique or any(not np.issubdtype(np.dtype(d), np.integer) for d in unique):
        return "float32"
    if low >= 0 and high <= 255 and unique == {"uint8"}:
        return "uint8"
    if low >= 0 and high <= 65535:
        return "uint16"
    if low >= -32768 and high <= 32767:
        return "int16"
    return "float32"


def thumbnail_png(
    array: np.ndarray,
    *,
    center: float,
    width: float,
    spacing: tuple[float, float] = (1.0, 1.0),
) -> bytes:
    """An 8-bit PNG, longest side THUMBNAIL_SIDE, in physical proportions (anisotropic pixels)."""
    import cv2  # here, not at the top: DICOM worker processes never make thumbnails

    low = center - width / 2.0
    scaled = (array.astype(np.float32) - low) * (255.0 / max(width, 1e-6))
    image = np.clip(scaled, 0, 255).astype(np.uint8)
    height_mm = array.shape[0] * max(spacing[0], 1e-6)
    width_mm = array.shape[1] * max(spacing[1], 1e-6)
    factor = THUMBNAIL_SIDE / max(height_mm, width_mm)
    size = (max(1, round(width_mm * factor)), max(1, round(height_mm * factor)))
    image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".png", image)
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 image
        return b""
    return bytes(encoded.tobytes())
