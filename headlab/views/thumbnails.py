"""Pattern thumbnails for the grid: every head's attention on the text, pooled into a few blocks.

BertViz's model view and CircuitsVis show each head's actual pattern at a glance; the grid's
*patterns* mode does the same from a few kilobytes. A head's ``[T, T]`` pattern is pooled into
at most ``MAX_BLOCKS`` blocks per side - the attention a block of queries gives a block of keys,
**summed over the keys and averaged over the queries**, so every pooled row still sums to 1 and
a value is the share of the query block's attention that lands on the key block (the HTML
report's thumbnails are pooled the same way, ``headlab.report.html_png.pool``, and drawn on the
same ``share`` colour scale). A previous-token head becomes a bright diagonal, a [CLS] head a
bright first column, a delimiter head a few bright columns.

Values travel as bytes (``round(share * 255)``): 16 x 16 bytes a head, 18 kB for a 6 x 12 model
at any length. Only ``att.rows`` / ``att.head`` / ``.weights`` are read, one head (or a chunk of
query rows) at a time, so the lazy attention of long inputs never holds more than a chunk.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["MAX_BLOCKS", "pool", "head_thumbnail", "thumbnails", "pack_thumbnails", "unpack_thumbnails",
           "held_weights", "attention_shape", "ThumbnailJob"]

#: at most this many blocks per side of a thumbnail
MAX_BLOCKS = 16
#: rows of a lazy attention's head pooled at once (memory: rows x T float32)
_ROW_CHUNK_BYTES = 32 * 1024 * 1024


def held_weights(att):
    """``att.weights`` (float ``[L, H, T, T]``) when the attention holds it, else None.

    A lazy attention refuses ``.weights`` with an error that says why (every head would not
    fit); views then read one head or a chunk of rows at a time.
    """
    try:
        return getattr(att, "weights", None)
    except (AttributeError, ValueError, MemoryError):     # InputError is a ValueError
        return None


def attention_shape(att) -> tuple[int, int]:
    """``(n_layers, n_heads)`` of an attention, held or lazy."""
    w = held_weights(att)
    if w is not None:
        return int(w.shape[0]), int(w.shape[1])
    return int(att.n_layers), int(att.n_heads)


def pool(weights: np.ndarray, max_blocks: int = MAX_BLOCKS) -> tuple[np.ndarray, int]:
    """Pool attention ``float [..., T, T]`` into ``float32 [..., S, S]`` blocks of ``b`` tokens.

    ``b = ceil(T / max_blocks)`` and ``S = ceil(T / b)``; a block's value is the attention of its
    queries summed over its keys and averaged over its queries (a short last block averages over
    the queries it has). Returns ``(pooled, b)``.
    """
    w = np.asarray(weights, dtype=np.float32)
    T = w.shape[-1]
    b = max(1, math.ceil(T / max_blocks))
    S = math.ceil(T / b)
    pad = S * b - T
    if pad:
        w = np.pad(w, [(0, 0)] * (w.ndim - 2) + [(0, pad), (0, pad)])
    lead = w.shape[:-2]
    summed = w.reshape(*lead, S, b, S, b).sum(axis=(-1, -3), dtype=np.float64)     # [..., S, S]
    queries = np.minimum(b, T - np.arange(S) * b)                                    # real queries per block
    return (summed / queries[:, None]).astype(np.float32), b


def _rows_pooled(att, layer: int, head: int, T: int, b: int, S: int, on_rows=None) -> np.ndarray:
    """One head of a lazy attention pooled from chunks of query rows (never ``[T, T]`` at once);
    ``on_rows`` (if given) sees every chunk ``float32 [c, T]``, in query order."""
    out = np.zeros((S, S), np.float64)
    step = max(b, (_ROW_CHUNK_BYTES // (4 * max(1, T))) // b * b)      # whole query blocks per chunk
    for q0 in range(0, T, step):                                        # q0 is a multiple of b
        q1 = min(T, q0 + step)
        rows = np.asarray(att.rows(layer, head, q0, q1), dtype=np.float32)          # [q1 - q0, T]
        if on_rows is not None:
            on_rows(rows)
        n_blocks = math.ceil((q1 - q0) / b)
        rows = np.pad(rows, [(0, n_blocks * b - (q1 - q0)), (0, S * b - T)])
        by_key = rows.reshape(n_blocks * b, S, b).sum(-1, dtype=np.float64)          # sum over key blocks
        out[q0 // b:q0 // b + n_blocks] += by_key.reshape(n_blocks, b, S).sum(1)     # sum over query blocks
    queries = np.minimum(b, T - np.arange(S) * b)
    return (out / queries[:, None]).astype(np.float32)


def head_thumbnail(att, layer: int, head: int, max_blocks: int = MAX_BLOCKS, on_rows=None) -> tuple[np.ndarray, int]:
    """One head pooled: ``(float32 [S, S], b)``; chunks of rows when the attention computes them.

    ``on_rows``: called with the head's rows as they are computed (chunks ``float32 [c, T]`` in
    query order, or the whole ``[T, T]``), so other per-row work can share the pass.
    """
    T = len(att.tokens)
    w = held_weights(att)
    if w is not None:
        return pool(w[layer, head], max_blocks)
    b = max(1, math.ceil(T / max_blocks))
    if callable(getattr(att, "rows", None)):
        return _rows_pooled(att, layer, head, T, b, math.ceil(T / b), on_rows), b
    rows = np.asarray(att.head(layer, head), dtype=np.float32)
    if on_rows is not None:
        on_rows(rows)
    return pool(rows, max_blocks)


def _quantise(pooled: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(pooled, 0.0, 1.0) * 255).astype(np.uint8)


def thumbnails(att, n_layers: int, n_heads: int, max_blocks: int = MAX_BLOCKS, order=None,
               tap=None) -> tuple[np.ndarray, int]:
    """Every head pooled and quantised: ``(uint8 [L, H, S, S], b)``, byte = round(share * 255).

    With ``.weights`` held, one layer at a time (vectorised over its heads). Otherwise one head
    at a time through ``head_thumbnail``, in ``order`` (``(layer, head)`` pairs; default layer
    by layer), and ``tap(layer, head)`` may return a callable that is given the head's rows as
    they are computed and is then ``close()``-d (``headlab.views.sparse.TopKTap``).
    """
    T = len(att.tokens)
    b = max(1, math.ceil(T / max_blocks))
    S = math.ceil(T / b)
    out = np.zeros((n_layers, n_heads, S, S), np.uint8)
    w = held_weights(att)
    if w is not None:
        for layer in range(n_layers):
            out[layer] = _quantise(pool(w[layer], max_blocks)[0])                   # [H, S, S]
        return out, b
    for layer, head in (order if order is not None else [(l, h) for l in range(n_layers) for h in range(n_heads)]):
        on_rows = tap(layer, head) if tap is not None else None
        out[layer, head] = _quantise(head_thumbnail(att, layer, head, max_blocks, on_rows)[0])
        if on_rows is not None:
            on_rows.close()
    return out, b


def pack_thumbnails(thumbs: np.ndarray, block: int) -> dict:
    """``uint8 [L, H, S, S]`` -> the synced form ``{shape, dtype: "uint8", buf, block}`` (keys:
    ``protocol.THUMB_KEYS``); ``buf`` is a memoryview, sent as a binary comm buffer."""
    a = np.ascontiguousarray(thumbs, dtype=np.uint8)
    return {"shape": [int(s) for s in a.shape], "dtype": "uint8", "buf": memoryview(a.reshape(-1)),
            "block": int(block)}


def unpack_thumbnails(p: dict) -> np.ndarray:
    """The shares of a packed thumbnail block, float32 ``[L, H, S, S]`` in [0, 1]."""
    return np.frombuffer(bytes(p["buf"]), np.uint8).astype(np.float32).reshape(p["shape"]) / 255.0


class ThumbnailJob:
    """Computes a view's ``thumbs`` trait: here and now when the attention is held in memory and
    small (at most ``SYNC_CELLS`` heads x T x T; 512 tokens on a 6 x 12 model takes tens of
    milliseconds), otherwise in a daemon thread so the first paint never waits for it (a lazy
    attention rebuilds every head to pool it). A failure leaves ``thumbs`` None and is kept in
    ``error``; the grid then says that patterns are not available.
    """

    #: heads x T x T pooled before the view is returned; above, in the background
    SYNC_CELLS = 20_000_000

    def __init__(self, widget, att, n_layers: int, n_heads: int):
        import threading

        self.widget, self.att, self.L, self.H = widget, att, n_layers, n_heads
        self.done = threading.Event()
        self.error: BaseException | None = None
        self._thread = None

    def start(self, background: bool = True) -> None:
        T = len(self.att.tokens)
        small = held_weights(self.att) is not None and self.L * self.H * T * T <= self.SYNC_CELLS
        if small or not background:
            self._run()
            return
        import threading

        self._thread = threading.Thread(target=self._run, name="headlab-thumbnails", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            # a lazy attention rebuilds every head here: the heads most likely to be clicked go
            # first, and the view may keep each one's click reply from the same rows
            try:
                order = self.widget._payload_heads()
            except Exception:  # noqa: BLE001 - a view without that order, or scores mid-update: layer by layer
                order = None
            u8, b = thumbnails(self.att, self.L, self.H, order=order, tap=getattr(self.widget, "_tap_head", None))
            lock = getattr(self.widget, "_score_lock", None)
            if lock is None:
                self.widget.thumbs = pack_thumbnails(u8, b)
            else:
                with lock:
                    self.widget.thumbs = pack_thumbnails(u8, b)
        except Exception as exc:  # noqa: BLE001 - patterns are an extra; the grid says they are missing
            self.error = exc
        finally:
            self.done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the thumbnails are done (or failed); False on timeout."""
        return self.done.wait(timeout)
