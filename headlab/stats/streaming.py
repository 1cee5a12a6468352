"""Mergeable sufficient statistics: tests and CIs from partial results, in any order.

When a corpus is scored on many workers and the per-sample scores ``[N, L, H]`` are too many
to gather in one place, each worker keeps a few numbers per column instead and the driver
merges them (docs/scale.md, 'Statistics that merge'):

* :class:`Moments` -- ``n``, the mean and ``M2 = sum((x - mean)^2)`` per column, merged with
  the pairwise update of Chan, Golub & LeVeque (1979, "Updating formulae and a pairwise
  algorithm for computing sample variances"; Chan et al. 1983).  The one-sample t test from
  merged moments equals :func:`headlab.stats.one_sample` with ``test="t"`` up to float
  rounding, whatever the split.
* :class:`PoissonBootstrap` -- the Poisson bootstrap (Hanley & MacGibbon 2006; Chamandy,
  Muralidharan, Najmi & Naidu 2012, "Estimating uncertainty for massive data streams"):
  replicate ``b`` gives sample ``i`` the weight ``w_ib ~ Poisson(1)`` instead of a
  multinomial count, so replicates factor over samples and are sums ``sum_i w_ib x_i`` and
  ``sum_i w_ib`` that add across shards.  Each sample's weights come from a counter-based
  generator keyed by the sample's id (SplitMix64, Steele, Lea & Flood 2014), so a sample gets
  the same weights on whichever worker, in whichever shard, and the merged CIs do not depend
  on how the corpus was split or in which order the parts are merged.

The Poisson bootstrap is a different resampling scheme from the multinomial bootstrap of
:func:`headlab.stats.bootstrap_ci` (replicate sizes vary around n): its intervals are not
equal to the default report's, only close to them for n of more than a few dozen (the
replicate size has relative sd ``1/sqrt(n)``); the tests check their coverage on simulated
data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from math import exp, factorial

import numpy as np

from headlab.errors import InputError
from headlab.stats import _checks
from headlab.stats._checks import ALTERNATIVES, ZERO_VARIANCE
from headlab.stats.location import _sign_p, _t_test
from headlab.stats.results import ConfidenceInterval, TestResult

__all__ = ["Moments", "PoissonBootstrap", "sample_keys", "poisson_weights"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
# Poisson(1) CDF up to k = 24: P(X > 24) < 1e-25, far below the 2**-53 resolution of the uniforms
_POISSON_CDF = np.cumsum([exp(-1.0) / factorial(k) for k in range(25)])
#: rows of one block of weights: bounds the [rows, n_boot] scratch matrices whatever the shard size
_BLOCK_ROWS = 256


def _as_columns(x) -> tuple[np.ndarray, tuple]:
    arr = _checks.samples(x)
    return arr.reshape(arr.shape[0], -1), arr.shape[1:]


@dataclass(frozen=True)
class Moments:
    """Per-column count, mean, sum of squared deviations, minimum and maximum.

    Build with :meth:`of` from per-sample scores ``x [N, *shape]`` (NaN = sample not used by
    that column) and combine with :meth:`merge` (or ``a + b``); all array fields are
    ``[K]`` with ``K = prod(shape)``.

    Attributes:
        n: non-NaN samples per column, int64 ``[K]``.
        mean: their mean, float64 ``[K]`` (NaN where n = 0).
        m2: the sum of squared deviations from the mean, float64 ``[K]``.
        low: the smallest value, float64 ``[K]``.
        high: the largest value, float64 ``[K]`` (with ``low``, it makes a constant column's
            variance exactly 0 after any merge).
        shape: the column shape.
    """

    n: np.ndarray
    mean: np.ndarray
    m2: np.ndarray
    low: np.ndarray
    high: np.ndarray
    shape: tuple = field(default=())

    @classmethod
    def of(cls, x) -> "Moments":
        """Moments of every column of ``x [N, *shape]`` (two passes over the block: mean, then
        squared deviations, as :func:`headlab.stats.one_sample` computes them)."""
        x2, shape = _as_columns(x)
        valid = ~np.isnan(x2)
        n = valid.sum(axis=0).astype(np.int64)
        x0 = np.where(valid, x2, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = x0.sum(axis=0) / n
        mean = np.where(n > 0, mean, np.nan)
        m2 = (np.where(valid, x2 - mean, 0.0) ** 2).sum(axis=0)
        low = np.where(n > 0, np.where(valid, x2, np.inf).min(axis=0, initial=np.inf), np.nan)
        high = np.where(n > 0, np.where(valid, x2, -np.inf).max(axis=0, initial=-np.inf), np.nan)
        return cls(n, mean, m2, low, high, tuple(shape))

    @classmethod
    def empty(cls, shape: tuple) -> "Moments":
        """No samples yet: the identity of :meth:`merge`."""
        k = int(np.prod(shape, dtype=np.int64))
        nan = np.full(k, np.nan)
        return cls(np.zeros(k, np.int64), nan, np.zeros(k), nan.copy(), nan.copy(), tuple(shape))

    def merge(self, other: "Moments") -> "Moments":
        """Moments of the union of two disjoint sets of samples (Chan et al. 1979):
        ``n = n_a + n_b``, ``mean = mean_a + d n_b / n``, ``M2 = M2_a + M2_b + d^2 n_a n_b / n``
        with ``d = mean_b - mean_a``; exact up to float rounding, in any order."""
        if not isinstance(other, Moments) or other.shape != self.shape:
            raise InputError(f"Can only merge Moments of the same column shape {self.shape}; "
                             f"got {getattr(other, 'shape', type(other).__name__)}. Pass the moments of one statistic, "
                             "computed on disjoint samples.")
        na, nb = self.n.astype(np.float64), other.n.astype(np.float64)
        n = na + nb
        a_only, b_only = nb == 0, na == 0
        with np.errstate(invalid="ignore", divide="ignore"):
            d = other.mean - self.mean
            mean = self.mean + d * (nb / n)
            m2 = self.m2 + other.m2 + d * d * (na * nb / n)
        mean = np.where(a_only, self.mean, np.where(b_only, other.mean, mean))
        m2 = np.where(a_only, self.m2, np.where(b_only, other.m2, m2))
        low = np.fmin(self.low, other.low)
        high = np.fmax(self.high, other.high)
        return Moments(self.n + other.n, mean, m2, low, high, self.shape)

    __add__ = merge

    def sd(self, ddof: int = 1) -> np.ndarray:
        """Standard deviation per column ``sqrt(M2 / (n - ddof))``; exactly 0 for a constant
        column, NaN when n <= ddof."""
        ddof = _checks.ddof(ddof)
        with np.errstate(invalid="ignore", divide="ignore"):
            var = np.where(self.high == self.low, 0.0, self.m2 / (self.n - ddof))
        return np.sqrt(np.where(self.n > ddof, var, np.nan))

    def t_test(self, null: float = 0.0, alternative: str = "greater", ddof: int = 1,
               zero_variance: str = "nan") -> TestResult:
        """One-sample t test of every column against ``null`` from the moments alone: the test
        of :func:`headlab.stats.one_sample` (``test="t"``), with the same statistic, p-value,
        effect size and undefined cases (n < 2 or zero variance -> NaN, or the exact sign test
        with ``zero_variance="sign"``).  Array fields have the column shape."""
        null = _checks.null(null)
        alternative = _checks.choice("alternative", alternative, ALTERNATIVES)
        zero_variance = _checks.choice("zero_variance", zero_variance, ZERO_VARIANCE)
        sd = self.sd(ddof)
        stat, p = _t_test(self.n, self.mean, sd, null, alternative)
        name = f"one-sample t ({_checks.sided_name(alternative)}, ddof={ddof}; from merged moments)"
        constant = (self.n >= 2) & (sd == 0)
        if zero_variance == "sign" and constant.any():
            p = np.where(constant, _sign_p(self.n, self.mean, null, alternative), p)
            name += "; exact sign test where all values are equal"
        with np.errstate(invalid="ignore", divide="ignore"):
            effect = np.where(sd > 0, (self.mean - null) / sd, np.nan)
        shape = self.shape
        return TestResult(statistic=stat.reshape(shape), p_value=p.reshape(shape), n=self.n.reshape(shape),
                          mean=self.mean.reshape(shape), sd=sd.reshape(shape), effect_size=effect.reshape(shape),
                          test=name, alternative=alternative, null=null)


def sample_keys(ids) -> np.ndarray:
    """64-bit keys ``uint64 [N]`` of sample ids: the first 8 bytes of the SHA-1 of each id's
    text (ints and strings alike), so the key depends on the id alone (docs/scale.md,
    'Statistics that merge'; the sample as the unit: docs/methods.md, 'The unit of analysis:
    samples')."""
    if isinstance(ids, (str, bytes)) or not hasattr(ids, "__len__"):
        raise InputError("ids must be a list of sample ids (strings or integers), one per sample.")
    return np.fromiter((int.from_bytes(hashlib.sha1(str(i).encode()).digest()[:8], "little") for i in ids),
                       dtype=np.uint64, count=len(ids))


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (Steele et al. 2014): a bijection of uint64 with full avalanche."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def poisson_weights(keys, n_boot: int, seed: int = 0) -> np.ndarray:
    """Poisson(1) replicate weights ``float64 [N, n_boot]`` of the samples with ``keys uint64 [N]``.

    Weight ``(i, b)`` is a function of ``(seed, key_i, b)`` only: the ``b``-th output of
    a SplitMix64 stream keyed by the seed and the sample's key, turned into a uniform with 53
    bits and into a Poisson(1) draw by inverting its CDF.  The same sample gets the same
    weights on every machine, in every shard (docs/scale.md, 'Statistics that merge': the
    Poisson bootstrap that stands in for the multinomial bootstrap of docs/methods.md,
    'Bootstrap confidence intervals')."""
    n_boot = _checks.n_boot(n_boot)
    seed = _checks.seed(seed)
    keys = np.asarray(keys, dtype=np.uint64).reshape(-1)
    stream = _mix(keys ^ _mix(np.array([seed], dtype=np.uint64) + _GOLDEN))        # [N]
    counter = (np.arange(1, n_boot + 1, dtype=np.uint64) * _GOLDEN)                  # [B]
    bits = _mix(stream[:, None] + counter[None, :])                                   # [N, B], wraps mod 2**64
    u = (bits >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return np.searchsorted(_POISSON_CDF, u, side="right").astype(np.float64)


@dataclass(frozen=True)
class PoissonBootstrap:
    """Per-replicate accumulators of the Poisson bootstrap of every column's mean.

    Attributes:
        weight: float64 ``[n_boot, K]``, ``sum_i w_ib`` over the samples column k uses.
        total: float64 ``[n_boot, K]``, ``sum_i w_ib x_ik``; replicate b's mean of column k
            is ``total / weight``.
        n: samples seen per column, int64 ``[K]``.
        n_boot: number of replicates.
        seed: seed of the weights.
        shape: the column shape.

    Memory is ``16 * n_boot * K`` bytes, whatever the number of samples.
    """

    weight: np.ndarray
    total: np.ndarray
    n: np.ndarray
    n_boot: int
    seed: int
    shape: tuple = field(default=())

    @classmethod
    def of(cls, x, ids, n_boot: int = 2000, seed: int = 0, weights=None) -> "PoissonBootstrap":
        """Accumulators of the samples ``x [N, *shape]`` with stable ids ``ids`` (N strings or
        integers, e.g. :func:`headlab.analyses.text_roles.sample_id` of each text).

        ``weights``: the samples' :func:`poisson_weights` ``[N, n_boot]`` when several arrays of
        the same samples are accumulated (e.g. one per role), so they are drawn once."""
        n_boot, seed = _checks.n_boot(n_boot), _checks.seed(seed)
        x2, shape = _as_columns(x)
        keys = sample_keys(ids)
        if len(keys) != x2.shape[0]:
            raise InputError(f"ids has {len(keys)} ids for {x2.shape[0]} samples; give one id per sample.")
        if weights is not None and np.shape(weights) != (len(keys), n_boot):
            raise InputError(f"weights must have shape [N, n_boot] = {(len(keys), n_boot)}; got {np.shape(weights)}. "
                             "Pass one row of weights per sample, or leave weights out.")
        valid = ~np.isnan(x2)
        x0 = np.where(valid, x2, 0.0)
        k = x2.shape[1]
        weight, total = np.zeros((n_boot, k)), np.zeros((n_boot, k))
        for start in range(0, x2.shape[0], _BLOCK_ROWS):
            rows = slice(start, start + _BLOCK_ROWS)
            w = poisson_weights(keys[rows], n_boot, seed) if weights is None else weights[rows]   # [rows, B]
            weight += w.T @ valid[rows]
            total += w.T @ x0[rows]
        return cls(weight, total, valid.sum(axis=0).astype(np.int64), n_boot, seed, tuple(shape))

    @classmethod
    def empty(cls, shape: tuple, n_boot: int = 2000, seed: int = 0) -> "PoissonBootstrap":
        """No samples yet: the identity of :meth:`merge`."""
        n_boot, seed = _checks.n_boot(n_boot), _checks.seed(seed)
        k = int(np.prod(shape, dtype=np.int64))
        return cls(np.zeros((n_boot, k)), np.zeros((n_boot, k)), np.zeros(k, np.int64), n_boot, seed, tuple(shape))

    def merge(self, other: "PoissonBootstrap") -> "PoissonBootstrap":
        """Accumulators of the union of two disjoint sets of samples: the sums add."""
        if not isinstance(other, PoissonBootstrap) or (other.shape, other.n_boot, other.seed) != (
                self.shape, self.n_boot, self.seed):
            theirs = tuple(getattr(other, a, None) for a in ("shape", "n_boot", "seed"))
            raise InputError("Can only merge Poisson bootstraps with the same column shape, n_boot and seed; got "
                             f"{(self.shape, self.n_boot, self.seed)} and {theirs}. Use the same n_boot and seed on every shard.")
        return PoissonBootstrap(self.weight + other.weight, self.total + other.total, self.n + other.n,
                                self.n_boot, self.seed, self.shape)

    __add__ = merge

    def replicate_means(self) -> np.ndarray:
        """float64 ``[n_boot, K]``; NaN for a replicate that drew none of a column's samples."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.weight > 0, self.total / self.weight, np.nan)

    def ci(self, level: float = 0.95) -> ConfidenceInterval:
        """Percentile interval of the mean per column: the ``(1 -+ level) / 2`` quantiles of the
        replicate means (linear interpolation, numpy's default), replicates with no weight
        left out; NaN for columns with n < 2, as :func:`headlab.stats.bootstrap_ci`."""
        level = _checks.level(level)
        alpha = (1 - level) / 2
        means = self.replicate_means()
        low, high = np.full(means.shape[1], np.nan), np.full(means.shape[1], np.nan)
        ok = self.n >= 2
        if ok.any():
            sub = means[:, ok]
            if np.isnan(sub).any():
                low[ok], high[ok] = np.nanquantile(sub, [alpha, 1 - alpha], axis=0)
            else:
                low[ok], high[ok] = np.quantile(sub, [alpha, 1 - alpha], axis=0)
        return ConfidenceInterval(low.reshape(self.shape), high.reshape(self.shape))
