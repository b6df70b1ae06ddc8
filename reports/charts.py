"""The report's charts, drawn on the server with matplotlib (Agg canvas, no pyplot state).

Each chart comes back as an SVG fragment to inline and as PNG bytes to offer for download.
Colours are the Okabe–Ito palette (Okabe & Ito 2008), safe for colour-blind readers.
A report's charts are independent: `draw_all` draws them in parallel processes (each chart
costs a few hundred milliseconds of text layout; a 1,000-case report has 19). This module
imports no Django and no SciPy, so a drawing process starts light.
"""

from __future__ import annotations

import html
import io
import logging
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from reports.references import Range

logger = logging.getLogger(__name__)

OKABE_ITO: dict[str, str] = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
}
GROUP_COLOURS: dict[str, str] = {
    "annotators": OKABE_ITO["orange"],
    "readers": OKABE_ITO["sky_blue"],
    "model": OKABE_ITO["bluish_green"],
    "gold": OKABE_ITO["blue"],
}
_SIZE = (5.2, 3.6)  # inches
_PNG_DPI = 100


@dataclass(frozen=True)
class Chart:
    """One drawn chart: its id (file name stem), title, inline SVG and PNG bytes."""

    key: str
    title: str
    svg: str
    png: bytes


def _render(fig: Figure, *, key: str, title: str) -> Chart:
    FigureCanvasAgg(fig)
    # Fixed margins: tight_layout would draw the figure once more just to measure it.
    fig.subplots_adjust(left=0.15, right=0.97, bottom=0.14, top=0.9)
    # Charts share one HTML page: a salt per chart keeps their SVG ids apart.
    with matplotlib.rc_context({"svg.hashsalt": key, "svg.fonttype": "none"}):
        svg_buf = io.StringIO()
        fig.savefig(svg_buf, format="svg", metadata={"Date": None})
    png_buf = io.BytesIO()
    fig.savefig(png_buf, format="png", dpi=_PNG_DPI, metadata={"Software": None})
    text = svg_buf.getvalue()
    text = text[text.index("<svg") :]
    label = html.escape(title, quote=True)
    text = text.replace("<svg ", f'<svg role="img" aria-label="{label}" data-chart="{key}" ', 1)
    return Chart(key=key, title=title, svg=text, png=png_buf.getvalue())


@dataclass(frozen=True)
class BlandAltmanPoints:
    """What a Bland–Altman plot draws (plain numbers: cheap to send to a drawing process)."""

    n: int
    means: tuple[float, ...]
    differences: tuple[float, ...]
    bias: float
    loa_low: float
    loa_high: float


def bland_altman_chart(
    result: BlandAltmanPoints, *, key: str, title: str, group: str, unit: str
) -> Chart:
    """Difference (group − gold) against the mean, with the bias and the 95 % limits."""
    fig = Figure(figsize=_SIZE)
    ax = fig.add_subplot()
    colour = GROUP_COLOURS.get(group, OKABE_ITO["black"])
    ax.scatter(result.means, result.differences, s=14, color=colour, alpha=0.75, linewidths=0)
    ax.axhline(result.bias, color=OKABE_ITO["black"], linewidth=1.2)
    for limit in (result.loa_low, result.loa_high):
        ax.axhline(limit, color=OKABE_ITO["vermillion"], linewidth=1.0, linestyle="--")
    x_right = max(result.means)
    for y, name in (
        (result.bias, "bias"),
        (result.loa_high, "+1.96 SD"),
        (result.loa_low, "−1.96 SD"),
    ):
        ax.annotate(
            f"{name} {y:.3g}",
            xy=(x_right, y),
            xytext=(0, 2),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=7,
        )
    suffix = f" ({unit})" if unit else ""
    ax.set_xlabel(f"mean of {group} and gold{suffix}")
    ax.set_ylabel(f"{group} − gold{suffix}")
    ax.set_title(f"{title} (n = {result.n})", fontsize=9)
    ax.grid(True, linewidth=0.3, alpha=0.5)
    return _render(fig, key=key, title=title)


def level_chart(
    *,
    key: str,
    title: str,
    levels: Sequence[str],
    means: Sequence[float | None],
    sds: Sequence[float | None],
    reference: Range,
) -> Chart:
    """Mean ± SD per disc level with the healthy reference band shaded; a mean outside the
    band is drawn as a vermillion triangle."""
    fig = Figure(figsize=_SIZE)
    ax = fig.add_subplot()
    ax.axhspan(reference.low, reference.high, color=OKABE_ITO["sky_blue"], alpha=0.25, linewidth=0)
    xs = list(range(len(levels)))
    for x, m, s in zip(xs, means, sds, strict=True):
        if m is None:
            continue
        outside = not reference.low <= m <= reference.high
        ax.errorbar(
            [x],
            [m],
            yerr=[s or 0.0],
            fmt="^" if outside else "o",
            color=OKABE_ITO["vermillion"] if outside else OKABE_ITO["blue"],
            capsize=3,
        )
    ax.set_xticks(xs, list(levels))
    ax.set_xlim(-0.5, len(levels) - 0.5)
    unit = f" ({reference.unit})" if reference.unit else ""
    ax.set_ylabel(f"{reference.title}{unit}", fontsize=8)
    ax.set_title(
        f"{title}: healthy range {reference.low:g}–{reference.high:g}{unit} shaded", fontsize=9
    )
    ax.grid(True, axis="y", linewidth=0.3, alpha=0.5)
    return _render(fig, key=key, title=title)


@dataclass(frozen=True)
class ChartSpec:
    """A chart to draw: which kind and its keyword arguments."""

    kind: str  # "bland_altman" | "level"
    kwargs: dict[str, Any] = field(default_factory=dict)


# Below this many charts a pool costs more (its processes import matplotlib) than it saves.
_POOL_MIN_CHARTS = 6
_POOL_MAX_PROCESSES = 4
_POOL_MIN_CPUS = 4


def draw(spec: ChartSpec) -> Chart:
    if spec.kind == "bland_altman":
        return bland_altman_chart(**spec.kwargs)
    return level_chart(**spec.kwargs)


def draw_all(specs: Sequence[ChartSpec]) -> list[Chart]:
    """Every chart, in order: in parallel processes where there are enough charts and CPUs
    (on 2 busy cores, starting the processes costs more than they save)."""
    processes = min(_POOL_MAX_PROCESSES, os.cpu_count() or 1, len(specs))
    if processes < _POOL_MIN_CPUS or len(specs) < _POOL_MIN_CHARTS:
        return [draw(spec) for spec in specs]
    return draw_in_processes(specs, processes=processes)


def draw_in_processes(specs: Sequence[ChartSpec], *, processes: int) -> list[Chart]:
    """The charts drawn by fresh ("spawn") processes: a forked copy of a server or task
    worker could inherit its locks. Falls back to this process if they cannot start."""
    context = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
            return list(pool.map(draw, specs))
    except BrokenProcessPool:
        logger.exception("the chart processes failed; drawing the charts in this process")
        return [draw(spec) for spec in specs]
