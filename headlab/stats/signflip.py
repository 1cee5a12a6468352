"""Sign-flip permutation test of the mean on every column (Fisher's randomisation test).

Under H0 the differences ``d = x - null`` are symmetric about 0, so flipping the sign of each
sample is as likely as the observed signs.  One seeded ``[n_perm, N]`` matrix of random signs
is shared by all columns, so every column sees the same permutations and no Python loop runs
over columns (docs/methods.md, 'Tests across samples'; Dror et al. 2018 for resampling tests
in NLP).  scipy's ``permutation_test(..., permutation_type="samples")`` is the same test for
one column, but it cannot share one sign matrix across columns with their own NaN samples.
"""

from __future__ import annotations

import numpy as np

from headlab.stats._columns import as_columns

# Sign rows are drawn in blocks of at most this many rows (the historical block) ...
_PERM_BLOCK = 1024
# ... and, for long columns, fewer, so one block holds at most this many signs.
_PERM_BLOCK_CELLS = 1 << 20
# numpy draws int8 signs four per 32-bit word and drops the unused rest of a word at the end
# of each call; with every block but the last a multiple of 4 rows, the stream of signs is the
# same for any block size (checked in the tests).
_ROW_MULTIPLE = 4


def _block_rows(n_samples: int) -> int:
    if _PERM_BLOCK * n_samples <= _PERM_BLOCK_CELLS:
        return _PERM_BLOCK
    return max(_ROW_MULTIPLE, (_PERM_BLOCK_CELLS // max(n_samples, 1)) // _ROW_MULTIPLE * _ROW_MULTIPLE)


def sign_flip(d: np.ndarray, alternative: str, seed: int, n_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """Sign-flip p-value of the mean of ``d float [N, *shape]`` per column.

    Returns ``(statistic, p_value)`` of shape ``shape``: the mean of the column's valid
    differences and ``p = (1 + #{flipped sum >= observed}) / (1 + n_perm)`` (in the direction
    of ``alternative``; absolute values when two-sided).  A NaN sample contributes 0 to every
    flipped sum, so each column is tested on its own samples; sums stand in for means (same n
    within a column).  NaN for columns with no valid sample.
    """
    shape = d.shape[1:]
    x2, valid, n = as_columns(d)
    d0 = np.where(valid, x2, 0.0)
    obs = d0.sum(axis=0)
    # "flipped == observed" up to the order of floating-point summation
    tol = 1e-10 * np.abs(d0).sum(axis=0)
    rng = np.random.default_rng(seed)
    count = np.zeros(x2.shape[1])
    rows = _block_rows(x2.shape[0])
    for start in range(0, n_perm, rows):
        b = min(rows, n_perm - start)
        signs = rng.integers(0, 2, size=(b, x2.shape[0]), dtype=np.int8).astype(np.float64) * 2.0 - 1.0
        flipped = signs @ d0  # [b, K]
        if alternative == "greater":
            count += (flipped >= obs - tol).sum(axis=0)
        elif alternative == "less":
            count += (flipped <= obs + tol).sum(axis=0)
        else:
            count += (np.abs(flipped) >= np.abs(obs) - tol).sum(axis=0)
    p = (1.0 + count) / (1.0 + n_perm)
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = obs / n
    p = np.where(n >= 1, p, np.nan)
    return stat.reshape(shape), p.reshape(shape)
