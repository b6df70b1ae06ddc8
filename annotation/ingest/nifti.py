"""NIfTI volumes as a sagittal and an axial series, with their masks as one imported read.

The volume is brought to RAS by ``as_closest_canonical`` (axis flips and permutations only,
no interpolation), then sliced in the display conventions of MEASUREMENTS.md:
- sagittal, one image per x: rows run superior → inferior, columns anterior → posterior;
- axial, one image per z: rows run anterior → posterior, columns patient right → left.
Each series carries the equivalent DICOM geometry in LPS (row and column directions, the
position of the first pixel), computed from the affine, so measurements see one convention.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from django.conf import settings

from annotation.ingest.deid import replacement_uid
from annotation.ingest.files import InputFile
from annotation.ingest.imaging import default_window, median_spacing, subsample, thumbnail_png
from annotation.ingest.masks import mask_shape
from annotation.ingest.pixelstore import PixelWriter
from annotation.ingest.types import (
    PlannedImage,
    PlannedRead,
    PlannedSeries,
    PlannedStudy,
    Refused,
    SkippedFile,
)
from annotation.pixels import normalise_dtype

# From RAS (nibabel) to LPS (DICOM) world coordinates.
_LPS = np.diag([-1.0, -1.0, 1.0])
_AUXILIARY = ("centerline", "_labeled")


@dataclass
class NiftiGroups:
    volumes: list[InputFile]
    masks: dict[Path, list[tuple[InputFile, str, str]]]  # volume -> (mask, label, name part)
    skipped: list[SkippedFile]
    notes: list[str]


def _stem(name: str) -> str:
    lowered = name.lower()
    for suffix in (".nii.gz", ".nii"):
        if lowered.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _canonical(image: Any) -> Any:
    return nib.as_closest_canonical(image)  # type: ignore[no-untyped-call]


def _axcodes(affine: np.ndarray) -> tuple[str, ...]:
    return tuple(nib.aff2axcodes(affine))  # type: ignore[no-untyped-call]


def _suffix(path: Path) -> str:
    return ".nii.gz" if path.name.lower().endswith(".gz") else ".nii"


def _mask_label(remainder: str) -> str | None:
    lowered = remainder.lower()
    if lowered.startswith("gmseg"):
        return "grey_matter"
    if "canal" in lowered:
        return "canal"
    if lowered.startswith("seg"):
        return "cord"
    return None


def group_nifti(files: list[InputFile]) -> NiftiGroups:
    """Sort NIfTI files into volumes, their masks (by name), and auxiliary files to skip."""
    groups = NiftiGroups([], {}, [], [])
    by_folder: dict[Path, list[InputFile]] = {}
    for item in files:
        by_folder.setdefault(item.path.parent, []).append(item)
    for folder_files in by_folder.values():
        stems = {_stem(f.path.name): f for f in folder_files}
        volumes = {s for s in stems if not _auxiliary(s) and not _looks_like_mask(s)}
        for stem, item in sorted(stems.items()):
            if _auxiliary(stem):
                groups.notes.append(f"{item.file}: auxiliary file (labels, centreline), skipped")
            elif stem in volumes:
                groups.volumes.append(item)
            elif (match := _mask_of(stem, volumes)) is not None:
                base, label = match
                groups.masks.setdefault(stems[base].path, []).append(
                    (item, label, stem[len(base) + 1 :])
                )
            else:
                groups.skipped.append(
                    SkippedFile(item.file, "a mask (by its name) without its volume beside it")
                )
    return groups


def _auxiliary(stem: str) -> bool:
    lowered = stem.lower()
    return lowered.startswith("labels") or any(a in lowered for a in _AUXILIARY)


def _looks_like_mask(stem: str) -> bool:
    return any(token in stem.lower() for token in ("_seg", "_gmseg", "canal"))


def _mask_of(stem: str, volumes: set[str]) -> tuple[str, str] | None:
    """(volume stem, label) for a mask named ``<volume>_<seg|gmseg|...canal...>``."""
    found = []
    for base in volumes:
        if stem.startswith(base + "_"):
            label = _mask_label(stem[len(base) + 1 :])
            if label is not None:
                found.append((base, label))
    return max(found, key=lambda m: len(m[0])) if found else None


def _load(path: Path) -> Any:
    try:
        image = nib.load(path)
    except Exception as exc:  # nibabel raises many types on a damaged header
        detail = str(exc).replace(str(path), path.name)[:120]
        raise Refused(f"broken NIfTI header ({type(exc).__name__}: {detail})") from exc
    if not isinstance(image, nib.Nifti1Image | nib.Nifti2Image):
        raise Refused("not a NIfTI-1 or NIfTI-2 image")
    shape = image.shape
    if len(shape) == 4 and shape[3] == 1:
        image = image.slicer[..., 0]
        shape = image.shape
    if len(shape) != 3:
        raise Refused(f"a {len(shape)}-D NIfTI ({'x'.join(map(str, shape))}) is not supported")
    if min(shape) < 1:
        raise Refused("empty NIfTI volume")
    affine = image.affine
    if (
        affine is None
        or not np.all(np.isfinite(affine))
        or abs(np.linalg.det(affine[:3, :3])) < 1e-9
    ):
        raise Refused("broken NIfTI header (the affine is not usable)")
    return image


def _check_limits(shape: tuple[int, ...]) -> None:
    x, y, z = shape
    pixel_limit = settings.INGEST_MAX_IMAGE_PIXELS
    slice_limit = settings.INGEST_MAX_SERIES_SLICES
    for name, pixels, slices in (("sagittal", y * z, x), ("axial", x * y, z)):
        if pixels > pixel_limit:
            raise Refused(
                f"{name} images of {pixels} pixels are above the limit of {pixel_limit}"
                " (INGEST_MAX_IMAGE_PIXELS)"
            )
        if slices > slice_limit:
            raise Refused(
                f"{slices} {name} slices, above the limit of {slice_limit}"
                " (INGEST_MAX_SERIES_SLICES)"
            )


def _array(image: Any) -> np.ndarray:
    try:
        data: np.ndarray = np.asanyarray(image.dataobj)
    except Exception as exc:  # truncated gzip, short file
        raise Refused(f"NIfTI data could not be read, truncated? ({type(exc).__name__})") from exc
    if data.dtype.kind == "f":
        data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)
    elif data.dtype.kind == "b":
        data = data.astype(np.uint8)
    return data


@dataclass(frozen=True)
class _View:
    name: str
    axis: int  # the voxel axis the slices run along
    row_axis: int  # voxel axis that rows (y) run along, backwards
    column_axis: int  # voxel axis that columns (x) run along, backwards


_VIEWS = (_View("sagittal", 0, 2, 1), _View("axial", 2, 1, 0))


def _slice(data: np.ndarray, view: _View, index: int) -> np.ndarray:
    plane = np.take(data, index, axis=view.axis)
    # The remaining axes keep their order: (row_axis, column_axis) or the reverse.
    remaining = [a for a in range(3) if a != view.axis]
    if remaining.index(view.row_axis) == 1:
        plane = plane.T
    return np.ascontiguousarray(plane[::-1, ::-1])


def _direction(affine: np.ndarray, axis: int) -> list[float]:
    vector = _LPS @ (-affine[:3, axis])
    return [float(v) for v in vector / np.linalg.norm(vector)]


def _first_pixel(
    affine: np.ndarray, shape: tuple[int, ...], view: _View, index: int
) -> list[float]:
    voxel = np.zeros(4)
    voxel[3] = 1.0
    voxel[view.axis] = index
    voxel[view.row_axis] = shape[view.row_axis] - 1
    voxel[view.column_axis] = shape[view.column_axis] - 1
    return [float(v) for v in _LPS @ (affine @ voxel)[:3]]


def _mask_data(mask: Any, volume: Any, *, mask_file: str, volume_file: str) -> np.ndarray:
    if mask.shape[:3] != volume.shape[:3] or not np.allclose(
        mask.affine, volume.affine, atol=1e-3, rtol=1e-4
    ):
        raise Refused(
            f"geometry differs from its volume {volume_file} (shape"
            f" {'x'.join(map(str, mask.shape))} vs {'x'.join(map(str, volume.shape))}, or affine)"
        )
    data = _array(_canonical(mask))
    return data >= 0.5 if data.dtype.kind == "f" else data > 0


def plan_nifti(
    item: InputFile,
    masks: list[tuple[InputFile, str, str]],
    *,
    salt: str,
    writer: PixelWriter,
) -> tuple[PlannedStudy, list[SkippedFile]]:
    """Read a volume (and its masks) into a planned study; raises Refused for the volume."""
    image = _load(item.path)
    _check_limits(image.shape)
    canonical = _canonical(image)
    data = normalise_dtype(_array(canonical))
    affine = canonical.affine
    digest = hashlib.sha256(item.path.read_bytes()).hexdigest()
    refused: list[SkippedFile] = []
    mask_arrays: list[tuple[str, np.ndarray]] = []
    names: list[str] = []
    originals = [(item.path, f"{digest}/volume{_suffix(item.path)}")]
    for mask_item, label, name in masks:
        try:
            mask = _load(mask_item.path)
            mask_arrays.append(
                (label, _mask_data(mask, image, mask_file=mask_item.file, volume_file=item.file))
            )
        except Refused as refusal:
            refused.append(SkippedFile(mask_item.file, refusal.reason))
            continue
        names.append(name)
        originals.append((mask_item.path, f"{digest}/mask-{len(names)}{_suffix(mask_item.path)}"))
    series = []
    shapes: dict[str, list[dict[str, Any]]] = {}
    for number, view in enumerate(_VIEWS, start=1):
        count = data.shape[view.axis]
        slices = [_slice(data, view, i) for i in range(count)]
        pending = [writer.submit(s) for s in slices]
        row_direction = _direction(affine, view.column_axis)
        column_direction = _direction(affine, view.row_axis)
        normal = np.cross(row_direction, column_direction)
        positions_xyz = [_first_pixel(affine, data.shape, view, i) for i in range(count)]
        positions = [float(np.dot(normal, p)) for p in positions_xyz]
        center, width = default_window([subsample(s) for s in slices])
        spacing = (
            float(np.linalg.norm(affine[:3, view.row_axis])),
            float(np.linalg.norm(affine[:3, view.column_axis])),
        )
        stored = [p.result() for p in pending]
        images = []
        for index, (kept, xyz, position) in enumerate(
            zip(stored, positions_xyz, positions, strict=True)
        ):
            key = f"{view.name}:{index}"
            images.append(
                PlannedImage(
                    key=key,
                    uid=replacement_uid(salt=salt, original=f"{digest}:{key}"),
                    position=position,
                    image_position=xyz,
                    pixel_path=kept.path,
                    sha256=kept.sha256,
                    min_value=kept.min_value,
                    max_value=kept.max_value,
                )
            )
            for label, mask_volume in mask_arrays:
                shape = mask_shape(_slice(mask_volume, view, index), label=label)
                if shape is not None:
                    shapes.setdefault(key, []).append(shape)
        rows, columns = slices[0].shape
        series.append(
            PlannedSeries(
                uid=replacement_uid(salt=salt, original=f"{digest}:{view.name}"),
                number=number,
                description=f"NIfTI {view.name}",
                orientation=view.name,
                modality="MR",
                source="nifti",
                rows=rows,
                columns=columns,
                pixel_spacing_row=spacing[0],
                pixel_spacing_col=spacing[1],
                spacing_known=True,
                slice_thickness=float(np.linalg.norm(affine[:3, view.axis])),
                slice_spacing=median_spacing(positions),
                row_direction=row_direction,
                column_direction=column_direction,
                dtype=data.dtype.name,
                window_center=center,
                window_width=width,
                header=_header(image),
                thumbnail=thumbnail_png(
                    slices[count // 2], center=center, width=width, spacing=spacing
                ),
                images=images,
            )
        )
    reads = [PlannedRead(name="NIfTI masks: " + ", ".join(names), shapes=shapes)] if names else []
    study = PlannedStudy(
        identity=digest,
        label=item.file,
        series=series,
        reads=reads,
        originals=originals,
        files=[item.file],
    )
    return study, refused


def _header(image: Any) -> dict[str, Any]:
    """Geometry fields only: free-text fields (descrip, aux_file, db_name) may name people."""
    header = image.header
    return {
        "nifti": {
            "dim": [int(v) for v in header["dim"]],
            "pixdim": [float(v) for v in header["pixdim"]],
            "datatype": str(image.get_data_dtype()),
            "qform_code": int(header["qform_code"]),
            "sform_code": int(header["sform_code"]),
            "orientation": "".join(_axcodes(image.affine)),
            "reoriented_to": "RAS",
        }
    }
