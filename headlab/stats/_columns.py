"""Column bookkeeping shared by the tests and the bootstrap: per-column NaN handling.

A column of ``x [N, K]`` uses only its non-NaN samples, so columns have their own ``n``.
Rather than loop over columns, the functions here group columns by ``n`` and pack each
group's valid samples into one dense array, so a whole group is handled by one vectorised call.
"""

from __future__ import annotations

import numpy as np


def as_columns(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``arr [N, *shape]`` -> ``(x2 [N, K], valid bool [N, K], n int [K])`` with K = prod(shape)."""
    x2 = arr.reshape(arr.shape[0], -1)
    valid = ~np.isnan(x2)
    return x2, valid, valid.sum(axis=0)


def pack(x2: np.ndarray, valid: np.ndarray, cols: np.ndarray, m: int) -> np.ndarray:
    """The valid samples of columns ``cols`` (each with exactly ``m`` of them), in their
    original order, as a C-contiguous ``float64 [len(cols), m]`` (one row per column).

    One row per column keeps every later per-column reduction along the contiguous last
    axis, where numpy's summation order does not depend on how many columns are packed.
    """
    sub = np.ascontiguousarray(x2.T[cols])  # [k, N], one copy
    if m == x2.shape[0]:
        return sub
    return sub[valid.T[cols]].reshape(len(cols), m)
