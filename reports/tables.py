"""The report's tables from ReportData: every statistic through measurements.core.

Table 1: Dice and IoU (%) of the model against gold, by split and structure (seed 003).
Table 2: MCC, MSCC, CR and TA by group as mean ± SD, and the ICC(2,1) of the independent
readers, the model and gold together with its 95 % CI and the P value of its F test
(H0: ICC = 0), as seed 003 reports it. Table 3: each group against gold (ICC(2,1), ICC(3,1),
Bland–Altman). Table 4: seed 000's per-level morphometry of the gold reads. Where a number
cannot be computed, a NotEnough says how many values there were and what is needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from measurements.core.agreement import dice, iou
from measurements.core.labelme import parse_shapes
from measurements.core.stats import BlandAltmanResult, ICCResult, bland_altman, icc
from reports.references import HEALTHY_ADULTS, PER_LEVEL_METRICS, REPORT_LEVELS
from reports.selectors import ANNOTATORS, GOLD, MODEL, READERS, GoldCase, ReportData
from reports.values import MEASURES, axial_slice, image_levels, read_values

SPLITS: tuple[str, ...] = ("train", "tune", "test", "unassigned")
STRUCTURES: tuple[tuple[str, str], ...] = (
    ("sagittal", "cord"),
    ("sagittal", "canal"),
    ("axial", "cord"),
)
COMPARED: tuple[str, ...] = (ANNOTATORS, READERS, MODEL)
ICC_RATERS: tuple[str, ...] = (READERS, MODEL, GOLD)


@dataclass(frozen=True)
class NotEnough:
    """Why a number is absent: how many values there were, and what it needs."""

    n: int
    needs: str

    def text(self) -> str:
        return f"not enough data (n = {self.n}): needs {self.needs}"


@dataclass(frozen=True)
class Summary:
    """Mean ± sample SD (ddof = 1) of n values."""

    n: int
    mean: float
    sd: float


def summarize(values: Sequence[float], *, scale: float = 1.0) -> Summary | NotEnough:
    x = np.asarray([v for v in values if math.isfinite(v)], dtype=np.float64) * scale
    if x.size < 2:
        return NotEnough(int(x.size), "at least 2 values for a mean ± SD")
    return Summary(n=int(x.size), mean=float(np.mean(x)), sd=float(np.std(x, ddof=1)))


def icc_of(columns: Sequence[Sequence[float]], *, what: str) -> ICCResult | NotEnough:
    data = np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])
    complete = int(np.isfinite(data).all(axis=1).sum())
    try:
        result = icc(data)
    except ValueError:
        return NotEnough(complete, f"at least 2 cases measured by {what}")
    if not all(
        math.isfinite(v) for v in (result.icc2_1.icc, result.icc2_1.ci_low, result.icc2_1.ci_high)
    ):
        return NotEnough(complete, f"values that differ between the cases measured by {what}")
    return result


def bland_altman_of(
    a: Sequence[float], b: Sequence[float], *, what: str
) -> BlandAltmanResult | NotEnough:
    pairs = int(np.sum(np.isfinite(a) & np.isfinite(b)))
    try:
        return bland_altman(a, b)
    except ValueError:
        return NotEnough(pairs, f"at least 2 cases measured by {what}")


# ----- Table 1 -----


@dataclass
class OverlapTable:
    dice: dict[tuple[str, str], dict[str, Summary | NotEnough]] = field(default_factory=dict)
    iou: dict[tuple[str, str], dict[str, Summary | NotEnough]] = field(default_factory=dict)
    splits: tuple[str, ...] = ()


def _overlaps(data: ReportData, case: GoldCase) -> list[tuple[str, str, float, float]]:
    """(view, structure, Dice, IoU) of each gold image's structure against the model."""
    out: list[tuple[str, str, float, float]] = []
    if case.model_shapes is None:
        return out
    for key, shapes in case.gold_shapes.items():
        geometry = data.images.get(int(key)) if key.isdigit() else None
        if geometry is None or not isinstance(shapes, list):
            continue
        gold = parse_shapes(shapes)
        model = parse_shapes(case.model_shapes.get(key) or [])
        size = (geometry.rows, geometry.columns)
        for view, label in STRUCTURES:
            if view != geometry.orientation or (g := gold.region(label)) is None:
                continue
            m = model.region(label)
            gm = g.rasterize(size)
            mm = m.rasterize(size) if m is not None else np.zeros(size, dtype=bool)
            d, j = dice(gm, mm), iou(gm, mm)
            if math.isfinite(d) and math.isfinite(j):
                out.append((view, label, d, j))
    return out


def overlap_table(data: ReportData) -> OverlapTable:
    values: dict[tuple[str, str, str], tuple[list[float], list[float]]] = {}
    for case in data.gold_cases:
        split = case.split or "unassigned"
        for view, label, dv, jv in _overlaps(data, case):
            ds, js = values.setdefault((split, view, label), ([], []))
            ds.append(dv)
            js.append(jv)
    present = {split for split, _, _ in values} | {c.split or "unassigned" for c in data.gold_cases}
    splits = tuple(s for s in SPLITS if s in present or s != "unassigned")
    table = OverlapTable(splits=splits)
    need = "gold cases with a model read that draw this structure"
    for view, label in STRUCTURES:
        for split in splits:
            dices, ious = values.get((split, view, label), ([], []))
            d, j = summarize(dices, scale=100.0), summarize(ious, scale=100.0)
            if isinstance(d, NotEnough):
                d = j = NotEnough(d.n, f"at least 2 {need}")
            table.dice.setdefault((view, label), {})[split] = d
            table.iou.setdefault((view, label), {})[split] = j
    return table


# ----- Tables 2 and 3 -----


@dataclass
class MeasureColumns:
    """Per case (in one order), each group's value of each measurement; NaN = none."""

    values: dict[str, dict[str, list[float]]]  # measure -> group -> per case
    n_cases: int


def measure_columns(data: ReportData, *, split: str) -> MeasureColumns:
    cases = [c for c in data.gold_cases if split in ("all", c.split)]
    values = {m: {g: [math.nan] * len(cases) for g in (*COMPARED, GOLD)} for m in MEASURES}
    for i, case in enumerate(cases):
        image = axial_slice(case)
        reads = {**case.reads, GOLD: case.gold}
        for group, read in reads.items():
            for measure, v in read_values(read, axial_image=image).items():
                if v is not None:
                    values[measure][group][i] = v
    return MeasureColumns(values=values, n_cases=len(cases))


@dataclass
class Table2Row:
    measure: str
    groups: dict[str, Summary | NotEnough]
    raters: tuple[str, ...]
    icc: ICCResult | NotEnough


def table2(columns: MeasureColumns) -> list[Table2Row]:
    rows: list[Table2Row] = []
    for measure in MEASURES:
        by_group = columns.values[measure]
        groups = {g: summarize(by_group[g]) for g in (*COMPARED, GOLD)}
        raters = tuple(g for g in ICC_RATERS if any(math.isfinite(v) for v in by_group[g]))
        if len(raters) < 2:
            result: ICCResult | NotEnough = NotEnough(
                0, "values from at least 2 of readers, model and gold"
            )
        else:
            what = ", ".join(raters)
            result = icc_of([by_group[g] for g in raters], what=what)
        rows.append(Table2Row(measure=measure, groups=groups, raters=raters, icc=result))
    return rows


@dataclass
class AgreementRow:
    group: str
    measure: str
    icc: ICCResult | NotEnough
    bland_altman: BlandAltmanResult | NotEnough


def table3(columns: MeasureColumns) -> list[AgreementRow]:
    rows: list[AgreementRow] = []
    for group in COMPARED:
        for measure in MEASURES:
            a = columns.values[measure][group]
            b = columns.values[measure][GOLD]
            what = f"both the {group} and gold"
            rows.append(
                AgreementRow(
                    group=group,
                    measure=measure,
                    icc=icc_of([a, b], what=what),
                    bland_altman=bland_altman_of(a, b, what=what),
                )
            )
    return rows


# ----- Table 4: per-level morphometry (seed 000) -----

# Stored axial value names of each per-level metric.
_STORED: dict[str, str] = {
    "cord_area": "ta",
    "sas_area": "sas_area",
    "cord_sas_ratio": "cord_sas_ratio",
    "cord_transverse": "transverse",
    "cord_ap": "ap",
    "sas_transverse": "sas_transverse",
    "sas_ap": "sas_ap",
}


@dataclass
class LevelCell:
    summary: Summary | NotEnough
    outside_reference: bool  # the mean lies outside the healthy range


def level_table(data: ReportData) -> dict[str, dict[str, LevelCell]]:
    """{level: {metric: cell}} over the gold reads' level-tagged axial slices."""
    found: dict[tuple[str, str], list[float]] = {}
    for case in data.gold_cases:
        levels = image_levels(case.gold_image_flags)
        for result in case.gold.results:
            level = levels.get(result.image_id)
            if result.view != "axial" or level is None:
                continue
            for metric, key in _STORED.items():
                v = result.values.get(key)
                if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
                    found.setdefault((level, metric), []).append(float(v))
    table: dict[str, dict[str, LevelCell]] = {}
    for level in REPORT_LEVELS:
        row: dict[str, LevelCell] = {}
        for metric in PER_LEVEL_METRICS:
            s = summarize(found.get((level, metric), []))
            if isinstance(s, NotEnough):
                s = NotEnough(s.n, f"at least 2 gold axial slices tagged {level}")
            low, high = HEALTHY_ADULTS.ranges[metric].low, HEALTHY_ADULTS.ranges[metric].high
            outside = isinstance(s, Summary) and not low <= s.mean <= high
            row[metric] = LevelCell(summary=s, outside_reference=outside)
        table[level] = row
    return table
