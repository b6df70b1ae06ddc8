"""labelme folders: each JSON's image becomes a one-slice series, its shapes an imported read.

The image is the file ``imagePath`` names (it must be one of the imported files: a JSON
cannot make the server read anything else) or, failing that, the embedded ``imageData``.
A JSON whose image is a DICOM file of the same import attaches its shapes to that slice of
the DICOM study. Other images (PNG 8/16-bit, JPEG) from one folder form one case; their
spacing is unknown. Shapes are kept verbatim, unknown keys included.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import cv2
import numpy as np
from django.conf import settings

from annotation.ingest.deid import replacement_uid
from annotation.ingest.files import InputFile
from annotation.ingest.imaging import default_window, subsample, thumbnail_png
from annotation.ingest.pixelstore import PixelWriter, StoredSlice
from annotation.ingest.types import (
    PlannedImage,
    PlannedRead,
    PlannedSeries,
    PlannedStudy,
    Refused,
)
from annotation.jsonlimits import json_depth
from annotation.pixels import normalise_dtype
from annotation.shapes import shapes_structure_validate

READ_NAME = "labelme"
# Points in all of one file's shapes (a dense mask outline has a few thousand).
MAX_IMPORT_POINTS = 1_000_000
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_VIEW_TOKENS = (
    ("sagittal", re.compile(r"(^|[^a-z])sag")),
    ("axial", re.compile(r"(^|[^a-z])(ax|tra)")),
    ("coronal", re.compile(r"(^|[^a-z])cor")),
)


@dataclass
class _Entry:
    json_file: str
    sha256: str
    pixels: np.ndarray
    shapes: list[dict[str, Any]]
    flags: dict[str, Any]
    orientation: str
    pending: Any  # Future[StoredSlice]
    originals: list[tuple[Path, str]]


@dataclass
class LabelmeCollector:
    salt: str
    writer: PixelWriter
    template: dict[str, Any]
    files: dict[str, InputFile]  # normalised path -> input file
    dicom_keys: dict[Path, tuple[str, str]]
    dicom_reads: dict[str, PlannedRead] = field(default_factory=dict)
    used_images: set[Path] = field(default_factory=set)
    # (JSON file, study UID, slice key) of every JSON attached to a DICOM slice.
    dicom_links: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _folders: dict[Path, list[_Entry]] = field(default_factory=dict)

    def add(self, item: InputFile) -> None:
        """Read one labelme JSON and its image; raises Refused."""
        data = _load_json(item.path)
        shapes = _shapes(data)
        raw_flags = data.get("flags")
        flags: dict[str, Any] = raw_flags if isinstance(raw_flags, dict) else {}
        image_file = self._image_file(item, data.get("imagePath"))
        if image_file is not None and image_file.kind == "dicom":
            key = self.dicom_keys.get(image_file.path)
            if key is None:
                raise Refused(f"its image {image_file.file} was refused")
            self.used_images.add(image_file.path)
            self.dicom_links.append((item.file, key[0], key[1]))
            read = self.dicom_reads.setdefault(key[0], PlannedRead(name=READ_NAME, shapes={}))
            read.shapes.setdefault(key[1], []).extend(shapes)
            read.case_fields.update(flags)
            return
        if image_file is not None:
            raw = image_file.path.read_bytes()
            self.used_images.add(image_file.path)
        elif isinstance(data.get("imageData"), str) and data["imageData"]:
            try:
                raw = base64.b64decode(data["imageData"], validate=True)
            except (binascii.Error, ValueError) as exc:
                raise Refused("its imageData is not valid base64") from exc
        else:
            raise Refused(
                "its image (imagePath) is not among the imported files and it has no imageData"
            )
        pixels = self._decode(raw, item.file)
        _check_size(data, pixels)
        sha = hashlib.sha256(raw).hexdigest()
        name = (image_file.path.name if image_file else item.path.name).lower()
        entry = _Entry(
            json_file=item.file,
            sha256=sha,
            pixels=pixels,
            shapes=shapes,
            flags=flags,
            orientation=self._orientation(shapes, name),
            pending=self.writer.submit(pixels),
            originals=[(item.path, f"{sha}.json")]
            + ([(image_file.path, f"{sha}{image_file.path.suffix.lower()}")] if image_file else []),
        )
        self._folders.setdefault(item.path.parent, []).append(entry)

    def _image_file(self, item: InputFile, raw: Any) -> InputFile | None:
        if not isinstance(raw, str) or not raw.strip():
            return None
        relative = raw.replace("\\", "/")
        for candidate in (
            item.path.parent / relative,
            item.path.parent / PurePosixPath(relative).name,
        ):
            found = self.files.get(os.path.normpath(candidate))
            if found is not None and found.path != item.path:
                return found
        return None

    def _decode(self, raw: bytes, file: str) -> np.ndarray:
        limit = settings.INGEST_MAX_IMAGE_PIXELS
        if raw.startswith(_PNG_SIGNATURE) and len(raw) >= 24:
            width, height = int.from_bytes(raw[16:20], "big"), int.from_bytes(raw[20:24], "big")
            if width * height > limit:
                raise Refused(
                    f"image of {height}x{width} pixels is above the limit of {limit} pixels"
                    " (INGEST_MAX_IMAGE_PIXELS)"
                )
        pixels = cv2.imdecode(np.frombuffer(raw, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
        if pixels is None:
            raise Refused("its image could not be decoded (PNG or JPEG expected)")
        if pixels.shape[0] * pixels.shape[1] > limit:
            raise Refused(
                f"image of {pixels.shape[0]}x{pixels.shape[1]} pixels is above the limit of"
                f" {limit} pixels (INGEST_MAX_IMAGE_PIXELS)"
            )
        if pixels.ndim == 3:
            colour = pixels[..., :3]
            if np.array_equal(colour[..., 0], colour[..., 1]) and np.array_equal(
                colour[..., 0], colour[..., 2]
            ):
                pixels = colour[..., 0]
            else:
                pixels = cv2.cvtColor(np.ascontiguousarray(colour), cv2.COLOR_BGR2GRAY)
                self.notes.append(f"{file}: colour image converted to grey levels")
        return normalise_dtype(np.ascontiguousarray(pixels))

    def _orientation(self, shapes: list[dict[str, Any]], name: str) -> str:
        """The view the shapes' labels belong to in the template, else a hint in the name."""
        views = _label_views(self.template)
        found = set()
        for shape in shapes:
            label_views = views.get(str(shape.get("label")), set())
            if len(label_views) == 1:
                found |= label_views
        if len(found) == 1:
            return next(iter(found))
        for view, pattern in _VIEW_TOKENS:
            if pattern.search(name):
                return view
        return "other"

    def studies(self) -> list[PlannedStudy]:
        studies = []
        for entries in self._folders.values():
            by_sha: dict[str, _Entry] = {}
            shapes: dict[str, list[dict[str, Any]]] = {}
            case_fields: dict[str, Any] = {}
            for entry in sorted(entries, key=lambda e: e.json_file):
                by_sha.setdefault(entry.sha256, entry)
                shapes.setdefault(f"labelme:{entry.sha256}", []).extend(entry.shapes)
                case_fields.update(entry.flags)
            ordered = list(by_sha.values())
            identity = hashlib.sha256("\n".join(sorted(by_sha)).encode()).hexdigest()
            series = [self._series(entry, number) for number, entry in enumerate(ordered, start=1)]
            studies.append(
                PlannedStudy(
                    identity=identity,
                    label=ordered[0].json_file,
                    series=series,
                    reads=[PlannedRead(name=READ_NAME, shapes=shapes, case_fields=case_fields)],
                    originals=[o for e in ordered for o in e.originals],
                    files=[e.json_file for e in entries],
                )
            )
        return studies

    def _series(self, entry: _Entry, number: int) -> PlannedSeries:
        stored: StoredSlice = entry.pending.result()
        center, width = default_window([subsample(entry.pixels)])
        rows, columns = entry.pixels.shape
        return PlannedSeries(
            uid=replacement_uid(salt=self.salt, original=f"labelme:{entry.sha256}"),
            number=number,
            description=f"labelme {entry.orientation}",
            orientation=entry.orientation,
            modality="OT",
            source="labelme",
            rows=rows,
            columns=columns,
            pixel_spacing_row=1.0,
            pixel_spacing_col=1.0,
            spacing_known=False,
            slice_thickness=None,
            slice_spacing=None,
            row_direction=[],
            column_direction=[],
            dtype=entry.pixels.dtype.name,
            window_center=center,
            window_width=width,
            header={},
            thumbnail=thumbnail_png(entry.pixels, center=center, width=width),
            images=[
                PlannedImage(
                    key=f"labelme:{entry.sha256}",
                    uid=replacement_uid(salt=self.salt, original=f"labelme-image:{entry.sha256}"),
                    position=0.0,
                    image_position=[],
                    pixel_path=stored.path,
                    sha256=stored.sha256,
                    min_value=stored.min_value,
                    max_value=stored.max_value,
                )
            ],
        )


def _load_json(path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    limit = settings.API_JSON_MAX_DEPTH
    if json_depth(raw) > limit:  # the decoder recurses per level: refuse before it runs
        raise Refused(f"not a labelme JSON (nested deeper than {limit} levels)")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise Refused("not a labelme JSON (the file is not valid JSON)") from exc
    if not isinstance(data, dict) or not isinstance(data.get("shapes"), list):
        raise Refused("not a labelme JSON (no 'shapes' list)")
    return data


def _shapes(data: dict[str, Any]) -> list[dict[str, Any]]:
    shapes = data["shapes"]
    for index, shape in enumerate(shapes):
        if (
            not isinstance(shape, dict)
            or not isinstance(shape.get("label"), str)
            or not isinstance(shape.get("points"), list)
        ):
            raise Refused(f"shape {index} is not a labelme shape (a label and points are needed)")
    problems = shapes_structure_validate(shapes={"file": shapes}, max_points=MAX_IMPORT_POINTS)
    if problems:
        where = f"shape {problems[0].index}: " if problems[0].index is not None else ""
        raise Refused(f"{where}{problems[0].message}")
    return list(shapes)


def _check_size(data: dict[str, Any], pixels: np.ndarray) -> None:
    height, width = data.get("imageHeight"), data.get("imageWidth")
    if isinstance(height, int) and isinstance(width, int) and (height, width) != pixels.shape:
        raise Refused(
            f"imageHeightximageWidth {height}x{width} differ from its image"
            f" {pixels.shape[0]}x{pixels.shape[1]}"
        )


def _label_views(template: dict[str, Any]) -> dict[str, set[str]]:
    views: dict[str, set[str]] = {}
    for label in template.get("labels", []):
        if isinstance(label, dict) and isinstance(label.get("name"), str):
            views[label["name"]] = set(label.get("views") or [])
    for keypoints in template.get("keypoint_sets", []):
        if isinstance(keypoints, dict) and keypoints.get("view"):
            for point in keypoints.get("points", []):
                views[str(point)] = {str(keypoints["view"])}
    return views
