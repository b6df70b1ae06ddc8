"""Per-group figures of the agreement dashboard from the stored rows' plain columns: area
overlaps averaged and binned in SQL; keypoint and measurement columns read as numbers (no
JSON) for ICC, Bland-Altman (measurements.core) and the pooled keypoint shares; categorical
fields counted in SQL for Cohen's kappa. A group is (kind, model version or None).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    FloatField,
    Max,
    Min,
    Q,
    StdDev,
)

from dashboards.models import AgreementArea, AgreementField, AgreementRow
from dashboards.selectors.summaries import (
    distribution,
    kappa_counts_summary,
    measurement_summary,
    not_enough,
)
from dashboards.services.pairs import MEASUREMENTS

Group = tuple[str, int | None]
AREA_METRICS = ("dice", "iou", "hd95_mm")
BINS = 10
HD95_BIN_MM = 1.0
NEEDS_AREA = "needs at least 1 pair where both reads have it"


class _Percentile(Aggregate):
    """PostgreSQL's percentile_cont (linear interpolation, as numpy's default percentile)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: str, fraction: float) -> None:
        super().__init__(expression, fraction=fraction)


QUARTILES = (("q1", 0.25), ("median", 0.5), ("q3", 0.75))


def _quartiles_in_python(areas: Any, keys: tuple[str, ...], out: dict[Any, Any]) -> None:
    """Where the database has no percentile_cont (SQLite, the embedded demo): the values."""
    values: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for row in areas.values_list(*keys, *AREA_METRICS).order_by():
        values[row[:3]].append(row[3:])
    for (kind, version, structure), rows in values.items():
        for i, m in enumerate(AREA_METRICS):
            x = np.asarray([r[i] for r in rows if r[i] is not None], dtype=np.float64)
            stat = out[(kind, version)][structure][m]
            if x.size and stat["status"] == "ok":
                for name, q in QUARTILES:
                    stat[name] = float(np.percentile(x, 100 * q))


def _edges(metric: str) -> list[float]:
    top = BINS * HD95_BIN_MM if metric == "hd95_mm" else 1.0
    return [top * k / BINS for k in range(BINS + 1)]


def _bin_counts(metric: str) -> dict[str, Any]:
    """One conditional count per histogram bin (the last bin open above), so that the
    histogram comes with the summary in the same scan."""
    edges = _edges(metric)
    out: dict[str, Any] = {}
    for k in range(BINS):
        within = Q(**{f"{metric}__gte": edges[k]})
        if k < BINS - 1:
            within &= Q(**{f"{metric}__lt": edges[k + 1]})
        out[f"bin{k}_{metric}"] = Count("id", filter=within)
    return out


def area_stats(rows: Q) -> dict[Group, dict[str, dict[str, Any]]]:
    """{group: {structure: {metric: Stat}}} in one query. Dice and IoU are binned over
    [0, 1] by tenths, HD95 by 1 mm with the last bin open (from 9 mm)."""
    areas = AgreementArea.objects.filter(rows)
    keys = ("kind", "model_version_id", "structure")
    aggregates: dict[str, Any] = {}
    for m in AREA_METRICS:
        aggregates |= _bin_counts(m)
        aggregates |= {
            f"n_{m}": Count(m), f"mean_{m}": Avg(m), f"sd_{m}": StdDev(m, sample=True),
            f"min_{m}": Min(m), f"max_{m}": Max(m),
        }  # fmt: skip
    sql_quartiles = connection.vendor == "postgresql"
    if sql_quartiles:
        for m in AREA_METRICS:
            aggregates |= {f"{name}_{m}": _Percentile(m, q) for name, q in QUARTILES}
    out: dict[Group, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in areas.values(*keys).annotate(**aggregates).order_by():
        group = (row["kind"], row["model_version_id"])
        out[group][row["structure"]] = {m: _sql_stat(row, m) for m in AREA_METRICS}
    if not sql_quartiles:
        _quartiles_in_python(areas, keys, out)
    return out


def _sql_stat(row: Mapping[str, Any], m: str) -> dict[str, Any]:
    n = row[f"n_{m}"]
    if not n:
        return not_enough(0, NEEDS_AREA)
    edges = _edges(m)
    if m == "hd95_mm":
        edges[-1] = max(edges[-1], float(row[f"max_{m}"]))
    sd = row[f"sd_{m}"]
    return {
        "status": "ok",
        "n": n,
        "mean": float(row[f"mean_{m}"]),
        "sd": float(sd) if n > 1 and sd is not None and math.isfinite(sd) else None,
        "min": float(row[f"min_{m}"]),
        "max": float(row[f"max_{m}"]),
        **{name: _float(row.get(f"{name}_{m}")) for name, _ in QUARTILES},
        "histogram": {"edges": edges, "counts": [row[f"bin{k}_{m}"] for k in range(BINS)]},
    }


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


NUMBERS = (
    "kind", "model_version_id", "case_id", "keypoints", "keypoint_error_sum_mm",
    "keypoint_mean_mm", "keypoints_within_2mm", "keypoints_within_4mm",
    *(c for m in MEASUREMENTS for c in (m, f"{m}_reference")),
)  # fmt: skip


def number_stats(rows: Q) -> dict[Group, dict[str, Any]]:
    """{group: {"n_cases", "n_pairs", "keypoints", "measurements"}} from one query."""
    grouped: dict[Group, list[tuple[Any, ...]]] = defaultdict(list)
    for row in AgreementRow.objects.filter(rows).values_list(*NUMBERS).order_by():
        grouped[(row[0], row[1])].append(row[2:])
    out: dict[Group, dict[str, Any]] = {}
    for group, values in grouped.items():
        x = np.asarray([v[1:] for v in values], dtype=np.float64)  # None -> nan
        points = float(x[:, 0].sum())
        out[group] = {
            "n_cases": len({v[0] for v in values}),
            "n_pairs": len(values),
            "keypoints": {
                "radial_error_mm": distribution(list(x[:, 2])),
                "mean_radial_error_mm": float(x[:, 1].sum() / points) if points else None,
                "within_2mm": float(x[:, 3].sum() / points) if points else None,
                "within_4mm": float(x[:, 4].sum() / points) if points else None,
                "n_points": int(points),
            },
            "measurements": {
                m: measurement_summary(x[:, 5 + 2 * i : 7 + 2 * i])
                for i, m in enumerate(MEASUREMENTS)
            },
        }
    return out


def empty_numbers() -> dict[str, Any]:
    return {
        "n_cases": 0,
        "n_pairs": 0,
        "keypoints": {
            "radial_error_mm": distribution([]),
            "mean_radial_error_mm": None,
            "within_2mm": None,
            "within_4mm": None,
            "n_points": 0,
        },
        "measurements": {m: measurement_summary([]) for m in MEASUREMENTS},
    }


def kappa_stats(rows: Q, fields: list[str]) -> dict[Group, dict[str, Any]]:
    """{group: {field: kappa summary}}: the pairs counted in SQL, the counts handed to
    measurements.core's cohen_kappa_counts."""
    counts: dict[Group, dict[str, dict[tuple[object, object], int]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for kind, version, field, value, reference, n in (
        AgreementField.objects.filter(rows)
        .values_list("kind", "model_version_id", "field", "value", "reference")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[(kind, version)][field][(value, reference)] = n
    return {
        group: {f: kappa_counts_summary(by_field.get(f, {})) for f in fields}
        for group, by_field in counts.items()
    }
