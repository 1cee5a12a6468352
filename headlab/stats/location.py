"""Tests of location across samples: one-sample and paired t, Wilcoxon and sign-flip tests.

The sample (a sentence or a prompt) is the unit of analysis: every function takes per-sample
scores ``x [N, ...]`` and tests each column (a head) across its samples, all columns at once
(docs/methods.md, 'The unit of analysis: samples' and 'Tests across samples').  NaN marks a
sample a column does not use.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as _sps

from headlab.errors import InputError
from headlab.stats import _checks
from headlab.stats._checks import ALTERNATIVES, TESTS, ZERO_VARIANCE
from headlab.stats.results import TestResult
from headlab.stats.signflip import sign_flip
from headlab.stats.signrank import EXACT_MAX_N, signed_rank

__all__ = ["one_sample", "paired", "constant_sign_p"]


def one_sample(
    x,
    null: float = 0.0,
    test: str = "t",
    alternative: str = "greater",
    seed: int = 0,
    n_perm: int = 9999,
    ddof: int = 1,
    zero_variance: str = "nan",
) -> TestResult:
    """Test every column of ``x`` against ``null``, across samples.

    Args:
        x: per-sample scores, float ``[N, K]`` (or ``[N, *shape]``); NaN = sample not used
            for that column.
        null: the value under H0 (a finite number).  For ``alternative="greater"``,
            H0: E[x] <= null against H1: E[x] > null -- Pande et al.'s design with
            null = tau (docs/methods.md, 'Tests across samples').
        test: ``"t"`` -- one-sample t test, p from ``scipy.stats.t``; equals
            ``scipy.stats.ttest_1samp(x, null, alternative=...)`` for ddof = 1.
            ``"wilcoxon"`` -- Wilcoxon signed-rank test of ``x - null`` with zeros dropped,
            computed by ``scipy.stats.wilcoxon``: exact for n <= 50 when the column has no
            ties or zeros, normal approximation with tie correction and no continuity
            correction otherwise (where scipy's ``method="auto"`` would switch to a
            permutation test -- n <= 13 with ties or zeros -- this uses the normal
            approximation).
            ``"signflip"`` -- sign-flip permutation test of the mean of ``x - null``, which
            assumes symmetry about ``null`` under H0; one ``[n_perm, N]`` sign matrix (seeded)
            is shared by all columns; p = (1 + #{perm >= obs}) / (1 + n_perm).
        alternative: ``"greater"``, ``"less"`` or ``"two-sided"``.
        seed: seed of the sign-flip generator, an integer >= 0 (checked for every test, used
            only by ``"signflip"``).
        n_perm: number of random sign flips for ``"signflip"``, 1 to 1,000,000.
        ddof: delta degrees of freedom of ``sd`` (t statistic and effect size), an integer >= 0.
        zero_variance: what the t test does with a column of n >= 2 identical values, where
            the t statistic is undefined: ``"nan"`` (scipy's behaviour, below) or ``"sign"``,
            the exact sign test of :func:`constant_sign_p` -- e.g. a probe score that is the
            same on every probe, which would otherwise hide the clearest heads.  The test name
            then says so.

    Returns:
        :class:`TestResult`; array fields have shape ``x.shape[1:]``.

    Raises:
        InputError: for an option of the wrong type or out of range, infinite values in ``x``.

    Undefined cases give ``p_value = NaN`` (then the column drops out of the correction
    family in :func:`adjust`): for the t test, columns with n < 2 or zero variance
    (scipy would give +-inf or NaN there); for Wilcoxon, columns with no non-zero difference;
    for the sign-flip test, columns with n = 0.
    """
    test = _checks.choice("test", test, TESTS)
    alternative = _checks.choice("alternative", alternative, ALTERNATIVES)
    zero_variance = _checks.choice("zero_variance", zero_variance, ZERO_VARIANCE)
    null = _checks.null(null)
    seed = _checks.seed(seed)
    n_perm = _checks.n_perm(n_perm)
    ddof = _checks.ddof(ddof)
    arr = _checks.samples(x)
    return _one_sample(arr, null, test, alternative, seed, n_perm, ddof, zero_variance)


def _one_sample(arr, null, test, alternative, seed, n_perm, ddof, zero_variance) -> TestResult:
    """:func:`one_sample` on checked options and a float64 ``arr [N, *shape]``."""
    n, mean, sd = _moments(arr, ddof)
    with np.errstate(invalid="ignore", divide="ignore"):
        effect = np.where(sd > 0, (mean - null) / sd, np.nan)
    sided = _checks.sided_name(alternative)
    if test == "t":
        stat, p = _t_test(n, mean, sd, null, alternative)
        name = f"one-sample t ({sided}, ddof={ddof})"
        constant = (n >= 2) & (sd == 0)
        if zero_variance == "sign" and constant.any():
            p = np.where(constant, _sign_p(n, mean, null, alternative), p)
            name += "; exact sign test where all values are equal"
    elif test == "wilcoxon":
        stat, p = signed_rank(arr - null, alternative)
        name = f"Wilcoxon signed-rank ({sided}; exact n<={EXACT_MAX_N} without ties, else normal approx.)"
    else:
        stat, p = sign_flip(arr - null, alternative, seed, n_perm)
        name = f"sign-flip permutation of the mean ({sided}, n_perm={n_perm}, seed={seed})"
    return TestResult(statistic=stat, p_value=p, n=n, mean=mean, sd=sd, effect_size=effect,
                      test=name, alternative=alternative, null=null)


def paired(
    x_a,
    x_b,
    test: str = "t",
    alternative: str = "two-sided",
    seed: int = 0,
    n_perm: int = 9999,
    ddof: int = 1,
    zero_variance: str = "nan",
) -> TestResult:
    """Paired test of ``x_a`` against ``x_b`` on the same samples: a one-sample test of the
    differences ``x_a - x_b`` against 0 (scipy's convention: ``paired(a, b)`` with
    ``test="t"`` equals ``scipy.stats.ttest_rel(a, b)``; docs/methods.md, 'Comparing
    two reports').

    Args:
        x_a, x_b: float ``[N, *shape]`` with the same shape; row i of both is sample i.
            A NaN in either makes that sample's difference NaN.
        test, alternative, seed, n_perm, ddof, zero_variance: as in :func:`one_sample`
            (two-sided by default).

    Returns:
        :class:`TestResult` of the differences (``test`` starts with ``"paired "``);
        ``mean`` is the mean of ``x_a - x_b``.
    """
    a = _checks.samples(x_a, "x_a")
    b = _checks.samples(x_b, "x_b")
    if a.shape != b.shape:
        raise InputError(f"paired() needs two arrays of the same shape; got {a.shape} and {b.shape}. "
                         "Pass scores of the same samples and heads.")
    res = one_sample(a - b, 0.0, test=test, alternative=alternative, seed=seed, n_perm=n_perm,
                     ddof=ddof, zero_variance=zero_variance)
    return TestResult(**{**res.__dict__, "test": "paired " + res.test})


def constant_sign_p(n, value, null: float, alternative: str) -> np.ndarray:
    """Exact sign test for columns whose ``n`` samples all equal ``value``, where the t test is
    undefined (the binomial sign test with every sample on one side; docs/methods.md, 'Tests
    across samples').

    Every sample lies on the same side of ``null``, so the one-sided p-value is ``2^-n`` in
    the direction of the alternative and 1 against it; two-sided ``min(1, 2 * 2^-n)``; 1 when
    ``value == null``.  ``n`` and ``value`` broadcast; returns float of their broadcast shape.
    """
    alternative = _checks.choice("alternative", alternative, ALTERNATIVES)
    return _sign_p(n, value, _checks.null(null), alternative)


def _sign_p(n, value, null: float, alternative: str) -> np.ndarray:
    n = np.asarray(n, dtype=float)
    value = np.asarray(value, dtype=float)
    tail = 0.5**n
    if alternative == "greater":
        return np.where(value > null, tail, 1.0)
    if alternative == "less":
        return np.where(value < null, tail, 1.0)
    return np.where(value != null, np.minimum(1.0, 2 * tail), 1.0)


def _moments(x: np.ndarray, ddof: int):
    """Per-column n, mean and sd of ``x [N, ...]`` ignoring NaN, without warnings."""
    valid = ~np.isnan(x)
    n = valid.sum(axis=0)
    x0 = np.where(valid, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = x0.sum(axis=0) / n
        resid = np.where(valid, x - mean, 0.0)
        var = (resid**2).sum(axis=0) / (n - ddof)
    mean = np.where(n > 0, mean, np.nan)
    var = np.where(n > ddof, var, np.nan)
    # A column of identical values has sd 0 exactly: the mean of [0.1, 0.1, 0.1] is not exactly
    # 0.1 in floating point, and the tiny residuals would otherwise make t huge and p ~ 0.
    with np.errstate(invalid="ignore"):
        constant = np.where(valid, x, np.inf).min(axis=0) == np.where(valid, x, -np.inf).max(axis=0)
    var = np.where(constant & (n > ddof), 0.0, var)
    return n, mean, np.sqrt(var)


def _t_test(n, mean, sd, null, alternative):
    """One-sample t statistic ``(mean - null) / (sd / sqrt(n))`` on n - 1 degrees of freedom
    and its p-value from ``scipy.stats.t`` per column; NaN when n < 2 or sd == 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (mean - null) / (sd / np.sqrt(n))
    ok = (n >= 2) & (sd > 0)
    t = np.where(ok, t, np.nan)
    df = np.where(ok, n - 1, 1)
    if alternative == "greater":
        p = _sps.t.sf(t, df)
    elif alternative == "less":
        p = _sps.t.cdf(t, df)
    else:
        p = 2 * _sps.t.sf(np.abs(t), df)
    return t, np.where(ok, np.minimum(p, 1.0), np.nan)
