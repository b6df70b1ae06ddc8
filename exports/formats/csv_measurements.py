"""CSV of every stored measurement value, one row per value, with its provenance.

``csv/measurements.csv``: case pseudonym, split, series, image, slice, read, read kind,
revision, author role, model version, algorithm version, view, measure, value, unit, and
the result's warnings and missing inputs. Rows are written as each case arrives.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from exports.bundle import CaseBundle, ExportContext, MeasurementBundle, ReadBundle, SeriesBundle
from exports.formats import FormatSpec
from exports.formats.units import measure_unit

_Where = dict[int, tuple[SeriesBundle, int]]

COLUMNS = (
    "case",
    "split",
    "series_number",
    "orientation",
    "image_id",
    "slice_index",
    "read_id",
    "read_kind",
    "revision_id",
    "revision_number",
    "author_role",
    "model_version",
    "algorithm_version",
    "view",
    "measure",
    "value",
    "unit",
    "warnings",
    "missing",
)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int | str):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


class CsvWriter:
    def __init__(self, folder: Path, context: ExportContext) -> None:
        self._handle = (folder / "measurements.csv").open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._handle)
        self._csv.writerow(COLUMNS)

    def _rows(
        self, case: CaseBundle, read: ReadBundle, result: MeasurementBundle, where: _Where
    ) -> list[list[str]]:
        series, index = where.get(result.image_id, (None, None))
        prefix = [
            case.pseudonym,
            case.split,
            _cell(series.number if series else None),
            series.orientation if series else "",
            str(result.image_id),
            _cell(index),
            str(read.read_id),
            read.kind,
            str(read.revision_id),
            str(read.revision_number),
            read.author_role,
            read.model_version,
            result.algorithm_version,
            result.view,
        ]
        warnings = "; ".join(str(w) for w in result.warnings)
        missing = "; ".join(str(m) for m in result.missing)
        return [
            [*prefix, key, _cell(value), measure_unit(key), warnings, missing]
            for key, value in sorted(result.values.items())
        ]

    def write_case(self, case: CaseBundle) -> None:
        where = {image.id: (s, image.index) for s in case.series for image in s.images}
        for read in case.reads:
            for result in read.measurements:
                self._csv.writerows(self._rows(case, read, result, where))

    def close(self) -> None:
        self._handle.close()


def _open(folder: Path, context: ExportContext) -> CsvWriter:
    return CsvWriter(folder, context)


FORMAT = FormatSpec(name="csv", title="CSV of every measurement with provenance", open=_open)
