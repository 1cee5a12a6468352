"""Sparse attention patterns for the page: each query's strongest keys, as few bytes as they need.

A click used to fetch one head's dense float16 ``[T, T]`` block (524 KB at 512 tokens, 128 MB
at 8,000). The page draws arcs, heat-strips and matrices from each query's strongest keys,
so one head now travels as *sparse rows*: per query, the fewest keys (strongest first) whose
weights add up to ``mass`` of that row's attention (rows of an ``Attention`` sum to 1), at most
``k_max`` of them. The share of each row actually kept is measured and sent along, so a view
can say how much it leaves out.

Packed form (``pack_sparse``; ``js/src/sparse.ts`` is the reader)::

    {"n": T, "key_dtype": "uint16" | "int32", "weight_dtype": "uint8" | "float16",
     "mass": float, "k_max": int, "kept_mean": float, "kept_min": float,
     "counts":  uint8   [T]    keys kept per query,
     "keys":    uint16/int32 [nnz] key indices, query by query, strongest first,
     "weights": uint8 [nnz] (byte / 255 * the row's scale) or float16 [nnz],
     "scale":   float16 [T]    each row's strongest weight (uint8 only; empty for float16)}

The four arrays are ``memoryview`` leaves (binary comm buffers in a live reply, base64 in a
saved payload). Only ``att.top_k`` is used, so the lazy attention of long inputs works too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from headlab.errors import InputError

__all__ = ["SparsePattern", "sparse_rows", "window_rows", "sparse_pattern", "pack_sparse", "unpack_sparse", "packed_nbytes",
           "TopKCache", "TopKTap", "ReplyCache", "DEFAULT_MASS", "DEFAULT_K_MAX", "BUFFERS"]

#: share of each query's attention the kept keys should carry
DEFAULT_MASS = 0.9
#: at most this many keys per query on a click
DEFAULT_K_MAX = 64
#: the binary fields of a packed pattern, in the order a live reply sends them as buffers
BUFFERS = ("counts", "keys", "weights", "scale")


@dataclass
class SparsePattern:
    """One head's attention as sparse rows (see the module docstring).

    Attributes:
        n: number of tokens ``T`` (queries and keys).
        counts: uint8 ``[T]`` keys kept per query.
        keys: int32 ``[nnz]`` key indices, row after row, strongest first in each row.
        weights: float32 ``[nnz]`` their attention weights.
        mass: the share of each row the selection aimed for.
        k_max: the cap on keys per query.
    """

    n: int
    counts: np.ndarray
    keys: np.ndarray
    weights: np.ndarray
    mass: float
    k_max: int

    @property
    def nnz(self) -> int:
        return int(self.keys.size)

    @property
    def kept(self) -> np.ndarray:
        """float32 ``[T]``: the share of each query's attention its kept keys carry."""
        rows = np.repeat(np.arange(self.n), self.counts.astype(np.int64))
        return np.bincount(rows, weights=self.weights, minlength=self.n).astype(np.float32)

    def dense(self) -> np.ndarray:
        """float32 ``[T, T]`` with the kept weights and zeros elsewhere (tests, small inputs)."""
        out = np.zeros((self.n, self.n), np.float32)
        rows = np.repeat(np.arange(self.n), self.counts.astype(np.int64))
        out[rows, self.keys] = self.weights
        return out


def sparse_rows(keys: np.ndarray, weights: np.ndarray, n: int, *, mass: float = DEFAULT_MASS,
                k_max: int = DEFAULT_K_MAX, quantum: float = 1 / 510) -> SparsePattern:
    """Per-query selection from top-k rows ``keys int32 [T, k]``, ``weights float32 [T, k]`` (strongest first).

    Row ``i`` keeps its first ``c_i`` keys, the fewest whose weights reach ``mass`` (rows sum to
    1), capped at ``k_max``; keys weaker than ``quantum`` x the row's strongest weight are dropped
    (they would quantise to 0 in a byte) and so are zero weights (keys a causal query cannot see).
    Vectorised over rows.
    """
    keys = np.asarray(keys)
    w = np.asarray(weights, dtype=np.float32)
    T, k = w.shape if w.ndim == 2 else (0, 0)
    k_eff = min(int(k_max), k)
    w, keys = w[:, :k_eff], keys[:, :k_eff]
    cum = np.cumsum(w, axis=1, dtype=np.float64)
    need = (cum < mass - 1e-7).sum(axis=1) + 1                     # fewest keys reaching the mass
    strong = (w > 0) & (w >= w[:, :1] * quantum)                    # sorted, so a prefix of each row
    counts = np.minimum(np.minimum(need, strong.sum(axis=1)), k_eff).astype(np.uint8)
    take = np.arange(k_eff)[None, :] < counts[:, None]
    return SparsePattern(n=int(n), counts=counts, keys=keys[take].astype(np.int32),
                         weights=w[take].astype(np.float32), mass=float(mass), k_max=int(k_max))


def sparse_pattern(att, layer: int, head: int, *, mass: float = DEFAULT_MASS, k_max: int = DEFAULT_K_MAX) -> SparsePattern:
    """One head of ``att`` (anything with ``tokens`` and ``top_k``) as sparse rows."""
    if not 0 < mass <= 1:
        raise InputError(f"mass must be in (0, 1], got {mass!r}; e.g. mass=0.9 keeps 90% of each row.")
    if not 1 <= int(k_max) <= 255:
        raise InputError(f"k_max must be a whole number from 1 to 255, got {k_max!r}; pass e.g. k_max=64.")
    T = len(att.tokens)
    keys, w = att.top_k(layer, head, min(int(k_max), T))
    return sparse_rows(keys, w, T, mass=mass, k_max=k_max)


def window_rows(keys: np.ndarray, weights: np.ndarray, lo: int, n: int, *, mass: float = DEFAULT_MASS,
                k_max: int = DEFAULT_K_MAX) -> SparsePattern:
    """Queries ``lo:lo + c`` of a head, from their top-k rows ``keys int32 [c, k]``, ``weights
    float32 [c, k]``, as a pattern of all ``n`` queries in which the others keep no key (the
    rows a long head's first reply carries; see ``AttentionState._early_reply``)."""
    part = sparse_rows(keys, weights, len(keys), mass=mass, k_max=k_max)
    counts = np.zeros(int(n), np.uint8)
    counts[lo:lo + len(keys)] = part.counts
    return SparsePattern(n=int(n), counts=counts, keys=part.keys, weights=part.weights, mass=part.mass, k_max=part.k_max)


def pack_sparse(p: SparsePattern, encoding: str = "uint8", rows: tuple[int, int] | None = None) -> dict:
    """A ``SparsePattern`` -> its packed form (module docstring) with ``memoryview`` leaves.

    ``rows``: the queries ``[lo, hi)`` the pattern carries when it holds only some
    (``window_rows``); ``kept_mean`` and ``kept_min`` then describe those rows alone.
    """
    key_dtype = "uint16" if p.n <= 65536 else "int32"
    keys = np.ascontiguousarray(p.keys, "<u2" if key_dtype == "uint16" else "<i4")
    kept = p.kept if rows is None else p.kept[rows[0]:rows[1]]
    head = {"n": p.n, "key_dtype": key_dtype, "weight_dtype": encoding, "mass": p.mass, "k_max": p.k_max,
            "kept_mean": float(kept.mean()) if kept.size else 0.0, "kept_min": float(kept.min()) if kept.size else 0.0}
    if encoding == "uint8":
        starts = np.concatenate([[0], np.cumsum(p.counts.astype(np.int64))[:-1]]) if p.n else np.zeros(0, np.int64)
        has = p.counts > 0
        scale = np.zeros(p.n, np.float32)
        scale[has] = p.weights[starts[has]]                          # each row's strongest weight
        scale16 = scale.astype("<f2")
        per_key = np.repeat(scale16.astype(np.float32), p.counts.astype(np.int64))
        with np.errstate(invalid="ignore", divide="ignore"):
            q = np.where(per_key > 0, np.rint(p.weights / per_key * 255), 0)
        weights = np.clip(q, 0, 255).astype(np.uint8)
        return {**head, "counts": memoryview(np.ascontiguousarray(p.counts, np.uint8)), "keys": memoryview(keys),
                "weights": memoryview(weights), "scale": memoryview(np.ascontiguousarray(scale16))}
    if encoding == "float16":
        return {**head, "counts": memoryview(np.ascontiguousarray(p.counts, np.uint8)), "keys": memoryview(keys),
                "weights": memoryview(np.ascontiguousarray(p.weights, "<f2")), "scale": memoryview(b"")}
    raise InputError(f"encoding must be 'uint8' or 'float16', not {encoding!r}; pass one of these")


def unpack_sparse(d: dict) -> SparsePattern:
    """Inverse of :func:`pack_sparse` (weights dequantised); for tests and Python readers."""
    n = int(d["n"])
    counts = np.frombuffer(bytes(d["counts"]), np.uint8).copy()
    keys = np.frombuffer(bytes(d["keys"]), "<u2" if d["key_dtype"] == "uint16" else "<i4").astype(np.int32)
    if counts.size != n or keys.size != int(counts.sum()):
        raise InputError("the packed pattern is inconsistent (counts, keys and weights disagree); "
                         "re-run the cell to send it again")
    if d["weight_dtype"] == "uint8":
        scale = np.frombuffer(bytes(d["scale"]), "<f2").astype(np.float32)
        q = np.frombuffer(bytes(d["weights"]), np.uint8).astype(np.float32)
        weights = q / 255.0 * np.repeat(scale, counts.astype(np.int64))
    elif d["weight_dtype"] == "float16":
        weights = np.frombuffer(bytes(d["weights"]), "<f2").astype(np.float32)
    else:
        raise InputError(f"unknown weight encoding {d['weight_dtype']!r}; use uint8 or float16 (pack_sparse writes them)")
    if counts.size != n or keys.size != int(counts.sum()) or weights.size != keys.size:
        raise InputError("the packed pattern is inconsistent (counts, keys and weights disagree); "
                         "re-run the cell to send it again")
    return SparsePattern(n=n, counts=counts, keys=keys, weights=weights.astype(np.float32),
                         mass=float(d["mass"]), k_max=int(d["k_max"]))


def packed_nbytes(d: dict) -> int:
    """Binary size of a packed pattern (what it costs on the wire or, x4/3, in base64)."""
    return sum(len(d[b]) if not isinstance(d[b], memoryview) else d[b].nbytes for b in BUFFERS)


class TopKCache:
    """Each head's top-k rows, computed once and shared by clicks and saved payloads.

    ``get(att, layer, head, k)`` answers from a cached top-``k'`` with ``k' >= k`` (its first
    ``k`` columns are the top-``k``); least recently used heads are dropped beyond
    ``max_bytes``. A lock keeps a click and a background payload from computing the same head
    twice or reading the attention object at the same time.
    """

    def __init__(self, max_bytes: int = 64_000_000):
        import threading
        from collections import OrderedDict

        self.max_bytes = max_bytes
        self._rows: "OrderedDict[tuple[int, int], tuple[np.ndarray, np.ndarray]]" = OrderedDict()
        self._lock = threading.RLock()

    def cached(self, layer: int, head: int, k: int, n: int) -> bool:
        """Whether ``get(..., k)`` would answer without computing (``n``: the number of tokens)."""
        hit = self._rows.get((layer, head))
        return hit is not None and hit[0].shape[1] >= min(int(k), n)

    def get(self, att, layer: int, head: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            T = len(att.tokens)
            k = max(1, min(int(k), T))
            hit = self._rows.get((layer, head))
            if hit is None or hit[0].shape[1] < k:
                keys, w = att.top_k(layer, head, k)
                hit = (np.asarray(keys, np.int32), np.asarray(w, np.float32))
            self._rows[(layer, head)] = hit
            self._rows.move_to_end((layer, head))
            while len(self._rows) > 1 and sum(a.nbytes + b.nbytes for a, b in self._rows.values()) > self.max_bytes:
                self._rows.popitem(last=False)
            return hit[0][:, :k], hit[1][:, :k]

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()


class TopKTap:
    """A head's top-``k`` rows gathered from chunks of its rows that another pass computes anyway.

    The thumbnail pass of a long input rebuilds every head a chunk of query rows at a time;
    called with each chunk (``rows float [c, T]``, in query order), the tap keeps that chunk's
    ``headlab.attention.top_k_rows`` - the function ``LazyAttention.top_k`` uses - and
    ``close()`` hands the whole head to ``done``, so a click no longer computes it a second time.
    """

    def __init__(self, k: int, done):
        self.k = int(k)
        self.done = done
        self._keys: list[np.ndarray] = []
        self._weights: list[np.ndarray] = []

    def __call__(self, rows: np.ndarray) -> None:
        from headlab.attention import top_k_rows

        keys, weights = top_k_rows(rows, self.k)
        self._keys.append(keys)
        self._weights.append(weights)

    def close(self) -> None:
        """The head is complete: hand ``done`` its ``keys int32 [T, k]`` and ``weights float32
        [T, k]``, strongest first."""
        if self._keys:
            self.done(np.concatenate(self._keys), np.concatenate(self._weights))


class ReplyCache:
    """Packed click replies (``pack_sparse``) made ahead of the click, within ``max_bytes``.

    Keyed by ``(layer, head, mass, k_max, encoding)``, so a reply made under other settings is
    never sent. Entries are offered in the order they are most wanted (heads on display, then
    the strongest); once the budget is full, later offers are refused rather than pushing
    earlier ones out. Every head of a 6 x 12 model at 8,000 tokens takes 39 MB (about 0.55 MB
    a head).
    """

    def __init__(self, max_bytes: int = 64_000_000):
        import threading

        self.max_bytes = max_bytes
        self._replies: dict[tuple, dict] = {}
        self._used = 0
        self._lock = threading.Lock()

    def full(self) -> bool:
        return self._used >= self.max_bytes

    def offer(self, key: tuple, packed: dict) -> bool:
        """Keep ``packed`` under ``key`` if it fits; True when kept."""
        size = packed_nbytes(packed)
        with self._lock:
            if key in self._replies or self._used + size > self.max_bytes:
                return False
            self._replies[key] = packed
            self._used += size
            return True

    def get(self, key: tuple) -> dict | None:
        return self._replies.get(key)

    def __len__(self) -> int:
        return len(self._replies)

    @property
    def nbytes(self) -> int:
        """Bytes the kept replies take on the wire."""
        return self._used

    def clear(self) -> None:
        with self._lock:
            self._replies.clear()
            self._used = 0
