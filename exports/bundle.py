"""The plain, typed data every export format writer receives, one case at a time.

A writer never queries the database: ``exports.selectors.bundles`` loads one
``CaseBundle`` per case (its series with their geometry and de-identified UIDs, and the
selected reads with shapes and stored measurements) and hands it over. Pixels stay on disk
until a writer asks for them (``SeriesBundle.pixels`` / ``volume``), so an export's memory
does not grow with the number of cases.

Coordinates: shapes are labelme pixels (x = column, y = row, 0.5 = pixel centre edge as
labelme draws them); world coordinates are DICOM patient coordinates (LPS, millimetres).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from annotation.pixels import pixel_read

# From LPS (DICOM) to RAS (NIfTI) world coordinates.
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


@dataclass(frozen=True)
class ImageRef:
    """One slice of a series (its pixels stay in the pixel store until asked for)."""

    id: int
    index: int  # 0-based position in the series, sorted along the slice normal
    # De-identified SOP Instance UID (2.25.<int>) where the case came from DICOM, else None.
    sop_instance_uid: str | None
    # Position (LPS, mm) of the centre of the first transmitted pixel; None when unknown.
    position: tuple[float, float, float] | None
    pixel_path: str  # relative to PIXEL_ROOT (annotation.pixels)
    min_value: float
    max_value: float


@dataclass(frozen=True)
class SeriesBundle:
    """One series with its geometry; UIDs are the de-identified ones stored at ingest."""

    id: int
    number: int
    description: str
    orientation: str  # sagittal | axial | coronal | other
    modality: str
    source: str  # dicom | nifti | labelme | phantom
    rows: int
    columns: int
    dtype: str  # stored dtype: uint8 | uint16 | int16 | float32
    # Millimetres between pixel centres: (between rows, between columns), as DICOM.
    pixel_spacing: tuple[float, float]
    spacing_known: bool
    slice_thickness: float | None
    slice_spacing: float | None
    # Direction cosines (LPS) of a row (increasing column) and a column (increasing row).
    row_direction: tuple[float, float, float] | None
    column_direction: tuple[float, float, float] | None
    window_center: float
    window_width: float
    series_instance_uid: str
    # From the de-identified header; None where the case did not come from DICOM.
    study_instance_uid: str | None
    frame_of_reference_uid: str | None
    sop_class_uid: str | None
    # The de-identified DICOM JSON header of the series' first instance (no pixel data;
    # PatientName/ID are the case pseudonym); {} for non-DICOM sources.
    header: Mapping[str, Any]
    images: tuple[ImageRef, ...]

    @property
    def from_dicom(self) -> bool:
        return self.source == "dicom"

    def pixels(self, image: ImageRef) -> np.ndarray:
        """The stored pixels of one slice, (rows, columns) in the stored dtype (read-only)."""
        return pixel_read(image.pixel_path, dtype=self.dtype, rows=self.rows, columns=self.columns)

    def volume(self) -> np.ndarray:
        """All slices stacked as (slices, rows, columns) in the stored dtype."""
        out = np.empty((len(self.images), self.rows, self.columns), dtype=self.dtype)
        for k, image in enumerate(self.images):
            out[k] = self.pixels(image)
        return out

    def slice_step(self) -> np.ndarray:
        """The LPS vector (mm) from one slice's first pixel to the next's."""
        positions = [i.position for i in self.images if i.position is not None]
        if len(positions) == len(self.images) and len(positions) > 1:
            first, last = np.asarray(positions[0]), np.asarray(positions[-1])
            return np.asarray((last - first) / (len(positions) - 1), dtype=float)
        normal = np.cross(self._row_dir(), self._column_dir())
        return np.asarray(normal * (self.slice_spacing or self.slice_thickness or 1.0))

    def _row_dir(self) -> np.ndarray:
        return np.asarray(self.row_direction or (1.0, 0.0, 0.0), dtype=float)

    def _column_dir(self) -> np.ndarray:
        return np.asarray(self.column_direction or (0.0, 1.0, 0.0), dtype=float)

    def evenly_spaced(self, *, tolerance_mm: float = 0.01) -> bool:
        """Whether every slice lies where one affine puts it (first position + k × step).
        False for slices at uneven gaps (axial slices placed at the disc levels)."""
        positions = [i.position for i in self.images]
        if any(p is None for p in positions) or len(positions) < 3:
            return True
        first, step = np.asarray(positions[0]), self.slice_step()
        return all(
            float(np.linalg.norm(np.asarray(p) - (first + k * step))) <= tolerance_mm
            for k, p in enumerate(positions)
        )

    def single_slice_step(self) -> np.ndarray:
        """The third axis of a one-slice volume: the normal, as long as the slice is thick."""
        normal = np.cross(self._row_dir(), self._column_dir())
        return np.asarray(normal * (self.slice_thickness or self.slice_spacing or 1.0))

    def affine_lps(self, *, first: int = 0, single: bool = False) -> np.ndarray:
        """4×4 from voxel (column i, row j, slice k) to LPS millimetres (pixel centres).
        ``single``: the affine of image ``first`` alone (a slice of an unevenly spaced
        series), its third axis the slice normal times the slice thickness."""
        affine = np.eye(4)
        affine[:3, 0] = self._row_dir() * self.pixel_spacing[1]
        affine[:3, 1] = self._column_dir() * self.pixel_spacing[0]
        affine[:3, 2] = self.single_slice_step() if single else self.slice_step()
        origin = self.images[first].position if self.images else None
        affine[:3, 3] = np.asarray(origin if origin is not None else (0.0, 0.0, 0.0))
        return affine

    def affine_ras(self, *, first: int = 0, single: bool = False) -> np.ndarray:
        """The NIfTI affine of a volume laid out as (column i, row j, slice k)."""
        return np.asarray(LPS_TO_RAS @ self.affine_lps(first=first, single=single))


@dataclass(frozen=True)
class MeasurementBundle:
    """One stored measurement result (measurements.models.MeasurementResult)."""

    image_id: int
    view: str
    values: Mapping[str, Any]  # e.g. {"mscc": 12.3, "mcc": ..., "ta": ..., "cr": ...}
    warnings: tuple[Any, ...]
    missing: tuple[Any, ...]
    algorithm_version: str


@dataclass(frozen=True)
class ReadBundle:
    """One selected read at the revision being exported."""

    read_id: int
    kind: str  # human | model | imported | gold
    # The author's project role (annotator | reader | reviewer | lead); "model",
    # "imported" or "gold" for reads made by no single person.
    author_role: str
    revision_id: int
    revision_number: int
    # Names of the model versions that made a model read (inference.PrelabelJob); () else.
    model_versions: tuple[str, ...]
    # {image id: [labelme shape, ...]} exactly as stored in the revision.
    shapes: Mapping[int, list[dict[str, Any]]]
    case_fields: Mapping[str, Any]
    measurements: tuple[MeasurementBundle, ...]

    @property
    def model_version(self) -> str:
        return "+".join(self.model_versions)

    @property
    def tag(self) -> str:
        """A file-name-safe name of the read, unique within its case."""
        return f"read{self.read_id}-{self.author_role}-r{self.revision_number}"


@dataclass(frozen=True)
class CaseBundle:
    case_id: int
    pseudonym: str
    split: str  # train | tune | test | "" (not assigned)
    series: tuple[SeriesBundle, ...]
    reads: tuple[ReadBundle, ...]

    def series_of_image(self) -> dict[int, SeriesBundle]:
        return {image.id: s for s in self.series for image in s.images}


@dataclass(frozen=True)
class ExportContext:
    """What every writer knows about the export as a whole."""

    project_slug: str
    export_id: int
    # The project's label template (annotation.label_templates): labels, keypoint_sets.
    template: Mapping[str, Any]
    selection: Mapping[str, Any]  # {"kind": "gold" | "group" | "annotator" | "model", ...}
    split: str  # "" for every split
    created_at: str  # ISO 8601 (UTC)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def polygon_labels(self) -> list[str]:
        """Structures drawn as polygons or masks, in template order (cord, canal)."""
        return [
            str(label["name"])
            for label in self.template.get("labels", [])
            if {"polygon", "mask"} & set(label.get("shape_types", []))
        ]

    def keypoint_names(self) -> list[str]:
        """The first keypoint set's points in order (the 20 vertebral corners)."""
        sets = self.template.get("keypoint_sets", [])
        return [str(p) for p in sets[0]["points"]] if sets else []
