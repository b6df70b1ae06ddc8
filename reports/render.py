"""The report as one self-contained HTML file (inline CSS, inline SVG charts, downloads as
data URIs, no external resource) and as one CSV holding every table in long form."""

from __future__ import annotations

import base64
from html import escape

from measurements.core.stats import BlandAltmanResult, ICCResult
from reports.build import ChartSlot, Report
from reports.references import HEALTHY_ADULTS, PER_LEVEL_METRICS, REPORT_LEVELS
from reports.selectors import GOLD, GROUP_TITLES
from reports.tables import COMPARED, STRUCTURES, NotEnough, Summary
from reports.values import DECIMALS, MEASURE_TITLES

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;
margin:2rem auto;max-width:72rem;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #ccc}p.meta{color:#555;margin-top:0}
table{border-collapse:collapse;margin:.6rem 0;font-variant-numeric:tabular-nums}
th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}thead th{background:#eef2f6}
td small{white-space:nowrap}
.na{color:#8a4b00;font-style:italic;font-size:.85em}
.out{color:#D55E00;font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:1rem}
figure{margin:0;border:1px solid #ddd;padding:.4rem;width:32rem;max-width:100%}
figure svg{width:100%;height:auto;display:block}
figcaption{font-size:.85em;color:#333}figcaption a{margin-right:.8rem}
.empty{width:32rem;border:1px dashed #bbb;padding:1rem;color:#8a4b00}
caption{caption-side:bottom;text-align:left;font-size:.85em;color:#444;padding-top:.3rem}
@media print{figure{break-inside:avoid}}
"""


def _na(missing: NotEnough) -> str:
    return f'<span class="na">{escape(missing.text())}</span>'


def _summary(value: Summary | NotEnough, decimals: int) -> str:
    if isinstance(value, NotEnough):
        return _na(value)
    return f"{value.mean:.{decimals}f} ± {value.sd:.{decimals}f} <small>(n = {value.n})</small>"


def _p(p: float) -> str:
    return "&lt;0.001" if p < 0.001 else f"{p:.3f}"


def _table1(report: Report) -> str:
    t = report.table1
    head = "".join(f"<th>{escape(s.capitalize())}</th>" for s in t.splits)
    body = []
    for name, table in (("DSC", t.dice), ("IoU", t.iou)):
        body.append(f'<tr><th colspan="{len(t.splits) + 1}">{name} (%)</th></tr>')
        for view, label in STRUCTURES:
            cells = "".join(f"<td>{_summary(table[(view, label)][s], 2)}</td>" for s in t.splits)
            body.append(f"<tr><td>{view.capitalize()} {label}</td>{cells}</tr>")
    return (
        f'<table id="table1"><caption>{escape(report.model_label)} against gold, per '
        "case (a structure's images of one view pooled); mean ± SD.</caption>"
        f"<thead><tr><th>Structure</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _icc_cells(result: ICCResult | NotEnough) -> str:
    if isinstance(result, NotEnough):
        return f'<td colspan="3">{_na(result)}</td>'
    v = result.icc2_1
    return (
        f"<td>{v.icc:.3f} <small>(n = {result.n_cases})</small></td>"
        f"<td>{v.ci_low:.2f}–{v.ci_high:.2f}</td><td>{_p(v.p_value)}</td>"
    )


def _table2(report: Report) -> str:
    groups = (*COMPARED, GOLD)
    head = "".join(f"<th>{escape(GROUP_TITLES[g])}</th>" for g in groups)
    rows = []
    for row in report.table2:
        d = DECIMALS[row.measure]
        cells = "".join(f"<td>{_summary(row.groups[g], d)}</td>" for g in groups)
        rows.append(
            f"<tr><td>{escape(MEASURE_TITLES[row.measure])}</td>{cells}{_icc_cells(row.icc)}</tr>"
        )
    return (
        '<table id="table2"><caption>Mean ± SD per group. ICC(2,1) of the groups listed in '
        "the CSV (independent readers, model and gold where each has values), over the cases "
        "all of them measured; P: F test of ICC = 0.</caption>"
        f"<thead><tr><th>Measurement</th>{head}<th>ICC</th><th>95 % CI</th><th>P</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _ba_cells(ba: BlandAltmanResult | NotEnough, decimals: int) -> str:
    if isinstance(ba, NotEnough):
        return f'<td colspan="2">{_na(ba)}</td>'
    return (
        f"<td>{ba.bias:.{decimals}f}</td>"
        f"<td>{ba.loa_low:.{decimals}f} to {ba.loa_high:.{decimals}f}</td>"
    )


def _table3(report: Report) -> str:
    rows = []
    for row in report.table3:
        d = DECIMALS[row.measure]
        if isinstance(row.icc, NotEnough):
            icc = f'<td colspan="4">{_na(row.icc)}</td>'
        else:
            a, c = row.icc.icc2_1, row.icc.icc3_1
            icc = (
                f"<td>{a.icc:.3f} <small>(n = {row.icc.n_cases})</small></td>"
                f"<td>{a.ci_low:.2f}–{a.ci_high:.2f}</td><td>{_p(a.p_value)}</td>"
                f"<td>{c.icc:.3f}</td>"
            )
        rows.append(
            f"<tr><td>{escape(GROUP_TITLES[row.group])}</td>"
            f"<td>{escape(MEASURE_TITLES[row.measure])}</td>{icc}"
            f"{_ba_cells(row.bland_altman, d)}</tr>"
        )
    return (
        '<table id="table3"><thead><tr><th>Group</th><th>Measurement</th><th>ICC(2,1)</th>'
        "<th>95 % CI</th><th>P</th><th>ICC(3,1)</th><th>Bias</th><th>95 % limits</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _level_source(report: Report, level: str) -> str:
    """Where the row's slices got their level: image flags, sagittal corners, or both."""
    cells = report.levels[level].values()
    flags = max((c.from_flags for c in cells), default=0)
    corners = max((c.from_corners for c in cells), default=0)
    parts = [f"{flags} by image flag"] if flags else []
    parts += [f"{corners} from the gold reads' sagittal corners"] if corners else []
    if not parts:
        return ""
    return f'<br><small class="level-source">slices: {escape(", ".join(parts))}</small>'


def _gaps(report: Report) -> str:
    """Gold cases none of whose slices got a level, and why."""
    if not report.level_gaps:
        return ""
    n = sum(report.level_gaps.values())
    why = "; ".join(f"{escape(k)}: {v}" for k, v in report.level_gaps.items())
    return f'<br><span class="level-gaps">{n} gold case(s) without a disc level ({why}).</span>'


def _table4(report: Report) -> str:
    head = "".join(
        f"<th>{escape(HEALTHY_ADULTS.ranges[m].title)}"
        f"<br><small>{HEALTHY_ADULTS.ranges[m].low:g}–{HEALTHY_ADULTS.ranges[m].high:g} "
        f"{escape(HEALTHY_ADULTS.ranges[m].unit)}</small></th>"
        for m in PER_LEVEL_METRICS
    )
    rows = []
    for level in REPORT_LEVELS:
        cells = []
        for metric in PER_LEVEL_METRICS:
            cell = report.levels[level][metric]
            text = _summary(cell.summary, 2)
            mark = (
                ' class="out" title="mean outside the healthy range"'
                if cell.outside_reference
                else ""
            )
            cells.append(f"<td{mark}>{text}{' ▲' if cell.outside_reference else ''}</td>")
        rows.append(f"<tr><td>{level}{_level_source(report, level)}</td>{''.join(cells)}</tr>")
    return (
        '<table id="table4"><caption>Gold reads, axial slices at their disc level (a labelme '
        "image flag, else the level the gold read's own sagittal vertebral corners place the "
        "slice at); mean ± SD. Under each heading the healthy range (seed 000: "
        f"{escape(HEALTHY_ADULTS.population)}); ▲ a mean outside it. "
        f"{escape(HEALTHY_ADULTS.citation)} doi:{escape(HEALTHY_ADULTS.doi)}"
        f"{_gaps(report)}</caption>"
        f"<thead><tr><th>Level</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _figure(slot: ChartSlot) -> str:
    if slot.chart is None:
        assert slot.missing is not None
        return (
            f'<div class="empty" data-empty-chart="{slot.key}">'
            f"<strong>{escape(slot.title)}</strong>"
            f"<br>{escape(slot.missing.text())}</div>"
        )
    svg64 = base64.b64encode(slot.chart.svg.encode()).decode()
    png64 = base64.b64encode(slot.chart.png).decode()
    return (
        f"<figure>{slot.chart.svg}<figcaption>{escape(slot.title)}<br>"
        f'<a download="{slot.key}.png" href="data:image/png;base64,{png64}">PNG</a>'
        f'<a download="{slot.key}.svg" href="data:image/svg+xml;base64,{svg64}">SVG</a>'
        "</figcaption></figure>"
    )


def _empty(report: Report) -> str:
    if report.n_gold:
        return ""
    return (
        '<p class="na" data-empty-report>No gold yet: not enough data (n = 0): needs at least '
        "one case signed as gold by a reviewer. Every table below says what it lacks.</p>"
    )


def report_html(report: Report) -> str:
    methods = "".join(f"<p>{escape(p)}</p>" for p in report.methods)
    ba = "".join(_figure(s) for s in report.bland_altman)
    levels = "".join(_figure(s) for s in report.level_charts)
    when = report.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Study report: {escape(report.project_name)}</title><style>{CSS}</style></head>"
        f"<body><h1>Study report: {escape(report.project_name)}</h1>"
        f'<p class="meta">Generated {when}; {report.n_gold} gold cases, '
        f"{report.n_compared} in the compared split ({escape(report.split)}).</p>{_empty(report)}"
        f"<h2>Methods</h2>{methods}"
        f"<h2>Table 1. Segmentation: model against gold (DSC and IoU, %)</h2>{_table1(report)}"
        f"<h2>Table 2. Measurements by group</h2>{_table2(report)}"
        f"<h2>Table 3. Agreement of each group with gold</h2>{_table3(report)}"
        f'<h2>Bland–Altman plots</h2><div class="charts" id="bland-altman">{ba}</div>'
        f"<h2>Table 4. Per-level morphometry (seed 000)</h2>{_table4(report)}"
        f'<div class="charts" id="per-level">{levels}</div></body></html>'
    )
