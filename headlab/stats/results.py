"""Result objects of :mod:`headlab.stats`: named fields like ``scipy.stats`` results, and a
``test`` string on every object that says which test produced its numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

__all__ = ["TestResult", "ConfidenceInterval", "FisherResult"]


@dataclass(frozen=True)
class TestResult:
    """Result of a test run on every column of ``x [N, *shape]``.

    All array fields have the column shape ``shape`` (``[K]`` for ``x [N, K]``).

    Attributes:
        statistic: the test statistic (t for ``"t"``; ``R+`` -- or ``min(R+, R-)`` when
            two-sided, as scipy reports it -- for ``"wilcoxon"``; ``mean - null`` for
            ``"signflip"``).
        p_value: p-value of the test against ``null`` in the direction ``alternative``;
            NaN where the test is undefined for that column (see :func:`one_sample`).
        n: number of non-NaN samples used per column (int).
        mean: mean over those samples.
        sd: standard deviation with the ``ddof`` given to the test (NaN when n <= ddof).
        effect_size: Cohen's d, ``(mean - null) / sd`` (NaN when sd is 0 or undefined).
        test: human-readable name of the test, e.g.
            ``"one-sample t (one-sided, greater, ddof=1)"``.
        alternative: ``"greater"``, ``"less"`` or ``"two-sided"``.
        null: the null value tested against (H0: E[x] <= null for ``"greater"``).
    """

    __test__ = False  # not a pytest test class, despite the name

    statistic: np.ndarray
    p_value: np.ndarray
    n: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    effect_size: np.ndarray
    test: str
    alternative: str
    null: float

    @property
    def pvalue(self) -> np.ndarray:
        """Alias of ``p_value`` (scipy spelling)."""
        return self.p_value


class ConfidenceInterval(NamedTuple):
    """Lower and upper confidence limits, each of the column shape; unpacks as ``(low, high)``."""

    low: np.ndarray
    high: np.ndarray


@dataclass(frozen=True)
class FisherResult:
    """Fisher's exact test of the co-location of two boolean masks over the same heads.

    Attributes:
        odds_ratio: sample (unconditional) odds ratio ``(both * neither) / (a_only * b_only)``,
            as ``scipy.stats.fisher_exact`` reports it (inf or NaN for empty cells).
        p_greater: one-sided p-value for "more overlap than chance" (the co-location claim).
        p_two_sided: two-sided p-value.
        table: the 2 x 2 table ``[[both, a_only], [b_only, neither]]``.
        expected: overlap expected by chance given the margins, ``n_a * n_b / n_total``.
        test: name of the test.
    """

    odds_ratio: float
    p_greater: float
    p_two_sided: float
    table: np.ndarray
    expected: float
    test: str = "Fisher exact 2x2 (hypergeometric)"
