"""`manage.py measure FILE.json ...`: MSCC/MCC or TA/CR of labelme files, without a database.

Spacing comes from --spacing or from the DICOM file the JSON's imagePath points to. Prints
one JSON object per file (a list when several) or CSV; exits non-zero when a file could
not be read or misses what its measurements need, after measuring all the others.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from measurements.core.case import AXIAL_KEYS, SAGITTAL_KEYS, measure_image_shapes
from measurements.core.sagittal import REFERENCES

SAGITTAL_OUTPUT: tuple[str, ...] = (
    "d_i", "d_a", "d_b", "D_i", "D_a", "D_b", "mscc", "mcc", "mscc_percent", "mcc_percent",
    "d_i_level", "D_i_level",
)  # fmt: skip
AXIAL_OUTPUT: tuple[str, ...] = AXIAL_KEYS
CSV_COLUMNS: tuple[str, ...] = ("file", "view", *SAGITTAL_OUTPUT, *AXIAL_OUTPUT, "missing", "error")
assert set(SAGITTAL_OUTPUT) <= set(SAGITTAL_KEYS)


class UnmeasurableFileError(Exception):
    """A file that cannot be measured at all (unreadable, no spacing)."""


def dicom_spacing(path: Path) -> tuple[float, float]:
    """(row_mm, col_mm) from a DICOM file's PixelSpacing."""
    import pydicom  # only needed when no --spacing is given
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except (InvalidDicomError, OSError) as exc:
        raise UnmeasurableFileError(
            f"imagePath {path} is not a readable DICOM file ({exc})"
        ) from exc
    spacing = ds.get("PixelSpacing")
    if spacing is None or len(spacing) != 2:
        raise UnmeasurableFileError(f"the DICOM file {path} has no PixelSpacing")
    return float(spacing[0]), float(spacing[1])


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnmeasurableFileError(f"cannot read labelme JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("shapes"), list):
        raise UnmeasurableFileError("not a labelme file: no 'shapes' list")
    return data


def _spacing_for(
    path: Path, data: dict[str, Any], given: list[float] | None
) -> tuple[float, float]:
    if given is not None:
        return given[0], given[1]
    image_path = data.get("imagePath")
    if not isinstance(image_path, str) or not image_path:
        raise UnmeasurableFileError(
            "no pixel spacing: pass --spacing ROW_MM COL_MM (the JSON has no imagePath)"
        )
    image = path.parent / image_path
    if not image.is_file():
        raise UnmeasurableFileError(
            f"no pixel spacing: pass --spacing ROW_MM COL_MM (imagePath {image} does not exist)"
        )
    return dicom_spacing(image)


def measure_file(
    path: Path, *, spacing: list[float] | None, reference: str, view: str | None
) -> dict[str, Any]:
    """One file's output record; UnmeasurableFileError when it cannot be measured at all."""
    data = _load(path)
    shape = None
    if isinstance(data.get("imageHeight"), int) and isinstance(data.get("imageWidth"), int):
        shape = (int(data["imageHeight"]), int(data["imageWidth"]))
    result = measure_image_shapes(
        shapes=data["shapes"],
        spacing=_spacing_for(path, data, spacing),
        image_shape=shape,
        view=view,
        reference=reference,
    )
    keys = SAGITTAL_OUTPUT if result["view"] == "sagittal" else AXIAL_OUTPUT
    record: dict[str, Any] = {"file": str(path), "view": result["view"]}
    record.update({k: result["values"].get(k) for k in keys})
    record["missing"] = result["missing"]
    record["warnings"] = result["warnings"]
    return record


class Command(BaseCommand):
    help = (
        "Measure labelme JSON files: sagittal MSCC/MCC (cord, canal, C3-C7 keypoints) or "
        "axial TA/CR (cord). Needs no database."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE.json")
        parser.add_argument(
            "--spacing",
            nargs=2,
            type=float,
            metavar=("ROW_MM", "COL_MM"),
            help="pixel spacing; default: PixelSpacing of the DICOM file imagePath names",
        )
        parser.add_argument("--reference", choices=REFERENCES, default="C3C7")
        parser.add_argument("--view", choices=("sagittal", "axial"), default=None)
        parser.add_argument("--format", choices=("json", "csv"), default="json", dest="fmt")

    def handle(self, *args: Any, **options: Any) -> None:
        spacing = options["spacing"]
        if spacing is not None and not all(math.isfinite(v) and v > 0 for v in spacing):
            raise CommandError(f"--spacing must be two positive numbers, got {spacing}")
        records: list[dict[str, Any]] = []
        failed = 0
        for name in options["files"]:
            path = Path(name)
            try:
                record = measure_file(
                    path, spacing=spacing, reference=options["reference"], view=options["view"]
                )
            except UnmeasurableFileError as exc:
                failed += 1
                self.stderr.write(f"{path}: {exc}")
                records.append({"file": str(path), "view": None, "error": str(exc)})
                continue
            if record["missing"]:
                failed += 1
                self.stderr.write(f"{path}: missing {', '.join(record['missing'])}")
            records.append(record)
        if options["fmt"] == "csv":
            self._write_csv(records)
        else:
            payload: Any = records[0] if len(records) == 1 else records
            self.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False))
        if failed:
            raise CommandError(f"{failed} of {len(records)} files could not be fully measured")

    def _write_csv(self, records: list[dict[str, Any]]) -> None:
        writer = csv.DictWriter(
            self.stdout, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n"
        )
        writer.writeheader()
        for record in records:
            row = {k: ("" if record.get(k) is None else record.get(k)) for k in CSV_COLUMNS}
            row["missing"] = "; ".join(record.get("missing", []))
            writer.writerow(row)
