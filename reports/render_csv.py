"""Every table of the report in one CSV, long form, at full precision.

Columns: table, row, column, statistic, value, n, note. A number that could not be
computed is one row with statistic "not_enough_data", no value and the reason as note.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from measurements.core.stats import BlandAltmanResult, ICCResult
from reports.build import Report
from reports.references import HEALTHY_ADULTS, PER_LEVEL_METRICS, REPORT_LEVELS
from reports.selectors import GOLD
from reports.tables import COMPARED, STRUCTURES, NotEnough, Summary

Row = tuple[str, str, str, str, str, str, str]
HEADER: Row = ("table", "row", "column", "statistic", "value", "n", "note")


def _num(v: float) -> str:
    return repr(float(v))


def _missing(table: str, row: str, column: str, m: NotEnough) -> Row:
    return (table, row, column, "not_enough_data", "", str(m.n), m.text())


def _summary(table: str, row: str, column: str, s: Summary | NotEnough) -> Iterator[Row]:
    if isinstance(s, NotEnough):
        yield _missing(table, row, column, s)
        return
    yield (table, row, column, "mean", _num(s.mean), str(s.n), "")
    yield (table, row, column, "sd", _num(s.sd), str(s.n), "")


def _icc(table: str, row: str, column: str, r: ICCResult | NotEnough) -> Iterator[Row]:
    if isinstance(r, NotEnough):
        yield _missing(table, row, column, r)
        return
    n = str(r.n_cases)
    for name, v in (("icc2_1", r.icc2_1), ("icc3_1", r.icc3_1)):
        yield (table, row, column, name, _num(v.icc), n, "")
        yield (table, row, column, f"{name}_ci_low", _num(v.ci_low), n, "")
        yield (table, row, column, f"{name}_ci_high", _num(v.ci_high), n, "")
    yield (table, row, column, "p_value", _num(r.icc2_1.p_value), n, "F test of ICC = 0")


def _ba(table: str, row: str, column: str, r: BlandAltmanResult | NotEnough) -> Iterator[Row]:
    if isinstance(r, NotEnough):
        yield _missing(table, row, column, r)
        return
    n = str(r.n)
    for name in ("bias", "sd", "loa_low", "loa_high"):
        yield (table, row, column, f"ba_{name}", _num(getattr(r, name)), n, "")


def _rows(report: Report) -> Iterator[Row]:
    t1 = report.table1
    for metric, table in (("dice_percent", t1.dice), ("iou_percent", t1.iou)):
        for view, label in STRUCTURES:
            for split in t1.splits:
                yield from _summary(
                    f"table1_{metric}", f"{view} {label}", split, table[(view, label)][split]
                )
    for row in report.table2:
        for group in (*COMPARED, GOLD):
            yield from _summary("table2", row.measure, group, row.groups[group])
        yield from _icc("table2", row.measure, "+".join(row.raters) or "none", row.icc)
    for a in report.table3:
        yield from _icc("table3", a.measure, a.group, a.icc)
        yield from _ba("table3", a.measure, a.group, a.bland_altman)
    for level in REPORT_LEVELS:
        for metric in PER_LEVEL_METRICS:
            cell = report.levels[level][metric]
            ref = HEALTHY_ADULTS.ranges[metric]
            yield from _summary("table4", level, metric, cell.summary)
            note = f"healthy {ref.low:g}-{ref.high:g} {ref.unit}".strip()
            flag = "outside" if cell.outside_reference else "inside"
            if isinstance(cell.summary, Summary):
                yield ("table4", level, metric, "reference", flag, str(cell.summary.n), note)
                n = str(cell.summary.n)
                yield ("table4", level, metric, "from_image_flags", str(cell.from_flags), n, "")
                yield (
                    "table4", level, metric, "from_sagittal_corners", str(cell.from_corners), n,
                    "the gold read's own sagittal vertebral corners",
                )  # fmt: skip


def _gap_rows(report: Report) -> Iterator[Row]:
    for why, n in report.level_gaps.items():
        yield ("table4", "cases_without_levels", why, "count", str(n), str(n), "")


def report_csv(report: Report) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(_rows(report))
    writer.writerows(_gap_rows(report))
    return buf.getvalue()
