"""The report's tables from ReportData: every statistic through measurements.core.

The per-case numbers are the dashboards' stored pairs (dashboards.selectors.agreement):
Table 1: Dice and IoU (%) of the model against gold, by split and structure (seed 003).
Table 2: MCC, MSCC, CR and TA by group as mean ± SD, and the ICC(2,1) of the independent
readers, the model and gold together with its 95 % CI and the P value of its F test
(H0: ICC = 0), as seed 003 reports it. Table 3: each group against gold (ICC(2,1), ICC(3,1),
Bland–Altman). Table 4: seed 000's per-level morphometry of the gold reads (the level of
an axial slice from its image flag, else from the gold read's sagittal corners). Where a number
cannot be computed, a NotEnough says how many values there were and what is needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from dashboards.selectors.agreement import AgreementPair
from measurements.core.levels import CORNERS, FLAG
from measurements.core.stats import BlandAltmanResult, ICCResult, bland_altman, icc
from reports.references import HEALTHY_ADULTS, PER_LEVEL_METRICS, REPORT_LEVELS
from reports.selectors import ANNOTATORS, GOLD, MODEL, READERS, ReportData
from reports.values import MEASURES

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
    model_version_id: int | None = None


def model_pairs(data: ReportData) -> tuple[int | None, list[AgreementPair]]:
    """The newest model version with pairs, and the pairs of the newest version of each task
    (seed 003 reports one model; a read pre-labelled by a sagittal and an axial version has
    each view's figures under the version that drew it)."""
    models = [p for p in data.pairs if p.kind == MODEL]
    if not models:
        return None, []
    task = {m.id: m.task for m in data.model_versions}
    newest: dict[str, int] = {}
    for p in models:
        version = p.model_version_id or 0
        key = task.get(version, "")
        newest[key] = max(newest.get(key, 0), version)
    keep = set(newest.values())
    return max(keep), [p for p in models if (p.model_version_id or 0) in keep]


def overlap_table(data: ReportData) -> OverlapTable:
    version, pairs = model_pairs(data)
    values: dict[tuple[str, str, str], tuple[list[float], list[float]]] = {}
    for pair in pairs:
        split = pair.split or "unassigned"
        for view, label in STRUCTURES:
            area = pair.areas.get(f"{view} {label}")
            if area is None or area.dice is None or area.iou is None:
                continue
            dices, ious = values.setdefault((split, view, label), ([], []))
            dices.append(area.dice)
            ious.append(area.iou)
    present = {p.split or "unassigned" for p in pairs} | {
        c.split or "unassigned" for c in data.gold_cases
    }
    splits = tuple(s for s in SPLITS if s in present or s != "unassigned")
    table = OverlapTable(splits=splits, model_version_id=version)
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


def _in_split(pair: AgreementPair, split: str) -> bool:
    return split in ("all", pair.split)


def _value(v: float | None) -> float:
    return math.nan if v is None else float(v)


@dataclass
class MeasureColumns:
    """Per gold case (in one order), each group's value of each measurement (NaN = none),
    and each group's (value, gold) pairs as the dashboards store them."""

    values: dict[str, dict[str, list[float]]]  # measure -> group -> per case
    pairs: dict[str, dict[str, tuple[list[float], list[float]]]]  # measure -> group -> (a, gold)
    n_cases: int


def _group_pairs(data: ReportData, split: str) -> list[AgreementPair]:
    _, models = model_pairs(data)
    humans = [p for p in data.pairs if p.kind in (ANNOTATORS, READERS)]
    return [p for p in (*models, *humans) if _in_split(p, split)]


def measure_columns(data: ReportData, *, split: str) -> MeasureColumns:
    """Table 2's columns: one value per case and group (the first annotator's read on an
    overlap case); gold's value is the reference of the model's pair, else of any pair."""
    cases = [c.case_id for c in data.gold_cases if split in ("all", c.split)]
    index = {case_id: i for i, case_id in enumerate(cases)}
    groups = (*COMPARED, GOLD)
    values = {m: {g: [math.nan] * len(cases) for g in groups} for m in MEASURES}
    pairs: dict[str, dict[str, tuple[list[float], list[float]]]] = {
        m: {g: ([], []) for g in COMPARED} for m in MEASURES
    }
    gold_from: dict[tuple[str, int], int] = {}  # (measure, case) -> priority of its source
    for pair in _group_pairs(data, split):
        i = index.get(pair.case_id)
        for m in MEASURES:
            a, ref = pair.measurements.get(m, (None, None))
            pairs[m][pair.kind][0].append(_value(a))
            pairs[m][pair.kind][1].append(_value(ref))
            if i is None:
                continue
            if math.isnan(values[m][pair.kind][i]):
                values[m][pair.kind][i] = _value(a)
            rank = COMPARED.index(pair.kind)
            if ref is not None and gold_from.get((m, i), -1) < rank:
                values[m][GOLD][i], gold_from[(m, i)] = float(ref), rank
    return MeasureColumns(values=values, pairs=pairs, n_cases=len(cases))


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
    """Each group's stored pairs against gold (every annotator read of overlap cases)."""
    rows: list[AgreementRow] = []
    for group in COMPARED:
        for measure in MEASURES:
            a, b = columns.pairs[measure][group]
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
    # Where the values' disc levels came from: slices tagged by a labelme image flag, and
    # slices placed by the gold read's own sagittal vertebral corners.
    from_flags: int = 0
    from_corners: int = 0


def level_table(data: ReportData) -> dict[str, dict[str, LevelCell]]:
    """{level: {metric: cell}} over the gold reads' axial slices with a disc level (an image
    flag, else the level the gold read's sagittal corners give the slice)."""
    found: dict[tuple[str, str], list[float]] = {}
    sources: dict[tuple[str, str], dict[str, int]] = {}
    for case in data.gold_cases:
        for result in case.results:
            placed = case.levels.get(result.image_id)
            if result.view != "axial" or placed is None:
                continue
            for metric, key in _STORED.items():
                v = result.values.get(key)
                if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
                    found.setdefault((placed.level, metric), []).append(float(v))
                    by = sources.setdefault((placed.level, metric), {})
                    by[placed.source] = by.get(placed.source, 0) + 1
    table: dict[str, dict[str, LevelCell]] = {}
    for level in REPORT_LEVELS:
        row: dict[str, LevelCell] = {}
        for metric in PER_LEVEL_METRICS:
            s = summarize(found.get((level, metric), []))
            if isinstance(s, NotEnough):
                s = NotEnough(s.n, f"at least 2 gold axial slices at {level}")
            low, high = HEALTHY_ADULTS.ranges[metric].low, HEALTHY_ADULTS.ranges[metric].high
            outside = isinstance(s, Summary) and not low <= s.mean <= high
            by = sources.get((level, metric), {})
            row[metric] = LevelCell(
                summary=s,
                outside_reference=outside,
                from_flags=by.get(FLAG, 0),
                from_corners=by.get(CORNERS, 0),
            )
        table[level] = row
    return table


def level_gaps(data: ReportData) -> dict[str, int]:
    """{why: number of gold cases} for the gold cases whose axial slices got no disc level
    at all (no flag, and the corners placed none): the report says why beside Table 4."""
    gaps: dict[str, int] = {}
    for case in data.gold_cases:
        if case.levels:
            continue
        general = [n for n in case.level_notes if n.startswith("no ")]
        why = general[-1] if general else "no disc level found"
        gaps[why] = gaps.get(why, 0) + 1
    return dict(sorted(gaps.items()))
