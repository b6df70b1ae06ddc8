"""The report's charts: Okabe–Ito colours, one SVG per chart with its id, a real PNG, and
the same charts whether drawn here or by the drawing processes."""

from __future__ import annotations

from reports.charts import (
    OKABE_ITO,
    BlandAltmanPoints,
    ChartSpec,
    draw,
    draw_in_processes,
)
from reports.references import HEALTHY_ADULTS

POINTS = BlandAltmanPoints(
    n=4,
    means=(0.1, 0.2, 0.3, 0.4),
    differences=(0.01, -0.02, 0.03, 0.0),
    bias=0.005,
    loa_low=-0.04,
    loa_high=0.05,
)


def _specs() -> list[ChartSpec]:
    ba = ChartSpec(
        "bland_altman",
        {
            "result": POINTS,
            "key": "ba",
            "title": "Model vs gold: MSCC",
            "group": "model",
            "unit": "",
        },
    )
    level = ChartSpec(
        "level",
        {
            "key": "lvl",
            "title": "Cord area",
            "levels": ("C2/3", "C3/4"),
            "means": [60.0, 120.0],
            "sds": [5.0, None],
            "reference": HEALTHY_ADULTS.ranges["cord_area"],
        },
    )
    return [ba, level]


def test_a_chart_is_an_inline_svg_with_its_id_and_a_png() -> None:
    chart = draw(_specs()[0])
    assert chart.svg.startswith('<svg role="img" aria-label="Model vs gold: MSCC" data-chart="ba"')
    assert OKABE_ITO["bluish_green"].lower() in chart.svg.lower()  # the model's colour
    assert chart.png.startswith(b"\x89PNG\r\n\x1a\n")


def test_a_level_outside_the_healthy_range_is_drawn_in_vermillion() -> None:
    chart = draw(_specs()[1])
    assert OKABE_ITO["vermillion"].lower() in chart.svg.lower()  # 120 mm² > 110.32


def test_the_drawing_processes_draw_the_same_charts() -> None:
    here = [draw(spec) for spec in _specs()]
    there = draw_in_processes(_specs(), processes=2)
    assert [c.svg for c in there] == [c.svg for c in here]
    assert [c.png for c in there] == [c.png for c in here]
