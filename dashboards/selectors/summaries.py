"""JSON summaries of agreement values: distributions, ICC with Bland-Altman, kappa.

The statistics themselves are measurements.core's (icc, bland_altman, cohen_kappa,
success_rates); this module only shapes them, and says "not enough data" (with what is
needed) wherever a value would be undefined: never NaN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from measurements.core.agreement import success_rates
from measurements.core.stats import ICCValue, bland_altman, cohen_kappa_counts, icc

HISTOGRAM_BINS = 10


def not_enough(n: int, needs: str) -> dict[str, Any]:
    return {"status": "not_enough_data", "n": n, "message": f"not enough data (n = {n}): {needs}"}


def _clean(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def distribution(values: Sequence[float | None], *, unit_range: bool = False) -> dict[str, Any]:
    """Mean ± SD, quartiles, range and a histogram of the finite values (over [0, 1] for Dice and
    IoU, over [0, max] otherwise)."""
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    if x.size == 0:
        return not_enough(0, "needs at least 1 pair where both reads have it")
    top = 1.0 if unit_range else max(float(x.max()), 1e-9)
    counts, edges = np.histogram(x, bins=HISTOGRAM_BINS, range=(0.0, top))
    q1, median, q3 = np.percentile(x, [25, 50, 75])
    return {
        "status": "ok",
        "n": int(x.size),
        "mean": float(x.mean()),
        "sd": float(x.std(ddof=1)) if x.size > 1 else None,
        "min": float(x.min()),
        "q1": float(q1),
        "median": float(median),
        "q3": float(q3),
        "max": float(x.max()),
        "histogram": {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]},
    }


def keypoint_summary(errors: Sequence[float]) -> dict[str, Any]:
    shares = success_rates(errors, (2.0, 4.0))
    return {
        "radial_error_mm": distribution(errors),
        "within_2mm": _clean(shares[2.0]),
        "within_4mm": _clean(shares[4.0]),
        "n_points": len(errors),
    }


def _icc_json(value: ICCValue) -> dict[str, Any] | None:
    if not math.isfinite(value.icc):
        return None
    return {
        "value": value.icc,
        "ci_low": _clean(value.ci_low),
        "ci_high": _clean(value.ci_high),
        "p_value": _clean(value.p_value),
        "f": _clean(value.f),
        "df1": value.df1,
        "df2": value.df2,
    }


# A Bland-Altman chart shows at most this many pairs, evenly spaced through them (bias and
# limits use every pair).
MAX_POINTS = 500


def _points(means: Sequence[float], differences: Sequence[float]) -> list[list[float]]:
    keep = range(len(means))
    if len(means) > MAX_POINTS:
        keep = range(0, len(means), math.ceil(len(means) / MAX_POINTS))
    return [[means[k], differences[k]] for k in keep]


NEEDS_PAIRS = "needs at least 2 cases where both reads have the value, and some spread"


def measurement_summary(pairs: npt.ArrayLike) -> dict[str, Any]:
    """ICC(2,1) and ICC(3,1) with CIs and Bland-Altman of (read, reference) value pairs
    (an n x 2 array or a list of pairs; None or NaN marks a missing value)."""
    x = np.asarray(pairs, dtype=np.float64).reshape(-1, 2)
    x = x[np.isfinite(x).all(axis=1)]
    n = len(x)
    if n < 2:
        return not_enough(n, NEEDS_PAIRS)
    agreement = icc(x)
    icc2, icc3 = _icc_json(agreement.icc2_1), _icc_json(agreement.icc3_1)
    if icc2 is None or icc3 is None:
        return not_enough(n, "every value is the same: ICC needs cases that differ")
    ba = bland_altman(x[:, 0], x[:, 1])
    return {
        "status": "ok",
        "n": n,
        "mean": float(x[:, 0].mean()),
        "sd": float(x[:, 0].std(ddof=1)),
        "reference_mean": float(x[:, 1].mean()),
        "reference_sd": float(x[:, 1].std(ddof=1)),
        "icc2_1": icc2,
        "icc3_1": icc3,
        "bland_altman": {
            "bias": ba.bias,
            "sd": ba.sd,
            "loa_low": ba.loa_low,
            "loa_high": ba.loa_high,
            "bias_ci": list(ba.bias_ci),
            "loa_low_ci": list(ba.loa_low_ci),
            "loa_high_ci": list(ba.loa_high_ci),
            "points": _points(ba.means, ba.differences),
            "n_points": n,
        },
    }


def kappa_summary(pairs: Sequence[Sequence[object]]) -> dict[str, Any]:
    counts: dict[tuple[object, object], int] = {}
    for a, b in pairs:
        counts[(a, b)] = counts.get((a, b), 0) + 1
    return kappa_counts_summary(counts)


def kappa_counts_summary(counts: Mapping[tuple[object, object], int]) -> dict[str, Any]:
    """Cohen's kappa of counted (read, reference) rating pairs (a pair with None dropped)."""
    complete = sum(k for (a, b), k in counts.items() if a is not None and b is not None)
    try:
        result = cohen_kappa_counts(counts)
    except ValueError as exc:
        return not_enough(complete, str(exc))
    return {
        "status": "ok",
        "n": result.n,
        "kappa": result.kappa,
        "observed": result.observed,
        "expected": result.expected,
    }
