"""labelme JSON per image and read, with the images, openable by labelme as is.

Layout under ``labelme/``::

    <pseudonym>/images/<series>/slice0000.png        8-bit, the series' default window
    <pseudonym>/images/<series>/slice0000.16bit.png  the stored pixels, 16-bit (or .npy
                                                      for float data); pixels.json says how
    <pseudonym>/<read tag>/<series>/slice0000.json   labelme file; imagePath is relative
                                                      ("../../images/<series>/slice0000.png")

Each JSON has exactly labelme's keys (version, flags, shapes, imagePath, imageData = null,
imageHeight, imageWidth) plus ``spinelabel`` (case, read, revision, author role, model
version: provenance, which labelme keeps as other data). A read has a file for each image
it drew on (and for the series' first image, so every series of every read has one);
labelme shows the other slices as not annotated. Shapes are the revision's, verbatim.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from annotation.labelme_format import labelme_export
from exports.bundle import CaseBundle, ExportContext, ReadBundle, SeriesBundle
from exports.formats import FormatSpec
from exports.formats.files import (
    image_stem,
    original_uint16,
    png_bytes,
    safe_name,
    series_folder,
    windowed_uint8,
    write_json,
)


class LabelmeWriter:
    def __init__(self, folder: Path, context: ExportContext) -> None:
        self._folder = folder
        self._context = context

    def _write_images(self, base: Path, series: SeriesBundle) -> None:
        folder = base / "images" / series_folder(series)
        folder.mkdir(parents=True, exist_ok=True)
        offset = 0
        kind = "png16"
        for image in series.images:
            pixels = series.pixels(image)
            stem = image_stem(image.index)
            shown = windowed_uint8(pixels, center=series.window_center, width=series.window_width)
            (folder / f"{stem}.png").write_bytes(png_bytes(shown))
            original = original_uint16(pixels)
            if original is None:
                kind = "npy"
                np.save(folder / f"{stem}.npy", np.asarray(pixels), allow_pickle=False)
            else:
                (folder / f"{stem}.16bit.png").write_bytes(png_bytes(original[0]))
                offset = original[1]
        write_json(
            folder / "pixels.json",
            {
                "dtype": series.dtype,
                "originals": kind,
                "add_to_png_value": offset,
                "window_center": series.window_center,
                "window_width": series.window_width,
                "pixel_spacing_mm": list(series.pixel_spacing),
                "orientation": series.orientation,
            },
            indent=2,
        )

    def _provenance(self, case: CaseBundle, read: ReadBundle, image_id: int) -> dict[str, Any]:
        return {
            "case": case.pseudonym,
            "split": case.split,
            "image": image_id,
            "read": read.read_id,
            "revision": read.revision_id,
            "revision_number": read.revision_number,
            "author_role": read.author_role,
            "model_version": read.model_version,
        }

    def _write_read(self, base: Path, case: CaseBundle, read: ReadBundle) -> None:
        for series in case.series:
            folder = base / safe_name(read.tag) / series_folder(series)
            for image in series.images:
                if not read.shapes.get(image.id) and image is not series.images[0]:
                    continue  # labelme opens an image without a file as unannotated
                stem = image_stem(image.index)
                data = labelme_export(
                    shapes=read.shapes.get(image.id, []),
                    meta=None,
                    image_path=f"../../images/{series_folder(series)}/{stem}.png",
                    rows=series.rows,
                    columns=series.columns,
                )
                # labelme's flags are check boxes: the yes/no case fields; all of them
                # travel with the provenance.
                data["flags"] = {k: v for k, v in read.case_fields.items() if isinstance(v, bool)}
                data["spinelabel"] = {
                    **self._provenance(case, read, image.id),
                    "case_fields": dict(read.case_fields),
                }
                write_json(folder / f"{stem}.json", data)

    def write_case(self, case: CaseBundle) -> None:
        base = self._folder / safe_name(case.pseudonym)
        for series in case.series:
            self._write_images(base, series)
        for read in case.reads:
            self._write_read(base, case, read)

    def close(self) -> None:
        return None


def _open(folder: Path, context: ExportContext) -> LabelmeWriter:
    return LabelmeWriter(folder, context)


FORMAT = FormatSpec(name="labelme", title="labelme JSON with PNG images", open=_open)
