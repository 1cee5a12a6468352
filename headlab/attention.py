"""``hl.Attention``: the attention of every head on one input, and the ways to read it.

Every attention object - the dense one here, and the lazy one for long inputs - answers the
same questions, so views and analyses never need to know which they hold:

* ``head(layer, head)`` -> float32 ``[T, T]`` (rows are queries and sum to 1 over visible keys);
* ``layer(layer)`` -> float32 ``[n_heads, T, T]``;
* ``top_k(layer, head, k)`` -> ``(keys int32 [T, k], weights float32 [T, k])``, each row's k
  strongest keys, strongest first (the sparse form the views send to the page);
* ``word_level(...)``: Clark et al.'s word-level attention (docs/methods.md#methods-word-level).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from headlab.errors import InputError
from headlab.head_names import parse_head
from headlab.text import Sample, Text, word_level

__all__ = ["Attention", "top_k_rows"]


def top_k_rows(rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest entries of every row of ``rows [T, S]``: ``(keys int32 [T, k], weights float32 [T, k])``,
    strongest first; ties keep the lower key index first. ``k`` larger than ``S`` gives ``S`` columns."""
    rows = np.asarray(rows, dtype=np.float32)
    k = max(0, min(int(k), rows.shape[-1]))
    if k == 0:
        return np.zeros(rows.shape[:-1] + (0,), np.int32), np.zeros(rows.shape[:-1] + (0,), np.float32)
    part = np.argpartition(-rows, k - 1, axis=-1)[..., :k] if k < rows.shape[-1] else np.broadcast_to(
        np.arange(rows.shape[-1]), rows.shape).copy()
    vals = np.take_along_axis(rows, part, axis=-1)
    order = np.lexsort((part, -vals), axis=-1)
    keys = np.take_along_axis(part, order, axis=-1).astype(np.int32)
    return keys, np.take_along_axis(vals, order, axis=-1).astype(np.float32)


class _Readers:
    """What every attention object offers on top of ``head``, ``layer`` and its sample."""

    sample: Sample
    model_name: str
    is_causal: bool

    @property
    def text(self) -> Text:
        return self.sample.text

    @property
    def tokens(self) -> list[str]:
        return self.sample.tokens

    @property
    def word_ids(self) -> list[int | None]:
        return self.sample.word_ids

    @property
    def spans(self) -> list[tuple[int, int] | None]:
        return self.sample.spans

    @property
    def special_mask(self) -> np.ndarray:
        return self.sample.special_mask

    @property
    def segment_ids(self) -> np.ndarray:
        return self.sample.segment_ids

    @property
    def words(self) -> list[str]:
        return self.sample.words

    def _check(self, layer: int, head: int) -> tuple[int, int]:
        return parse_head((layer, head), self.n_layers, self.n_heads)

    def top_k(self, layer: int, head: int, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
        """Each query's ``k`` strongest keys: ``(keys int32 [T, k], weights float32 [T, k])``."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise InputError(f"k must be a whole number >= 1, got {k!r}; pass e.g. k=8.")
        return top_k_rows(self.head(layer, head), int(k))


@dataclass
class Attention(_Readers):
    """Attention of every head on one input, held in memory.

    Attributes:
        weights: float32 ``[n_layers, n_heads, T, T]``; row ``i`` is query token ``i`` and
            sums to 1 over the keys it can see (padding removed).
        sample: the tokenised input (tokens, word ids, character spans, segments).
        model_name: the model that produced it.
        is_causal: whether queries see only earlier keys.
    """

    weights: np.ndarray
    sample: Sample
    model_name: str
    is_causal: bool = False

    @property
    def n_layers(self) -> int:
        return self.weights.shape[0]

    @property
    def n_heads(self) -> int:
        return self.weights.shape[1]

    def head(self, layer: int, head: int) -> np.ndarray:
        """One head's pattern, float32 ``[T, T]``."""
        layer, head = self._check(layer, head)
        return self.weights[layer, head]

    def layer(self, layer: int) -> np.ndarray:
        """Every head of one layer, float32 ``[n_heads, T, T]``."""
        layer, _ = self._check(layer, 0)
        return self.weights[layer]

    def word_level(self, layer: int | None = None, head: int | None = None) -> np.ndarray:
        """Word-level attention (Clark et al.: sum over key pieces, mean over query pieces).

        Returns ``[W, W]`` for one head, or ``[n_layers, n_heads, W, W]`` when no head is named.
        """
        w = self.weights if layer is None else self.head(layer, head)
        return word_level(w, self.sample)

    def __repr__(self) -> str:
        L, H, T, _ = self.weights.shape
        return f"Attention(model={self.model_name!r}, tokens={T}, layers={L}, heads={H})"
