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

__all__ = ["Attention", "LazyAttention", "top_k_rows"]


def top_k_rows(rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest entries of every row of ``rows [..., T, S]``: ``(keys int32 [..., T, k],
    weights float32 [..., T, k])``, strongest first; among equal weights the lower key comes
    first. ``k`` larger than ``S`` gives ``S`` columns.

    One float32 ``torch.topk`` (about 15x faster than a numpy partition at 8,000 tokens). Its
    choice among entries equal to a row's k-th weight is arbitrary, so the rows where such a tie
    was cut (causal rows with fewer than ``k`` visible keys, or rows whose far keys underflow:
    their zeros tie) are chosen again with ties broken by key; the kept keys are then ordered
    by weight, ties by key, with a stable sort. Rows must be finite (softmax rows are).
    """
    import torch

    rows = np.asarray(rows, dtype=np.float32)
    k = max(0, min(int(k), rows.shape[-1]))
    if k == 0:
        return np.zeros(rows.shape[:-1] + (0,), np.int32), np.zeros(rows.shape[:-1] + (0,), np.float32)
    t = torch.from_numpy(rows)
    # one more than asked: a tie at the boundary was cut exactly where the (k+1)-th equals the k-th
    extra = min(k + 1, rows.shape[-1])
    values, keys = torch.topk(t, extra, dim=-1, sorted=True)
    cut = values[..., k - 1] == values[..., extra - 1] if extra > k else torch.zeros(values.shape[:-1], dtype=torch.bool)
    keys = keys[..., :k].clone()
    if bool(cut.any()):
        _lowest_keys_on_ties(t, values[..., k - 1], cut, keys)
    keys = torch.sort(keys, dim=-1).values                     # by key, then stably by weight
    weights = torch.gather(t, -1, keys)
    by_weight = torch.sort(weights, dim=-1, descending=True, stable=True).indices
    keys, weights = torch.gather(keys, -1, by_weight), torch.gather(weights, -1, by_weight)
    return keys.numpy().astype(np.int32), weights.numpy()


#: rows re-chosen at once after a cut tie (memory: this many rows x S bools and int32 counts)
TIE_ROWS = 1024


def _lowest_keys_on_ties(t, kth, cut, keys) -> None:
    """For the rows where ``cut`` is set, choose again: every weight above the row's k-th weight
    ``kth``, then the lowest keys among those equal to it (in place in ``keys [..., k]``).
    Elementwise over a row (no second sort), ``TIE_ROWS`` rows at a time."""
    import torch

    S, k = t.shape[-1], keys.shape[-1]
    flat, kth, keys_flat = t.reshape(-1, S), kth.reshape(-1), keys.view(-1, k)
    which = torch.nonzero(cut.reshape(-1)).flatten()
    for a in range(0, len(which), TIE_ROWS):
        sel = which[a:a + TIE_ROWS]
        r, v = flat[sel], kth[sel][:, None]
        above, equal = r > v, r == v
        need = k - above.sum(-1, keepdim=True, dtype=torch.int32)
        take = above | (equal & (equal.cumsum(-1, dtype=torch.int32) <= need))
        keys_flat[sel] = torch.nonzero(take)[:, 1].reshape(-1, k)


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


class LazyAttention(_Readers):
    """Attention of every head on one long input, computed when asked.

    One forward pass keeps each layer's queries and keys (after rotary embeddings) on the CPU
    - ``n_layers x (n_heads + n_kv_heads) x T x d_head`` float32, e.g. 134 MB for an 8-layer,
    4-head model with 64-dimensional heads at 8,192 tokens, against 8.6 GB for every weight -
    and rebuilds any head from them with the model's own mask and scaling, a chunk of query
    rows at a time (``headlab.capture.attention_rows``). ``head``, ``layer``, ``rows`` and
    ``top_k`` answer as :class:`Attention` does; ``weights`` is not held and says so.
    """

    #: bytes one chunk of rows may take while rebuilding a head
    CHUNK_BYTES = 64 * 1024 * 1024

    def __init__(self, qk: dict, sample: Sample, model_name: str, is_causal: bool, n_heads: int):
        self._qk = qk
        self.sample = sample
        self.model_name = model_name
        self.is_causal = is_causal
        self._n_heads = n_heads

    @classmethod
    def capture(cls, m, sample: Sample) -> "LazyAttention":
        """Run ``m`` once over ``sample`` and keep every layer's queries and keys."""
        from headlab.capture import Capture

        cap = Capture(m.model, m._modules, None, budget=m.budget, keep_qk=True)
        m.stream([sample], None, batch_size=1, capture=cap)
        return cls(dict(cap.qk), sample, m.name, m.is_causal, m.n_heads)

    @property
    def n_layers(self) -> int:
        return len(self._qk)

    @property
    def n_heads(self) -> int:
        return self._n_heads

    @property
    def weights(self):
        T = len(self.sample)
        raise InputError(
            f"This input has {T} tokens: all {self.n_layers} x {self.n_heads} heads would take "
            f"{4 * self.n_layers * self.n_heads * T * T / 1e9:.1f} GB, so they are computed when asked. "
            "Use att.head(layer, head), att.layer(layer), att.rows(layer, head, q0, q1) or att.top_k(layer, head, k)."
        )

    def rows(self, layer: int, head: int, q0: int = 0, q1: int | None = None) -> np.ndarray:
        """Rows ``q0:q1`` of one head, float32 ``[q1 - q0, T]``."""
        import torch

        from headlab.capture import attention_rows

        layer, head = self._check(layer, head)
        query, key, info = self._qk[layer]
        T = query.shape[2]
        q1 = T if q1 is None else min(int(q1), T)
        q0 = max(0, int(q0))
        group = self.n_heads // key.shape[1]
        kv = key[:, head // group: head // group + 1]
        q = query[:, head:head + 1]
        opts = {k: v for k, v in info.items() if k != "mask"}
        mask = info["mask"]
        if mask is not None and mask.dim() == 4 and mask.shape[1] > 1:
            mask = mask[:, head:head + 1]
        # a causal query sees no key after itself: a chunk's keys stop at its last query (half the work)
        causal = self.is_causal and query.shape[2] == key.shape[2]
        out = (np.zeros if causal else np.empty)((max(0, q1 - q0), key.shape[2]), dtype=np.float32)
        step = max(1, self.CHUNK_BYTES // (12 * key.shape[2]))
        with torch.no_grad():
            for a in range(q0, q1, step):
                b = min(q1, a + step)
                upto = b if causal else None
                out[a - q0:b - q0, :upto] = attention_rows(None, q, kv, mask, a, b, keys_upto=upto, **opts)[0, 0].numpy()
        return out

    def head(self, layer: int, head: int) -> np.ndarray:
        """One head's pattern, float32 ``[T, T]`` (built now, not kept)."""
        return self.rows(layer, head)

    def layer(self, layer: int) -> np.ndarray:
        """Every head of one layer, float32 ``[n_heads, T, T]`` (built now, not kept)."""
        return np.stack([self.rows(layer, h) for h in range(self.n_heads)])

    def top_k(self, layer: int, head: int, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
        """Each query's ``k`` strongest keys, without building the whole ``[T, T]`` at once."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise InputError(f"k must be a whole number >= 1, got {k!r}; pass e.g. k=8.")
        T = len(self.sample)
        step = max(1, self.CHUNK_BYTES // (12 * T))
        keys, weights = [], []
        for a in range(0, T, step):
            kk, ww = top_k_rows(self.rows(layer, head, a, min(T, a + step)), int(k))
            keys.append(kk)
            weights.append(ww)
        return np.concatenate(keys), np.concatenate(weights)

    def word_level(self, layer: int | None = None, head: int | None = None) -> np.ndarray:
        """Word-level attention of one head (Clark et al.), ``[W, W]``."""
        if layer is None or head is None:
            raise InputError("A long input's word-level attention is built one head at a time: "
                             "call att.word_level(layer, head).")
        return word_level(self.head(layer, head), self.sample)

    def __repr__(self) -> str:
        return (f"LazyAttention(model={self.model_name!r}, tokens={len(self.sample)}, layers={self.n_layers}, "
                f"heads={self.n_heads}; heads are computed when asked)")
