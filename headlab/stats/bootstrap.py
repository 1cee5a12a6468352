"""Bootstrap confidence intervals of the mean of every column, resampling samples.

Percentile and BCa intervals (Efron 1987, "Better bootstrap confidence intervals"; the BCa
acceleration from the jackknife, as ``scipy.stats.bootstrap(method="BCa")`` computes it;
docs/methods.md, 'Bootstrap confidence intervals').  scipy's bootstrap resamples one array
with one n; here each column keeps only its own non-NaN samples, so columns are grouped by
their n and a group shares one set of resamples (one matrix product for all its columns).
How the resamples are drawn in bounded blocks and summed exactly: ``_resample``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import special

from headlab.errors import InputError
from headlab.stats import _checks
from headlab.stats._checks import CI_METHODS
from headlab.stats._columns import as_columns, pack
from headlab.stats._resample import ExactSums, resampled_means
from headlab.stats.results import ConfidenceInterval

__all__ = ["bootstrap_ci", "bootstrap_ci_many"]


def bootstrap_ci(
    x,
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    method: str = "percentile",
) -> ConfidenceInterval:
    """Bootstrap confidence interval of the mean of every column of ``x``, resampling samples
    (Efron & Tibshirani 1993; BCa: Efron 1987; docs/methods.md, 'Bootstrap confidence intervals').

    Args:
        x: float ``[N, K]`` (or ``[N, *shape]``); NaN = sample not used by that column.
        level: confidence level, a number in (0, 1), e.g. 0.95.
        n_boot: number of bootstrap resamples, an integer from 2 to 1,000,000.
        seed: seed of the resampling generator, an integer >= 0 (same seed -> same interval).
        method: ``"percentile"`` or ``"bca"`` (bias-corrected and accelerated, Efron 1987;
            acceleration from the jackknife, as ``scipy.stats.bootstrap(method="BCa")``).

    Returns:
        :class:`ConfidenceInterval` ``(low, high)``, each of shape ``x.shape[1:]``.

    Raises:
        InputError: for an option of the wrong type or out of range, infinite values in ``x``.

    Each column is resampled among its own non-NaN samples (so a column with n valid
    samples gets exactly the bootstrap of those n values).  Columns are grouped by n; for each
    distinct n, in increasing order, one generator (seeded once per call) draws the
    ``[n_boot, n]`` resamples, in blocks of bounded size, and all columns of the group get
    their resampled means from one product with the block's counts matrix.  Columns with
    n < 2 get NaN; a constant column gets ``(mean, mean)``.  Quantiles interpolate linearly
    between order statistics (numpy's default).
    """
    return _bootstrap(_options(level, n_boot, seed, method), [_checks.samples(x)])[0]


def bootstrap_ci_many(
    arrays: Sequence,
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    method: str = "percentile",
) -> list[ConfidenceInterval]:
    """:func:`bootstrap_ci` of several arrays at once, sharing the resampling work.

    ``bootstrap_ci_many([x_1, ..., x_R], ...)[r]`` is bit for bit
    ``bootstrap_ci(x_r, ...)`` with the same options -- e.g. one call for the 25 roles of a
    report instead of 25 calls with the same seed.  Each call draws its resamples from a
    fresh generator for each distinct column size n in increasing order, so arrays whose
    sequences of distinct n start alike receive the same draws; those are drawn once and
    applied to the columns of all such arrays in one matrix product (docs/methods.md,
    'Bootstrap confidence intervals').

    Args:
        arrays: a list (or tuple) of float arrays ``[N_r, *shape_r]``; NaN = sample not used.
        level, n_boot, seed, method: as in :func:`bootstrap_ci`.

    Returns:
        one :class:`ConfidenceInterval` per array, each of shape ``shape_r``.
    """
    options = _options(level, n_boot, seed, method)
    if isinstance(arrays, (np.ndarray, str, bytes)) or not isinstance(arrays, Sequence):
        raise InputError("arrays must be a list of arrays shaped [N, ...]; "
                         f"got {type(arrays).__name__}. Pass e.g. bootstrap_ci_many([x_a, x_b]).")
    return _bootstrap(options, [_checks.samples(x, f"arrays[{i}]") for i, x in enumerate(arrays)])


def _options(level, n_boot, seed, method) -> tuple:
    return (_checks.level(level), _checks.n_boot(n_boot), _checks.seed(seed),
            _checks.choice("method", method, CI_METHODS))


def _bootstrap(options: tuple, arrays: list[np.ndarray]) -> list[ConfidenceInterval]:
    """Intervals for checked options and float64 arrays (see :func:`bootstrap_ci_many`)."""
    level, n_boot, seed, method = options
    columns = [as_columns(a) for a in arrays]  # (x2 [N, K], valid, n [K]) per array
    lows = [np.full(c[0].shape[1], np.nan) for c in columns]
    highs = [np.full(c[0].shape[1], np.nan) for c in columns]

    # A call for one array draws for its distinct n >= 2 in increasing order, so the draws
    # for size m depend on the sizes drawn before it: key each group by that prefix.
    groups: dict[tuple, list] = {}
    for r, (_, _, n) in enumerate(columns):
        sizes = np.unique(n[n >= 2]).tolist()
        for depth, m in enumerate(sizes):
            groups.setdefault(tuple(sizes[: depth + 1]), []).append((r, np.flatnonzero(n == m)))

    rng = np.random.default_rng(seed)
    state_after = {(): rng.bit_generator.state}
    for key in sorted(groups, key=len):  # a prefix before its extensions
        m = key[-1]
        members = groups[key]
        rng.bit_generator.state = state_after[key[:-1]]
        packed = [pack(columns[r][0], columns[r][1], cols, m) for r, cols in members]
        xt = packed[0] if len(packed) == 1 else np.concatenate(packed)  # [k, m]
        del packed
        const = np.ptp(xt, axis=1) == 0
        const_value = xt[const, 0]  # a constant column's interval is (value, value)
        acc = _acceleration(xt) if method == "bca" else None
        sums = ExactSums(xt, overwrite=True)  # xt is scratch from here on
        del xt
        boot = resampled_means(sums, n_boot, rng)  # [k, n_boot]
        state_after[key] = rng.bit_generator.state
        theta = sums.total() / m
        low, high = _interval(theta, boot, acc, level)
        low[const] = high[const] = const_value
        start = 0
        for r, cols in members:
            lows[r][cols] = low[start:start + len(cols)]
            highs[r][cols] = high[start:start + len(cols)]
            start += len(cols)
    return [ConfidenceInterval(lo.reshape(a.shape[1:]), hi.reshape(a.shape[1:]))
            for lo, hi, a in zip(lows, highs, arrays)]


def _interval(theta, boot, acc, level):
    """Limits from the estimates ``theta [k]`` and resampled means ``boot [k, B]``: percentile
    limits when ``acc`` is None, else BCa limits with acceleration ``acc [k]``."""
    alpha = (1 - level) / 2
    if acc is None:
        return _quantiles_at(boot, (alpha, 1 - alpha))
    # BCa (Efron 1987), as scipy computes it: z0 from the fraction of resampled means below
    # the estimate, ties counted half (exact sums make such ties exact, see _resample)
    b = boot.shape[1]
    frac = ((boot < theta[:, None]).sum(axis=1) + (boot <= theta[:, None]).sum(axis=1)) / (2.0 * b)
    z0 = special.ndtri(frac)
    with np.errstate(invalid="ignore", divide="ignore"):
        z_lo, z_hi = special.ndtri(alpha), special.ndtri(1 - alpha)
        lo_q = special.ndtr(z0 + (z0 + z_lo) / (1 - acc * (z0 + z_lo)))
        hi_q = special.ndtr(z0 + (z0 + z_hi) / (1 - acc * (z0 + z_hi)))
    s = np.sort(boot, axis=1)
    return _quantile_rows(s, lo_q), _quantile_rows(s, hi_q)


def _acceleration(xt):
    """BCa acceleration per column of ``xt [k, m]`` from the jackknife means
    ``(sum - x_i) / (m - 1)``: ``a = sum(d^3) / (6 * sum(d^2)^1.5)`` with d the deviations of
    the jackknife means from their mean (Efron 1987; as ``scipy.stats.bootstrap``).
    Reductions run along the contiguous last axis, so a column's value does not depend on the
    other columns."""
    m = xt.shape[1]
    dev = xt.sum(axis=1)[:, None] - xt
    dev /= m - 1                                   # the jackknife means
    np.subtract(dev.mean(axis=1)[:, None], dev, out=dev)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (dev**3).sum(axis=1) / (6.0 * ((dev**2).sum(axis=1)) ** 1.5)


def _positions(n_values: int, q):
    """Linear interpolation (numpy's default quantile): ``(lower index, upper index, weight)``."""
    h = (n_values - 1) * q
    lo_i = np.floor(h).astype(int)
    return lo_i, np.minimum(lo_i + 1, n_values - 1), h - lo_i


def _quantiles_at(boot, levels):
    """Quantiles of every row of ``boot [k, B]`` at the same ``levels``; a partial sort."""
    b = boot.shape[1]
    pos = [_positions(b, q) for q in levels]
    kth = sorted({int(i) for lo_i, hi_i, _ in pos for i in (lo_i, hi_i)})
    part = np.partition(boot, kth, axis=1)
    return [part[:, lo_i] + (part[:, hi_i] - part[:, lo_i]) * frac for lo_i, hi_i, frac in pos]


def _quantile_rows(s, q):
    """Quantile of every sorted row of ``s [k, B]`` at its own level ``q [k]``; NaN where q is NaN."""
    qq = np.where(np.isnan(q), 0.0, np.clip(q, 0.0, 1.0))
    lo_i, hi_i, frac = _positions(s.shape[1], qq)
    rows = np.arange(s.shape[0])
    v_lo, v_hi = s[rows, lo_i], s[rows, hi_i]
    return np.where(np.isnan(q), np.nan, v_lo + (v_hi - v_lo) * frac)
