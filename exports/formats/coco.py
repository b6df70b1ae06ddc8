"""COCO: instances (cord and canal polygons) and keypoints (the 20 vertebral corners).

Under ``coco/``: ``images/<pseudonym>/<series>/slice0000.png`` (8-bit, the series' default
window), ``instances.json`` and ``keypoints.json``. Coordinates are COCO's (pixel
(0, 0)'s top-left corner at 0, 0), which is labelme's. Each annotation carries its read,
revision, author role and model version besides COCO's keys; an image read by several
readers has one annotation per read and structure. Mask shapes become polygons along
their pixel outline. The skeleton joins each vertebra's corners AS-PS-PI-AI-AS.

Images and annotations are appended to line files as cases arrive and the two JSON files
are assembled from them in ``close``, so memory stays flat in the number of cases.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from exports.bundle import CaseBundle, ExportContext, ReadBundle, SeriesBundle
from exports.formats import FormatSpec
from exports.formats.files import image_stem, png_bytes, safe_name, series_folder, windowed_uint8
from measurements.core.fusion import FusionError, mask_to_polygon, shape_to_mask

KEYPOINT_CATEGORY = 100
_QUAD = (("AS", "PS"), ("PS", "PI"), ("PI", "AI"), ("AI", "AS"))


def skeleton(names: list[str]) -> list[list[int]]:
    """1-based index pairs joining each vertebra's four corners."""
    index = {name: i + 1 for i, name in enumerate(names)}
    vertebrae = sorted({name.split("_")[0] for name in names if "_" in name})
    edges = []
    for vertebra in vertebrae:
        for a, b in _QUAD:
            first, second = index.get(f"{vertebra}_{a}"), index.get(f"{vertebra}_{b}")
            if first is not None and second is not None:
                edges.append([first, second])
    return edges


def _area(flat: list[float]) -> float:
    xs, ys = flat[0::2], flat[1::2]
    total = sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(len(xs)))
    return abs(total) / 2.0


def _bbox(xs: list[float], ys: list[float]) -> list[float]:
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def _polygon(shape: dict[str, Any], series: SeriesBundle) -> list[float] | None:
    kind = shape.get("shape_type") or "polygon"
    if kind == "polygon":
        points = shape.get("points") or []
    elif kind == "mask":
        try:
            mask = shape_to_mask(shape, image_shape=(series.rows, series.columns))
            points = mask_to_polygon(mask)
        except FusionError:
            return None
    else:
        return None
    flat = [float(v) for point in points for v in point[:2]]
    return flat if len(flat) >= 6 else None


class CocoWriter:
    def __init__(self, folder: Path, context: ExportContext) -> None:
        self._folder = folder
        self._context = context
        self._labels = context.polygon_labels()
        self._keypoints = context.keypoint_names()
        self._category = {label: i + 1 for i, label in enumerate(self._labels)}
        parts = folder / ".parts"
        parts.mkdir()
        self._parts = parts
        self._images = (parts / "images.jsonl").open("w", encoding="utf-8")
        self._instances = (parts / "instances.jsonl").open("w", encoding="utf-8")
        self._points = (parts / "keypoints.jsonl").open("w", encoding="utf-8")
        self._next_id = 1

    def _provenance(self, read: ReadBundle) -> dict[str, Any]:
        return {
            "read_id": read.read_id,
            "revision_id": read.revision_id,
            "author_role": read.author_role,
            "model_version": read.model_version,
            "iscrowd": 0,
        }

    def _emit(self, handle: IO[str], record: dict[str, Any]) -> None:
        record["id"] = self._next_id
        self._next_id += 1
        handle.write(json.dumps(record, allow_nan=False) + "\n")

    def _instances_of(
        self, read: ReadBundle, series: SeriesBundle, image_id: int, shapes: list[dict[str, Any]]
    ) -> None:
        for shape in shapes:
            category = self._category.get(str(shape.get("label")))
            flat = _polygon(shape, series) if category is not None else None
            if flat is None or category is None:
                continue
            record = {
                "image_id": image_id,
                "category_id": category,
                "segmentation": [flat],
                "area": _area(flat),
                "bbox": _bbox(flat[0::2], flat[1::2]),
                **self._provenance(read),
            }
            self._emit(self._instances, record)

    def _keypoints_of(self, read: ReadBundle, image_id: int, shapes: list[dict[str, Any]]) -> None:
        found: dict[str, tuple[float, float]] = {}
        for shape in shapes:
            label = str(shape.get("label"))
            if label in self._keypoints and (shape.get("shape_type") or "") == "point":
                x, y = shape["points"][0][:2]
                found[label] = (float(x), float(y))
        if not found:
            return
        values: list[float] = []
        for name in self._keypoints:
            x, y = found.get(name, (0.0, 0.0))
            values += [x, y, 2 if name in found else 0]
        xs = [p[0] for p in found.values()]
        ys = [p[1] for p in found.values()]
        box = _bbox(xs, ys)
        record = {
            "image_id": image_id,
            "category_id": KEYPOINT_CATEGORY,
            "keypoints": values,
            "num_keypoints": len(found),
            "bbox": box,
            "area": box[2] * box[3],
            **self._provenance(read),
        }
        self._emit(self._points, record)

    def write_case(self, case: CaseBundle) -> None:
        for series in case.series:
            folder = Path("images") / safe_name(case.pseudonym) / series_folder(series)
            (self._folder / folder).mkdir(parents=True, exist_ok=True)
            for image in series.images:
                name = (folder / f"{image_stem(image.index)}.png").as_posix()
                shown = windowed_uint8(
                    series.pixels(image), center=series.window_center, width=series.window_width
                )
                (self._folder / name).write_bytes(png_bytes(shown))
                entry = {
                    "id": image.id,
                    "file_name": name,
                    "height": series.rows,
                    "width": series.columns,
                    "case": case.pseudonym,
                    "split": case.split,
                    "series_number": series.number,
                    "orientation": series.orientation,
                    "slice_index": image.index,
                }
                self._images.write(json.dumps(entry) + "\n")
                for read in case.reads:
                    shapes = read.shapes.get(image.id, [])
                    self._instances_of(read, series, image.id, shapes)
                    self._keypoints_of(read, image.id, shapes)

    def _info(self) -> dict[str, Any]:
        return {
            "description": f"spinelabel export {self._context.export_id}",
            "version": "1.0",
            "date_created": self._context.created_at,
        }

    def _assemble(self, target: Path, annotations: Path, categories: list[dict[str, Any]]) -> None:
        with target.open("w", encoding="utf-8") as out:
            out.write('{"info": ' + json.dumps(self._info()) + ', "licenses": [], "images": [')
            _copy_lines(self._parts / "images.jsonl", out)
            out.write('], "annotations": [')
            _copy_lines(annotations, out)
            out.write('], "categories": ' + json.dumps(categories) + "}")

    def close(self) -> None:
        for handle in (self._images, self._instances, self._points):
            handle.close()
        structures = [
            {"id": i, "name": label, "supercategory": "spine"}
            for label, i in self._category.items()
        ]
        corners = {
            "id": KEYPOINT_CATEGORY,
            "name": "vertebral_corners",
            "supercategory": "spine",
            "keypoints": self._keypoints,
            "skeleton": skeleton(self._keypoints),
        }
        self._assemble(self._folder / "instances.json", self._parts / "instances.jsonl", structures)
        self._assemble(self._folder / "keypoints.json", self._parts / "keypoints.jsonl", [corners])
        for part in self._parts.iterdir():
            part.unlink()
        self._parts.rmdir()


def _copy_lines(source: Path, out: IO[str]) -> None:
    """Write the JSON lines of ``source`` as the items of a JSON list."""
    with source.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if number:
                out.write(",")
            out.write(line.rstrip("\n"))


def _open(folder: Path, context: ExportContext) -> CocoWriter:
    return CocoWriter(folder, context)


FORMAT = FormatSpec(
    name="coco", title="COCO instances (cord, canal) and keypoints (corners)", open=_open
)
