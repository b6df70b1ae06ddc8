"""NIfTI: each series as a volume and each read's structures as a label map on it.

Under ``nifti/<pseudonym>/<series>/``: ``image.nii`` (the stored pixels) and
``<read tag>.labels.nii`` (uint8: 0 background, then the template's area labels in
order, ``labels.json`` at the top names them). Both carry the same affine, built from the
series' geometry (row and column directions, pixel spacing, slice positions) in RAS as
NIfTI expects, with voxel (i, j, k) = (column, row, slice). Where structures overlap the
earlier label wins (the cord lies inside the canal: the canal is labels 1 and 2 together).
A series whose slices lie at uneven gaps (axial slices placed at the disc levels) has no
single affine: each slice is then its own file (``image.slice0003.nii`` beside
``<read tag>.labels.slice0003.nii``), each with its exact affine. Headers carry no
description, no intent name and no extensions. Files are plain ``.nii``: the zip deflates
them (gzip inside a zip would compress twice).
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from exports.bundle import CaseBundle, ExportContext, SeriesBundle
from exports.formats import FormatSpec
from exports.formats.files import safe_name, series_folder, write_json
from exports.formats.masks import label_map, structure_masks


def _save(volume: np.ndarray, affine: np.ndarray, path: Path) -> None:
    """``volume`` is (slices, rows, columns); NIfTI's axes are (column, row, slice)."""
    data = np.ascontiguousarray(volume.transpose(2, 1, 0))
    image = nib.Nifti1Image(data, affine)  # type: ignore[no-untyped-call]
    image.header.set_xyzt_units(xyz="mm")  # type: ignore[no-untyped-call]
    image.header["descrip"] = b""
    image.header["aux_file"] = b""
    image.header["intent_name"] = b""
    nib.save(image, path)


class NiftiWriter:
    def __init__(self, folder: Path, context: ExportContext) -> None:
        self._folder = folder
        self._labels = context.polygon_labels()
        write_json(
            folder / "labels.json",
            {"0": "background", **{str(i): name for i, name in enumerate(self._labels, 1)}},
            indent=2,
        )

    def _write_series(self, folder: Path, case: CaseBundle, series: SeriesBundle) -> None:
        volume = series.volume()
        maps = {
            read.tag: label_map(
                structure_masks(read=read, series=series, labels=self._labels), self._labels
            )
            for read in case.reads
        }
        if series.evenly_spaced():
            parts = [("", slice(None), series.affine_ras())]
        else:
            parts = [
                (f".slice{k:04d}", slice(k, k + 1), series.affine_ras(first=k, single=True))
                for k in range(len(series.images))
            ]
        for suffix, where, affine in parts:
            _save(volume[where], affine, folder / f"image{suffix}.nii")
            for tag, labels in maps.items():
                _save(labels[where], affine, folder / f"{safe_name(tag)}.labels{suffix}.nii")

    def write_case(self, case: CaseBundle) -> None:
        for series in case.series:
            if not series.images:
                continue
            folder = self._folder / safe_name(case.pseudonym) / series_folder(series)
            folder.mkdir(parents=True, exist_ok=True)
            self._write_series(folder, case, series)

    def close(self) -> None:
        return None


def _open(folder: Path, context: ExportContext) -> NiftiWriter:
    return NiftiWriter(folder, context)


FORMAT = FormatSpec(
    name="nifti", title="NIfTI volumes with label maps on the source geometry", open=_open
)
