"""Sieves in structured form: the keys each query should attend to, without a ``[T, T]`` matrix.

A sieve says, for every query ``i``, which keys ``S_i`` a role expects it to attend to. Held as a
dense bool ``[T, T]`` matrix it costs ``T^2`` bytes per role and sample (64 MB at 8,192 tokens),
so the built-in roles use the shape their definition already has:

==============  ======================================================  =========================
shape           keys of query ``i``                                      roles
==============  ======================================================  =========================
``Band``        ``i + o`` for offsets ``o`` in ``[lo, hi]``               local, previous, next, self
``Keys``        a fixed set of positions, the same for every query      cls, sep, delimiter, bos,
                                                                        punctuation
``Blocks``      the keys in the query's own block (segment, sentence)   block
``Pairs``       an explicit list of ``(query, key)`` pairs               syntactic relations
``Dense``       a bool ``[T, T]`` matrix                                 user sieves
==============  ======================================================  =========================

Every shape gives its dense form (``dense(T)``); ``headlab.scores.structured`` computes the
attention mass each shape catches straight from chunks of attention rows. This module needs
only numpy, so the role registry imports without torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Band", "Keys", "Blocks", "Pairs", "Dense", "SHAPES"]


@dataclass(frozen=True)
class Band:
    """Keys at offsets ``lo..hi`` from the query (``Band(-2, 2)`` is Pande et al.'s ±2 window)."""

    lo: int
    hi: int

    def dense(self, T: int) -> np.ndarray:
        idx = np.arange(T)
        d = idx[None, :] - idx[:, None]
        return (d >= self.lo) & (d <= self.hi)


@dataclass(frozen=True)
class Keys:
    """The same key positions for every query (``Keys([0])`` is the [CLS] or BOS token)."""

    keys: tuple[int, ...]

    def dense(self, T: int) -> np.ndarray:
        out = np.zeros((T, T), dtype=bool)
        out[:, [k for k in self.keys if k < T]] = True
        return out


@dataclass(frozen=True)
class Blocks:
    """Each query's keys are the positions of its own block: ``block[j] == block[i]`` and
    ``key[j]`` (e.g. only real words, not special tokens)."""

    block: tuple[int, ...]
    key: tuple[bool, ...]

    def dense(self, T: int) -> np.ndarray:
        b = np.asarray(self.block)[:T]
        return (b[:, None] == b[None, :]) & np.asarray(self.key, dtype=bool)[None, :T]


@dataclass(frozen=True)
class Pairs:
    """An explicit list of ``(query, key)`` pairs (unique)."""

    queries: tuple[int, ...]
    keys: tuple[int, ...]

    def dense(self, T: int) -> np.ndarray:
        out = np.zeros((T, T), dtype=bool)
        q, k = np.asarray(self.queries, dtype=np.int64), np.asarray(self.keys, dtype=np.int64)
        ok = (q < T) & (k < T)
        out[q[ok], k[ok]] = True
        return out


@dataclass(frozen=True, eq=False)
class Dense:
    """Any sieve, as a bool ``[T, T]`` matrix (user-defined roles)."""

    matrix: np.ndarray

    def dense(self, T: int) -> np.ndarray:
        return np.asarray(self.matrix, dtype=bool)[:T, :T]


#: every structured shape
SHAPES = (Band, Keys, Blocks, Pairs, Dense)
