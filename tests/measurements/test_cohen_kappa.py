"""Cohen's kappa (measurements.core.stats.cohen_kappa) equals scikit-learn's on the same
ratings; missing ratings are dropped; undefined cases raise with the reason."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score  # type: ignore[import-untyped]

from measurements.core.stats import cohen_kappa, cohen_kappa_counts


def test_it_equals_sklearn_on_random_ratings() -> None:
    rng = np.random.default_rng(12)
    for _ in range(20):
        a = rng.choice(["good", "acceptable", "poor"], size=40).tolist()
        b = [x if rng.random() < 0.6 else str(rng.choice(["good", "poor"])) for x in a]
        assert cohen_kappa(a, b).kappa == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)


def test_it_drops_pairs_with_a_missing_rating_and_compares_booleans_as_categories() -> None:
    a: list[object] = [True, False, None, True, True, False]
    b: list[object] = [True, True, False, True, None, False]
    result = cohen_kappa(a, b)
    assert (result.n, result.n_dropped) == (4, 2)
    expected = cohen_kappa_score(["T", "F", "T", "F"], ["T", "T", "T", "F"])
    assert result.kappa == pytest.approx(expected)


def test_it_refuses_one_pair_and_a_single_shared_category() -> None:
    with pytest.raises(ValueError, match="at least 2 complete pairs, got 1"):
        cohen_kappa(["a", None], ["a", "b"])
    with pytest.raises(ValueError, match="one and the same category"):
        cohen_kappa(["a", "a", "a"], ["a", "a", "a"])


def test_counted_pairs_give_the_same_kappa_as_the_pairs() -> None:
    rng = np.random.default_rng(4)
    a: list[str | None] = [str(v) for v in rng.choice(["good", "poor", "acceptable"], size=200)]
    b = [v if rng.random() < 0.7 else "poor" for v in a]
    a[3] = None
    counts: dict[tuple[object, object], int] = {}
    for pair in zip(a, b, strict=True):
        counts[pair] = counts.get(pair, 0) + 1
    assert cohen_kappa_counts(counts) == cohen_kappa(a, b)
    assert cohen_kappa_counts(counts).n_dropped == 1
