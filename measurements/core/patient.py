"""Image pixels in patient space (DICOM LPS millimetres), for any slice orientation.

DICOM places the centre of pixel (column i, row j) of a slice at
``P = IPP + i * col_spacing * row_direction + j * row_spacing * column_direction`` with IPP
the ImagePositionPatient of the slice (the centre of its first pixel), ``row_direction`` and
``column_direction`` the two triplets of ImageOrientationPatient and PixelSpacing given as
(row spacing, column spacing). NIfTI ingest stores the same quantities computed from the
affine (annotation.ingest.nifti), so both sources map alike. Labelme coordinates put the
pixel centre at (i + 0.5, j + 0.5) (docs MEASUREMENTS.md), hence the half-pixel shift.
Nothing assumes axis-aligned slices: the plane normal is row_direction × column_direction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Direction cosines further than this from unit length or from orthogonal are refused.
_COSINE_TOLERANCE = 1e-3


@dataclass(frozen=True)
class SliceGeometry:
    """Where one image lies in patient space (LPS mm)."""

    image_position: tuple[float, float, float]  # centre of the first pixel
    row_direction: tuple[float, float, float]  # along a row: increasing column index
    column_direction: tuple[float, float, float]  # down a column: increasing row index
    spacing: tuple[float, float]  # (row spacing, column spacing) as DICOM PixelSpacing
    shape: tuple[int, int] | None = None  # (rows, columns), when known

    @property
    def normal(self) -> np.ndarray:
        return np.cross(np.asarray(self.row_direction), np.asarray(self.column_direction))

    def to_patient(self, x: float, y: float) -> np.ndarray:
        """The LPS point (mm) of labelme image coordinates (x = column, y = row)."""
        col_index, row_index = x - 0.5, y - 0.5
        return (
            np.asarray(self.image_position, dtype=np.float64)
            + col_index * self.spacing[1] * np.asarray(self.row_direction)
            + row_index * self.spacing[0] * np.asarray(self.column_direction)
        )

    def signed_distance(self, point: np.ndarray) -> float:
        """Distance (mm) of a patient point from the slice plane, along its normal."""
        return float(np.dot(self.normal, point - np.asarray(self.image_position)))

    def contains_projection(self, point: np.ndarray, *, margin_mm: float = 0.0) -> bool:
        """Whether the point's foot on the plane falls inside the image (True when the
        image size is unknown)."""
        if self.shape is None:
            return True
        d = point - np.asarray(self.image_position)
        col = float(np.dot(d, self.row_direction)) / self.spacing[1] + 0.5
        row = float(np.dot(d, self.column_direction)) / self.spacing[0] + 0.5
        rows, cols = self.shape
        m_col, m_row = margin_mm / self.spacing[1], margin_mm / self.spacing[0]
        return -m_col <= col <= cols + m_col and -m_row <= row <= rows + m_row


def _vector(v: object) -> tuple[float, float, float] | None:
    if not isinstance(v, Sequence) or isinstance(v, str) or len(v) != 3:
        return None
    try:
        out = tuple(float(c) for c in v)
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(c) for c in out):
        return None
    return (out[0], out[1], out[2])


def slice_geometry(
    *,
    image_position: object,
    row_direction: object,
    column_direction: object,
    spacing: tuple[float, float],
    shape: tuple[int, int] | None = None,
) -> SliceGeometry | str:
    """A SliceGeometry, or why the stored values do not give one (labelme-only series store
    no orientation, for instance)."""
    position = _vector(image_position)
    row, column = _vector(row_direction), _vector(column_direction)
    if row is None or column is None:
        return "the series has no orientation (direction cosines)"
    if position is None:
        return "the image has no patient position"
    r, c = np.asarray(row), np.asarray(column)
    if (
        abs(float(np.linalg.norm(r)) - 1.0) > _COSINE_TOLERANCE
        or abs(float(np.linalg.norm(c)) - 1.0) > _COSINE_TOLERANCE
        or abs(float(np.dot(r, c))) > _COSINE_TOLERANCE
    ):
        return "the series' direction cosines are not orthonormal"
    if not all(math.isfinite(s) and s > 0 for s in spacing):
        return "the series has no usable pixel spacing"
    return SliceGeometry(
        image_position=position,
        row_direction=row,
        column_direction=column,
        spacing=(float(spacing[0]), float(spacing[1])),
        shape=shape,
    )
