"""ICC(2,1) and ICC(3,1) with F test and 95% CI, Bland-Altman limits of agreement, and
Cohen's kappa for categorical ratings.

ICC follows Shrout & Fleiss (1979) / McGraw & Wong (1996) exactly as `pingouin.intraclass_corr`
computes them (two-way ANOVA mean squares; the CI of ICC(2,1) by McGraw & Wong's
approximate F): ICC(2,1) is pingouin's "ICC(A,1)" (absolute agreement), ICC(3,1) its
"ICC(C,1)" (consistency). Cases with any missing rating are dropped (listwise), as
pingouin does with nan_policy="omit".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats as sps


@dataclass(frozen=True)
class ICCValue:
    """One ICC form: value, its F test against 0 and its confidence interval."""

    icc: float
    f: float
    df1: int
    df2: int
    p_value: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class ICCResult:
    """ICC(2,1) and ICC(3,1) over the complete cases."""

    icc2_1: ICCValue  # two-way random, absolute agreement, single rater
    icc3_1: ICCValue  # two-way mixed, consistency, single rater
    n_cases: int  # cases used (complete)
    n_raters: int
    n_dropped: int  # cases dropped for a missing rating
    confidence: float


def icc(data: npt.ArrayLike, *, confidence: float = 0.95) -> ICCResult:
    """ICC(2,1) and ICC(3,1) of a cases x raters array; NaN marks a missing rating.

    Raises ValueError with fewer than 2 complete cases or 2 raters.
    """
    x = np.asarray(data, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"ICC needs a 2-D array (cases x raters), got shape {x.shape}")
    complete = np.isfinite(x).all(axis=1)
    x = x[complete]
    n, k = x.shape
    if n < 2 or k < 2:
        raise ValueError(f"ICC needs at least 2 complete cases and 2 raters, got {n} and {k}")
    alpha = 1.0 - confidence
    grand = x.mean()
    row_means = x.mean(axis=1)
    col_means = x.mean(axis=0)
    ss_rows = k * float(np.sum((row_means - grand) ** 2))
    ss_cols = n * float(np.sum((col_means - grand) ** 2))
    resid = x - row_means[:, None] - col_means[None, :] + grand
    ss_err = float(np.sum(resid**2))
    df1, dfj, dfe = n - 1, k - 1, (n - 1) * (k - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        msb = np.float64(ss_rows / df1)
        msj = np.float64(ss_cols / dfj)
        mse = np.float64(ss_err) / np.float64(dfe)
        icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
        icc3 = (msb - mse) / (msb + (k - 1) * mse)
        f_stat = msb / mse
        p = float(sps.f.sf(f_stat, df1, dfe))
        # ICC(3,1): exact F-based interval (Shrout & Fleiss).
        f_low = f_stat / sps.f.ppf(1 - alpha / 2, df1, dfe)
        f_up = f_stat * sps.f.ppf(1 - alpha / 2, dfe, df1)
        l3 = (f_low - 1) / (f_low + (k - 1))
        u3 = (f_up - 1) / (f_up + (k - 1))
        # ICC(2,1): McGraw & Wong's approximate degrees of freedom v.
        fj = msj / mse
        vn = dfe * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        vd = df1 * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        v = vn / vd
        f2u = sps.f.ppf(1 - alpha / 2, n - 1, v)
        f2l = sps.f.ppf(1 - alpha / 2, v, n - 1)
        l2 = n * (msb - f2u * mse) / (f2u * (k * msj + (k * n - k - n) * mse) + n * msb)
        u2 = n * (f2l * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f2l * msb)
    return ICCResult(
        icc2_1=ICCValue(float(icc2), float(f_stat), df1, dfe, p, float(l2), float(u2)),
        icc3_1=ICCValue(float(icc3), float(f_stat), df1, dfe, p, float(l3), float(u3)),
        n_cases=n,
        n_raters=k,
        n_dropped=int(np.sum(~complete)),
        confidence=confidence,
    )


@dataclass(frozen=True)
class BlandAltmanResult:
    """Bias, SD of the differences, limits of agreement and their confidence intervals."""

    n: int  # pairs used (both values present)
    n_dropped: int
    bias: float  # mean of a - b
    sd: float  # sample SD (ddof = 1) of a - b
    loa_low: float  # bias - agreement·sd
    loa_high: float
    bias_ci: tuple[float, float]
    loa_low_ci: tuple[float, float]
    loa_high_ci: tuple[float, float]
    agreement: float
    confidence: float
    means: tuple[float, ...]  # (a + b) / 2 per pair, the plot's x
    differences: tuple[float, ...]  # a - b per pair, the plot's y


def bland_altman(
    a: npt.ArrayLike, b: npt.ArrayLike, *, agreement: float = 1.96, confidence: float = 0.95
) -> BlandAltmanResult:
    """Bland-Altman analysis of paired measurements; pairs with a NaN are dropped.

    CIs use Student's t with n - 1 degrees of freedom; the standard error of the bias is
    s/√n and that of each limit √(3s²/n) (Bland & Altman 1986, Lancet i:307-310; the same
    as `pingouin.plot_blandaltman`). Raises ValueError with fewer than 2 complete pairs.
    """
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"Bland-Altman needs paired values, got {x.size} and {y.size}")
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = x.size
    if n < 2:
        raise ValueError(f"Bland-Altman needs at least 2 complete pairs, got {n}")
    diff = x - y
    bias = float(np.mean(diff))
    sd = float(np.std(diff, ddof=1))
    low, high = bias - agreement * sd, bias + agreement * sd
    t = float(sps.t.ppf(0.5 + confidence / 2.0, n - 1))
    se_bias = math.sqrt(sd**2 / n)
    se_loa = math.sqrt(3.0 * sd**2 / n)
    return BlandAltmanResult(
        n=n,
        n_dropped=int(np.sum(~ok)),
        bias=bias,
        sd=sd,
        loa_low=low,
        loa_high=high,
        bias_ci=(bias - t * se_bias, bias + t * se_bias),
        loa_low_ci=(low - t * se_loa, low + t * se_loa),
        loa_high_ci=(high - t * se_loa, high + t * se_loa),
        agreement=agreement,
        confidence=confidence,
        means=tuple(((x + y) / 2.0).tolist()),
        differences=tuple(diff.tolist()),
    )


@dataclass(frozen=True)
class KappaResult:
    """Cohen's kappa of two raters' categorical ratings of the same cases."""

    kappa: float
    n: int  # pairs used (both ratings present)
    n_dropped: int
    observed: float  # share of pairs that agree
    expected: float  # agreement expected by chance from the raters' marginals
    categories: tuple[str, ...]


def cohen_kappa(a: Sequence[object], b: Sequence[object]) -> KappaResult:
    """Cohen's (1960) unweighted kappa, (p_o - p_e) / (1 - p_e), as
    `sklearn.metrics.cohen_kappa_score`; pairs with a None rating are dropped and categories
    compared as strings. Raises ValueError with fewer than 2 complete pairs, or when chance
    agreement is 1 (both raters always gave one and the same category: kappa is undefined).
    """
    if len(a) != len(b):
        raise ValueError(f"kappa needs paired ratings, got {len(a)} and {len(b)}")
    counts: dict[tuple[object, object], int] = {}
    for x, y in zip(a, b, strict=True):
        pair = (None if x is None else str(x), None if y is None else str(y))
        counts[pair] = counts.get(pair, 0) + 1
    return cohen_kappa_counts(counts)


def cohen_kappa_counts(counts: Mapping[tuple[object, object], int]) -> KappaResult:
    """`cohen_kappa` of the pairs counted: {(a's rating, b's rating): how many cases}, as a
    database counts them (a GROUP BY); the same rules (None dropped, strings compared)."""
    complete: dict[tuple[str, str], int] = {}
    dropped = 0
    for (x, y), k in counts.items():
        if x is None or y is None:
            dropped += k
            continue
        key = (str(x), str(y))
        complete[key] = complete.get(key, 0) + k
    n = sum(complete.values())
    if n < 2:
        raise ValueError(f"kappa needs at least 2 complete pairs, got {n}")
    categories = tuple(sorted({c for pair in complete for c in pair}))
    index = {c: i for i, c in enumerate(categories)}
    table = np.zeros((len(categories), len(categories)), dtype=np.float64)
    for (x, y), k in complete.items():
        table[index[x], index[y]] += float(k)
    table /= n
    observed = float(np.trace(table))
    expected = float(np.sum(table.sum(axis=1) * table.sum(axis=0)))
    if expected >= 1.0 - 1e-12:
        raise ValueError("kappa is undefined when both raters used one and the same category")
    return KappaResult(
        kappa=(observed - expected) / (1.0 - expected),
        n=n,
        n_dropped=dropped,
        observed=observed,
        expected=expected,
        categories=categories,
    )
