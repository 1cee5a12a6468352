"""Wilcoxon signed-rank test on every column, delegated to ``scipy.stats.wilcoxon``.

Wilcoxon (1945); zeros dropped ("Wilcoxon's method"), exact null distribution for columns of
at most 50 non-zero differences without ties, otherwise the normal approximation with the tie
correction and no continuity correction (docs/methods.md, 'Tests across samples').

scipy is vectorised over columns but not over per-column NaN patterns, so columns are grouped
by their number of valid samples and by whether the rule above calls for the exact
distribution, and each group is one ``scipy.stats.wilcoxon(..., axis=-1)`` call with the
method passed explicitly.  Where ``method="auto"`` would switch to a permutation test (n <= 13
with ties or zeros), this uses the normal approximation, as before the delegation.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as _sps

from headlab.stats._columns import as_columns, pack

#: column sizes above which the exact signed-rank distribution is not used (scipy's rule)
EXACT_MAX_N = 50


def _has_ties(d2: np.ndarray, nonzero: np.ndarray) -> np.ndarray:
    """Per column of ``d2 [N, K]``: do two non-zero differences share an absolute value?"""
    s = np.sort(np.where(nonzero, np.abs(d2), np.nan), axis=0)  # NaN last; NaN != NaN
    return (s[1:] == s[:-1]).any(axis=0) if s.shape[0] > 1 else np.zeros(s.shape[1], bool)


def signed_rank(d: np.ndarray, alternative: str) -> tuple[np.ndarray, np.ndarray]:
    """Signed-rank statistic and p-value per column of the differences ``d float [N, *shape]``.

    Returns ``(statistic, p_value)``, each of shape ``shape``: ``R+`` (``min(R+, R-)`` when
    two-sided, as scipy reports it) and its p-value; both NaN for columns without a non-zero
    difference.
    """
    shape = d.shape[1:]
    x2, valid, n = as_columns(d)
    nonzero = valid & (x2 != 0)
    count = nonzero.sum(axis=0)
    exact = ((count >= 1) & (count <= EXACT_MAX_N) & ~_has_ties(x2, nonzero)
             & ~(x2 == 0).any(axis=0))
    stat = np.full(x2.shape[1], np.nan)
    p = np.full(x2.shape[1], np.nan)
    testable = count >= 1
    for m in np.unique(n[testable]):  # a loop over distinct sample sizes, not over columns
        for is_exact in (True, False):
            cols = np.flatnonzero(testable & (n == m) & (exact == is_exact))
            if cols.size == 0:
                continue
            res = _sps.wilcoxon(pack(x2, valid, cols, int(m)), zero_method="wilcox", correction=False,
                                alternative=alternative, method="exact" if is_exact else "asymptotic",
                                axis=-1)
            stat[cols] = res.statistic
            p[cols] = res.pvalue
    return stat.reshape(shape), p.reshape(shape)
