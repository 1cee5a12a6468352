"""Bootstrap resampling with bounded memory and exact resample sums.

Two properties make the bootstrap results reproducible bit for bit:

* **Draws.**  The resamples of ``m`` samples come from ``rng.integers(0, m, size=(b, m))``,
  drawn in row blocks.  numpy's int64 draws (for ranges below and above 2**32) continue the
  bit generator's stream across calls, so blocks of any size give the same indices as one
  ``(n_boot, m)`` draw (checked in the tests).  The block size only bounds memory: a block's
  count matrix holds at most :data:`BLOCK_CELLS` cells, whatever N is.
* **Sums.**  A resample's sum ``sum_i c_i x_i`` (``c_i`` = how often sample i was drawn) is a
  matrix product, and BLAS adds in an order that depends on the matrix shapes (block size,
  number of columns).  So the values are first split into integer-valued parts scaled by a
  power of two per column (:class:`ExactSums`); with at most ``53 - bit_length(m)`` bits per
  part, every partial sum of a part is an integer below 2**53 and thus exact in float64 in
  any order.  The parts are then combined once.  Every column's means are therefore the
  same whatever the block size and whichever other columns share the product.
"""

from __future__ import annotations

import numpy as np

#: cells (resamples x samples) of one block of bootstrap counts; the block's index, count and
#: float matrices take about 24 bytes per cell, so about 6 MB
BLOCK_CELLS = 1 << 18

# total bits kept per value below its column's largest |value| (float64 has 53)
_KEPT_BITS = 64


class ExactSums:
    """Exact weighted sums of the rows of ``xt float64 [k, m]`` (k columns of m samples).

    Each value is scaled by a power of two per column so that the column's largest magnitude
    is below ``2**bits`` (bits = 53 - bit_length(m)) and written as integer-valued parts,
    ``x * 2**s = a_0 + a_1 * 2**-bits + ...`` with ``|a_p| < 2**bits``; the bits beyond
    ``_KEPT_BITS`` under the column's largest magnitude are dropped (far below the float64
    rounding of the sums).  Scaling by powers of two and taking integer and fractional parts
    are exact, so the parts hold the values exactly up to the dropped bits.

    Args:
        xt: the columns, no NaN.
        overwrite: use ``xt`` as scratch space (saves one copy of the data; ``xt`` is
            garbage afterwards).
    """

    def __init__(self, xt: np.ndarray, overwrite: bool = False):
        k, m = xt.shape
        self.k, self.m = k, m
        self.bits = 53 - int(m).bit_length()
        n_parts = max(2, -(-_KEPT_BITS // self.bits))
        _, top = np.frexp(np.abs(xt).max(axis=1) if m else np.zeros(k))  # |x| < 2**top
        # undo the scaling with the exact power of two 2**(top - bits)
        self.scale = np.ldexp(1.0, top - self.bits)
        y = xt if overwrite else xt.copy()
        y *= np.ldexp(1.0, self.bits - top)[:, None]  # |y| < 2**bits
        parts = np.empty((n_parts, k, m))
        for p in range(n_parts):
            np.trunc(y, out=parts[p])
            if p + 1 < n_parts:
                y -= parts[p]            # the fractional part, |y| < 1
                y *= 2.0**self.bits
        self.parts = parts.reshape(n_parts * k, m)

    def _combine(self, part_sums: np.ndarray) -> np.ndarray:
        """``[P * k, b]`` exact integer sums of the parts -> ``[k, b]`` float sums (Horner in
        powers of ``2**-bits``: one rounding per part after the first)."""
        s = part_sums.reshape(-1, self.k, part_sums.shape[-1])
        total = s[-1].copy()
        for p in range(len(s) - 2, -1, -1):
            total *= 2.0**-self.bits
            total += s[p]
        total *= self.scale[:, None]
        return total

    def weighted(self, counts: np.ndarray) -> np.ndarray:
        """Sums ``counts @ x`` for ``counts float [b, m]`` (integer-valued, rows summing to m)
        -> ``[k, b]``."""
        return self._combine(self.parts @ counts.T)

    def total(self) -> np.ndarray:
        """Sum of each column's m values -> ``[k]``."""
        return self._combine(self.parts.sum(axis=1)[:, None])[:, 0]


def draw_counts(rng: np.random.Generator, m: int, rows: int) -> np.ndarray:
    """Counts matrix ``float64 [rows, m]`` of ``rows`` resamples with replacement of m samples:
    ``C[b, i]`` = how often sample i is drawn in resample b (rows sum to m)."""
    idx = rng.integers(0, m, size=(rows, m))
    idx += (np.arange(rows) * m)[:, None]  # offset each resample into its own row
    counts = np.bincount(idx.ravel(), minlength=rows * m)
    del idx
    return counts.reshape(rows, m).astype(np.float64)


def resampled_means(sums: ExactSums, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``n_boot`` bootstrap resamples of each column -> ``[k, n_boot]``.

    The resamples are drawn and applied in row blocks of at most :data:`BLOCK_CELLS` counts;
    results do not depend on the block size (see the module docstring).
    """
    m = sums.m
    out = np.empty((sums.k, n_boot))
    rows = max(1, BLOCK_CELLS // m)
    for start in range(0, n_boot, rows):
        b = min(rows, n_boot - start)
        out[:, start:start + b] = sums.weighted(draw_counts(rng, m, b))
    out /= m
    return out
