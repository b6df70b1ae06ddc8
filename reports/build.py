"""Assemble the study report (tables, charts, methods) from ReportData; no database access."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from reports.charts import Chart, bland_altman_chart, level_chart
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


def _ba_slots(rows: list[AgreementRow]) -> list[ChartSlot]:
    slots = []
    for row in rows:
        key = f"bland_altman_{row.group}_{row.measure}"
        title = f"{GROUP_TITLES[row.group]} vs gold: {MEASURE_TITLES[row.measure]}"
        if isinstance(row.bland_altman, NotEnough):
            slots.append(ChartSlot(key, title, None, row.bland_altman))
            continue
        chart = bland_altman_chart(
            row.bland_altman,
            key=key,
            title=title,
            group=row.group,
            unit=MEASURE_UNITS[row.measure],
        )
        slots.append(ChartSlot(key, title, chart, None))
    return slots


def _level_slots(levels: dict[str, dict[str, LevelCell]]) -> list[ChartSlot]:
    slots = []
    for metric in PER_LEVEL_METRICS:
        reference = HEALTHY_ADULTS.ranges[metric]
        cells = [levels[level][metric].summary for level in REPORT_LEVELS]
        key = f"per_level_{metric}"
        drawn = [c for c in cells if isinstance(c, Summary)]
        if not drawn:
            n = max((c.n for c in cells), default=0)
            missing = NotEnough(n, "at least 2 gold axial slices tagged with one disc level")
            slots.append(ChartSlot(key, reference.title, None, missing))
            continue
        chart = level_chart(
            key=key,
            title=reference.title,
            levels=REPORT_LEVELS,
            means=[c.mean if isinstance(c, Summary) else None for c in cells],
            sds=[c.sd if isinstance(c, Summary) else None for c in cells],
            reference=reference,
        )
        slots.append(ChartSlot(key, reference.title, chart, None))
    return slots


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
    ba = _ba_slots(t3)
    progress(0.8, "drawing the per-level charts")
    level_slots = _level_slots(levels)
    return Report(
        project_name=data.project_name,
        split=split,
        generated_at=now,
        methods=methods_paragraphs(data, split=split),
        table1=t1,
        table2=t2,
        table3=t3,
        levels=levels,
        bland_altman=ba,
        level_charts=level_slots,
        n_gold=len(data.gold_cases),
        n_compared=columns.n_cases,
    )
