"""ICC(2,1), ICC(3,1) and Bland-Altman equal pingouin's to 1e-6, with missing values and ties."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.patches import Rectangle

from measurements.core import bland_altman, icc

# pingouin 0.7 calls pandas APIs that pandas 3 deprecates; not ours to fix.
pytestmark = [
    pytest.mark.filterwarnings("ignore:The inplace keyword"),
    # Degenerate generated data (3 cases, 2 raters) makes pingouin divide by zero as we do.
    pytest.mark.filterwarnings("ignore::RuntimeWarning:pingouin"),
]


@pytest.fixture(autouse=True)
def _unrounded_pingouin() -> Iterator[None]:
    # pingouin rounds its CI95 column to 2 decimals by default.
    saved = dict(pg.options)
    pg.options["round"] = None
    pg.options["round.column.CI95"] = None
    yield
    pg.options.clear()
    pg.options.update(saved)


def _pingouin_icc(x: np.ndarray) -> dict[str, pd.Series]:
    n, k = x.shape
    long = pd.DataFrame(
        [(i, j, x[i, j]) for i in range(n) for j in range(k)], columns=["case", "rater", "value"]
    )
    table = pg.intraclass_corr(
        data=long, targets="case", raters="rater", ratings="value", nan_policy="omit"
    ).set_index("Type")
    p_column = "p_val" if "p_val" in table.columns else "pval"
    table = table.rename(columns={p_column: "p"})
    return {"2": table.loc["ICC(A,1)"], "3": table.loc["ICC(C,1)"]}


def _assert_icc_equal(x: np.ndarray) -> None:
    ours = icc(x)
    ref = _pingouin_icc(x)
    for form, value in (("2", ours.icc2_1), ("3", ours.icc3_1)):
        row = ref[form]
        assert value.icc == pytest.approx(row["ICC"], abs=1e-6, nan_ok=True)
        assert value.f == pytest.approx(row["F"], abs=1e-6, rel=1e-9, nan_ok=True)
        assert (value.df1, value.df2) == (row["df1"], row["df2"])
        assert value.p_value == pytest.approx(row["p"], abs=1e-6, nan_ok=True)
        assert value.ci_low == pytest.approx(row["CI95"][0], abs=1e-6, nan_ok=True)
        assert value.ci_high == pytest.approx(row["CI95"][1], abs=1e-6, nan_ok=True)


def _readers(
    rng: np.random.Generator,
    n: int = 40,
    k: int = 3,
    bias: tuple[float, ...] = (0.0, 0.02, -0.03),
    noise: float = 0.04,
) -> np.ndarray:
    truth = rng.normal(0.2, 0.08, (n, 1))
    return np.asarray(truth + np.array(bias[:k]) + rng.normal(0, noise, (n, k)), dtype=float)


def test_icc_equals_pingouin_on_complete_data():
    rng = np.random.default_rng(0)
    for k in (2, 3, 5):
        _assert_icc_equal(_readers(rng, k=k, bias=(0.0, 0.02, -0.03, 0.01, 0.05)))


def test_icc_drops_cases_with_a_missing_rating_like_pingouin():
    x = _readers(np.random.default_rng(1))
    x[[3, 10, 11], [0, 2, 1]] = np.nan
    _assert_icc_equal(x)
    assert icc(x).n_dropped == 3
    assert icc(x).n_cases == 37


def test_icc_equals_pingouin_with_ties():
    rng = np.random.default_rng(2)
    # Integer scores from a small range: many tied ratings within and across cases.
    x = np.clip(np.round(_readers(rng, n=30) * 20), 0, 8)
    x[5] = x[6] = 4.0
    _assert_icc_equal(x)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(4, 60),
    k=st.integers(2, 5),
    missing=st.floats(0.0, 0.2),
    decimals=st.integers(0, 3),
)
def test_icc_equals_pingouin_on_generated_data(seed, n, k, missing, decimals):
    rng = np.random.default_rng(seed)
    x = np.round(_readers(rng, n=n, k=k, bias=tuple(rng.normal(0, 0.03, k))) * 10, decimals)
    x[rng.random(x.shape) < missing] = np.nan
    if np.isfinite(x).all(axis=1).sum() < 3 or np.nanstd(x) == 0:
        return
    complete = x[np.isfinite(x).all(axis=1)]
    resid = complete - complete.mean(1, keepdims=True) - complete.mean(0) + complete.mean()
    if np.allclose(resid, 0):
        return  # MSE = 0: both give inf/NaN, nothing to compare
    _assert_icc_equal(x)


def test_icc_needs_two_complete_cases_and_two_raters():
    with pytest.raises(ValueError, match="at least 2 complete cases"):
        icc([[1.0, np.nan], [2.0, 3.0]])
    with pytest.raises(ValueError, match="2-D"):
        icc([1.0, 2.0])


def _pingouin_bland_altman(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    fig, ax = plt.subplots()
    try:
        pg.plot_blandaltman(a, b, ax=ax)
        lines = [float(np.asarray(line.get_ydata(), dtype=float)[0]) for line in ax.lines]
        rects = [p for p in ax.patches if isinstance(p, Rectangle)]
        spans = [(r.get_y(), r.get_y() + r.get_height()) for r in rects]
    finally:
        plt.close(fig)
    # Lines: zero, bias, upper limit, lower limit; spans: bias, upper, lower CIs.
    return {
        "bias": lines[1],
        "high": lines[2],
        "low": lines[3],
        "bias_ci": spans[0],
        "high_ci": spans[1],
        "low_ci": spans[2],
    }


def _assert_ba_equal(a: np.ndarray, b: np.ndarray) -> None:
    ours = bland_altman(a, b)
    ok = np.isfinite(a) & np.isfinite(b)
    ref = _pingouin_bland_altman(np.asarray(a)[ok], np.asarray(b)[ok])
    assert ours.bias == pytest.approx(ref["bias"], abs=1e-6)
    assert ours.loa_high == pytest.approx(ref["high"], abs=1e-6)
    assert ours.loa_low == pytest.approx(ref["low"], abs=1e-6)
    for ours_ci, key in (
        (ours.bias_ci, "bias_ci"),
        (ours.loa_high_ci, "high_ci"),
        (ours.loa_low_ci, "low_ci"),
    ):
        assert ours_ci[0] == pytest.approx(ref[key][0], abs=1e-6)
        assert ours_ci[1] == pytest.approx(ref[key][1], abs=1e-6)


def test_bland_altman_equals_pingouin():
    rng = np.random.default_rng(4)
    x = _readers(rng, n=61, k=2)
    _assert_ba_equal(x[:, 0], x[:, 1])
    r = bland_altman(x[:, 0], x[:, 1])
    assert r.sd == pytest.approx(np.std(x[:, 0] - x[:, 1], ddof=1))
    assert r.loa_high - r.loa_low == pytest.approx(2 * 1.96 * r.sd)
    assert len(r.means) == len(r.differences) == 61


def test_bland_altman_drops_incomplete_pairs_and_handles_ties():
    rng = np.random.default_rng(5)
    x = np.round(_readers(rng, n=50, k=2) * 10)
    x[[2, 7], [0, 1]] = np.nan
    _assert_ba_equal(x[:, 0], x[:, 1])
    assert bland_altman(x[:, 0], x[:, 1]).n_dropped == 2


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 200), decimals=st.integers(0, 3))
def test_bland_altman_equals_pingouin_on_generated_data(seed, n, decimals):
    rng = np.random.default_rng(seed)
    x = np.round(_readers(rng, n=n, k=2), decimals)
    if np.std(x[:, 0] - x[:, 1]) == 0:
        return
    _assert_ba_equal(x[:, 0], x[:, 1])


def test_bland_altman_needs_pairs():
    with pytest.raises(ValueError, match="paired"):
        bland_altman([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="at least 2"):
        bland_altman([1.0, np.nan], [1.0, 2.0])
