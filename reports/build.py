"""Assemble the study report (tables, charts, methods) from ReportData; no database access."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from reports.charts import BlandAltmanPoints, Chart, ChartSpec, draw_all
from reports.methods import methods_paragraphs
from reports.references import HEALTHY_ADULTS, PER_LEVEL_METRICS, REPORT_LEVELS
from reports.selectors import GROUP_TITLES, ReportData
from reports.tables import (
    AgreementRow,
    LevelCell,
    NotEnough,
    OverlapTable,
    Summary,
    Table2Row,
    level_gaps,
    level_table,
    measure_columns,
    overlap_table,
    table2,
    table3,
)
from reports.values import MEASURE_TITLES, MEASURE_UNITS

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ChartSlot:
    """A chart, or why it could not be drawn."""

    key: str
    title: str
    chart: Chart | None
    missing: NotEnough | None


@dataclass
class Report:
    project_name: str
    split: str
    generated_at: datetime.datetime
    methods: list[str]
    table1: OverlapTable
    table2: list[Table2Row]
    table3: list[AgreementRow]
    levels: dict[str, dict[str, LevelCell]]
    bland_altman: list[ChartSlot]
    level_charts: list[ChartSlot]
    n_gold: int
    n_compared: int  # gold cases in the split of Tables 2 and 3
    model_label: str  # the model version of Tables 1-3
    # Gold cases with no disc level on any axial slice, by why (Table 4's caption).
    level_gaps: dict[str, int] = field(default_factory=dict)


def _ba_specs(rows: list[AgreementRow]) -> list[tuple[str, str, ChartSpec | NotEnough]]:
    out: list[tuple[str, str, ChartSpec | NotEnough]] = []
    for row in rows:
        key = f"bland_altman_{row.group}_{row.measure}"
        title = f"{GROUP_TITLES[row.group]} vs gold: {MEASURE_TITLES[row.measure]}"
        ba = row.bland_altman
        if isinstance(ba, NotEnough):
            out.append((key, title, ba))
            continue
        points = BlandAltmanPoints(
            n=ba.n,
            means=ba.means,
            differences=ba.differences,
            bias=ba.bias,
            loa_low=ba.loa_low,
            loa_high=ba.loa_high,
        )
        kwargs = {"result": points, "key": key, "title": title, "group": str(row.group)}
        spec = ChartSpec("bland_altman", {**kwargs, "unit": MEASURE_UNITS[row.measure]})
        out.append((key, title, spec))
    return out


def _level_specs(
    levels: dict[str, dict[str, LevelCell]],
) -> list[tuple[str, str, ChartSpec | NotEnough]]:
    out: list[tuple[str, str, ChartSpec | NotEnough]] = []
    for metric in PER_LEVEL_METRICS:
        reference = HEALTHY_ADULTS.ranges[metric]
        cells = [levels[level][metric].summary for level in REPORT_LEVELS]
        key = f"per_level_{metric}"
        if not any(isinstance(c, Summary) for c in cells):
            n = max((c.n for c in cells), default=0)
            missing = NotEnough(
                n, "at least 2 gold axial slices at one disc level (image flag or sagittal corners)"
            )
            out.append((key, reference.title, missing))
            continue
        kwargs = {
            "key": key,
            "title": reference.title,
            "levels": REPORT_LEVELS,
            "means": [c.mean if isinstance(c, Summary) else None for c in cells],
            "sds": [c.sd if isinstance(c, Summary) else None for c in cells],
            "reference": reference,
        }
        out.append((key, reference.title, ChartSpec("level", kwargs)))
    return out


def _slots(planned: list[tuple[str, str, ChartSpec | NotEnough]]) -> list[ChartSlot]:
    specs = [p for _, _, p in planned if isinstance(p, ChartSpec)]
    drawn = iter(draw_all(specs))
    return [
        ChartSlot(key, title, None, p)
        if isinstance(p, NotEnough)
        else ChartSlot(key, title, next(drawn), None)
        for key, title, p in planned
    ]


def report_build(
    data: ReportData, *, split: str, now: datetime.datetime, progress: Progress
) -> Report:
    progress(0.2, "Dice and IoU of the model against gold")
    t1 = overlap_table(data)
    progress(0.45, "measurements by group, ICC and Bland–Altman")
    columns = measure_columns(data, split=split)
    t2, t3 = table2(columns), table3(columns)
    levels = level_table(data)
    progress(0.6, "drawing the charts")
    planned = [*_ba_specs(t3), *_level_specs(levels)]
    slots = _slots(planned)
    ba, level_slots = slots[: len(t3)], slots[len(t3) :]
    return Report(
        project_name=data.project_name,
        split=split,
        generated_at=now,
        methods=methods_paragraphs(data, split=split),
        table1=t1,
        table2=t2,
        table3=t3,
        levels=levels,
        level_gaps=level_gaps(data),
        bland_altman=ba,
        level_charts=level_slots,
        n_gold=len(data.gold_cases),
        n_compared=columns.n_cases,
        model_label=_model_label(data, t1.model_version_id),
    )


def _model_label(data: ReportData, version_id: int | None) -> str:
    found = next((m for m in data.model_versions if m.id == version_id), None)
    if found is None:
        return "The model (no model version has pre-labelled a gold case yet)"
    return f"Model {found.name} ({found.task})"
