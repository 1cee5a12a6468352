"""AttentionView: one or more heads on a text, fed sparse patterns on demand.

Synced state carries the tokens, word groups and settings only. A head's pattern travels when
the page asks for it, as sparse rows (``views/sparse.py``: per query the fewest keys carrying
``mass`` of its attention, at most ``k_max``), so a click at 8,000 tokens moves a few hundred
kilobytes instead of a dense ``[T, T]`` block. Only ``head``/``layer``/``top_k`` of the
attention object are used: the lazy attention of long inputs works as the dense one does.
"""

from __future__ import annotations

import numpy as np
import traitlets

from headlab.errors import InputError
from headlab.head_names import parse_head
from headlab.views import mime, payload, svg
from headlab.views.base import View
from headlab.views.protocol import head_key
from headlab.views.sparse import (BUFFERS, DEFAULT_K_MAX, DEFAULT_MASS, ReplyCache, TopKCache, TopKTap, pack_sparse,
                                  sparse_rows, window_rows)
from headlab.views.thumbnails import held_weights

__all__ = ["AttentionState", "AttentionView", "MAX_OVERLAY", "EARLY_ROWS"]

#: at most this many heads overlaid in one attention view
MAX_OVERLAY = 8
#: queries around the page's focus a long head's first reply carries (``_early_reply``): wider
#: than the arcs' window (48 units, 160 as lines), so a few steps of the focus stay served
EARLY_ROWS = 256
#: work (heads x T x T) above which a view is shown first and its saved output completed later
_DEFER_CELLS = 2_000_000
#: ``to_html`` embeds every head when heads x T x T is at most this
_EXPORT_ALL_CELLS = 6_000_000


class AttentionState(traitlets.HasTraits):
    """Traits and pattern service of views that show attention (AttentionView, Explorer)."""

    tokens = traitlets.List(traitlets.Unicode()).tag(sync=True)
    units = traitlets.List().tag(sync=True)
    special = traitlets.List(traitlets.Int()).tag(sync=True)
    heads = traitlets.List().tag(sync=True)
    mode = traitlets.Enum(["auto", "arcs", "lines", "matrix", "strip"], "auto").tag(sync=True)
    level = traitlets.Enum(["token", "word"], "token").tag(sync=True)
    top_k = traitlets.Int(3, min=0).tag(sync=True)
    #: weight below which edges are hidden; None adapts to the input (about as many edges as units)
    threshold = traitlets.Float(None, allow_none=True, min=0.0, max=1.0).tag(sync=True)
    #: token the heat-strip and the windowed arcs centre on (-1: the page picks one, from the first
    #: head it draws, and keeps it across heads)
    focus_token = traitlets.Int(-1, min=-1).tag(sync=True)
    #: heat-strip colours: attention *from* the focused token or *to* it
    direction = traitlets.Enum(["from", "to"], "from").tag(sync=True)
    encoding = traitlets.Enum(["uint8", "float16"], "uint8")
    mass = traitlets.Float(DEFAULT_MASS, min=0.01, max=1.0)
    k_max = traitlets.Int(DEFAULT_K_MAX, min=1, max=255)

    _att = None   # the attention object (kept in the kernel, never synced)

    def _init_attention(self, att) -> dict:
        if not (hasattr(att, "tokens") and callable(getattr(att, "top_k", None))
                and callable(getattr(att, "head", None))):
            raise InputError("expected a headlab.Attention (tokens, head, layer, top_k); "
                             "pass the one m.attention(text) returns")
        w = held_weights(att)
        if w is not None and (np.ndim(w) != 4 or w.shape[2] != w.shape[3]):
            raise InputError("expected a headlab.Attention with weights [n_layers, n_heads, T, T]; "
                             "pass the one m.attention(text) returns")
        if w is not None and len(att.tokens) != w.shape[2]:
            raise InputError(f"{len(att.tokens)} tokens but attention over {w.shape[2]} positions; pass the "
                             "tokens and the attention of the same text (m.attention(text) gives both)")
        self._att = att
        self._L, self._H = (int(w.shape[0]), int(w.shape[1])) if w is not None else (int(att.n_layers), int(att.n_heads))
        self._topk = TopKCache()
        self._replies = ReplyCache()
        mask = getattr(att, "special_mask", None)
        special = [int(i) for i in np.nonzero(np.asarray(mask, dtype=bool))[0]] if mask is not None else []
        return dict(tokens=[str(t) for t in att.tokens], units=payload.text_units(att), special=special)

    @traitlets.validate("heads")
    def _check_heads(self, proposal):
        L, H = (self._L, self._H) if self._att is not None else (10**9, 10**9)
        out = []
        for v in proposal["value"]:
            h = list(parse_head(v, L, H))
            if h not in out:
                out.append(h)
        return out[-MAX_OVERLAY:]

    # ------------------------------------------------------------ patterns
    def pattern(self, layer: int, head: int) -> np.ndarray:
        """Token-level attention of one head, float32 ``[T, T]`` (rows = queries)."""
        l, h = parse_head((layer, head), self._L, self._H)
        return np.asarray(self._att.head(l, h), dtype=np.float32)

    def sparse(self, layer: int, head: int):
        """One head as the page receives it on a click: ``headlab.views.sparse.SparsePattern``."""
        l, h = parse_head((layer, head), self._L, self._H)
        keys, w = self._topk.get(self._att, l, h, self.k_max)
        return sparse_rows(keys, w, len(self.tokens), mass=self.mass, k_max=self.k_max)

    def prefetch(self, heads=None, *, background: bool = True):
        """Compute the patterns of ``heads`` (default: all, the ones on display and the strongest
        first) before they are clicked, so a click only sends them. On long inputs a click that
        must first compute its head costs what the attention costs; this moves that cost earlier.
        Returns the background thread (or None). Kept heads are bounded by the kernel cache (64 MB)."""
        import threading

        order = self._payload_heads() if heads is None else [parse_head(v, self._L, self._H) for v in heads]
        fit = max(1, self._topk.max_bytes // (8 * len(self.tokens) * min(self.k_max, len(self.tokens))))
        order = order[:fit]                # more would push the first (most wanted) ones out again

        def run():
            for l, h in order:
                self._topk.get(self._att, l, h, self.k_max)

        if not background:
            run()
            return None
        t = threading.Thread(target=run, name="headlab-prefetch", daemon=True)
        t.start()
        return t

    def _reply_key(self, layer: int, head: int) -> tuple:
        return (layer, head, float(self.mass), int(self.k_max), self.encoding)

    def _tap_head(self, layer: int, head: int) -> TopKTap | None:
        """While the thumbnail pass rebuilds a head of a lazy attention (it taps no held one: a
        click reads that at once), keep its click reply too (``ReplyCache``): a click on it then
        sends bytes instead of computing the head again. None when the budget is full."""
        if self._replies.full():
            return None
        key, T = self._reply_key(layer, head), len(self.tokens)
        mass, k_max, encoding = key[2:]

        def keep(keys, weights):
            self._replies.offer(key, pack_sparse(sparse_rows(keys, weights, T, mass=mass, k_max=k_max), encoding))

        return TopKTap(min(k_max, T), done=keep)

    @traitlets.observe("mass", "k_max", "encoding")
    def _drop_replies(self, _change):
        if self._att is not None:
            self._replies.clear()      # made under the old settings: never sent, so free their bytes

    def _packed(self, layer: int, head: int) -> dict:
        """One head as a click or an export sends it: a reply the thumbnail pass kept, else made now."""
        packed = self._replies.get(self._reply_key(layer, head))
        return packed if packed is not None else pack_sparse(self.sparse(layer, head), self.encoding)

    def _early_reply(self, layer: int, head: int, near) -> tuple[dict, tuple[int, int]] | None:
        """The rows around token ``near`` of a head that must still be computed, packed as a
        click sends them, with the queries ``[lo, hi)`` they cover; None when the whole head is
        at hand (held, kept or cached), is short, or the attention cannot compute rows alone.

        A long head that must still be computed costs every row's softmax and top keys (0.55 s of
        CPU for a causal GPT-2 head at 8,192 tokens); the page draws its windowed arcs and strip
        from the ``EARLY_ROWS`` queries around its focus, which cost 0.03 s
        (``benchmarks/long_context.py``).
        """
        T = len(self.tokens)
        if (isinstance(near, bool) or not isinstance(near, int) or not 0 <= near < T or T < 2 * EARLY_ROWS
                or not callable(getattr(self._att, "rows", None)) or held_weights(self._att) is not None
                or self._replies.get(self._reply_key(layer, head)) is not None
                or self._topk.cached(layer, head, self.k_max, T)):
            return None
        from headlab.attention import top_k_rows

        lo = min(max(0, near - EARLY_ROWS // 2), T - EARLY_ROWS)
        keys, weights = top_k_rows(np.asarray(self._att.rows(layer, head, lo, lo + EARLY_ROWS), np.float32),
                                   min(self.k_max, T))
        part = window_rows(keys, weights, lo, T, mass=self.mass, k_max=self.k_max)
        return pack_sparse(part, self.encoding, rows=(lo, lo + EARLY_ROWS)), (lo, lo + EARLY_ROWS)

    def _send_pattern(self, rid, layer: int, head: int, packed: dict, rows: tuple[int, int]) -> None:
        meta = {k: v for k, v in packed.items() if k not in BUFFERS}
        self.send({"kind": "pattern", "rid": rid, "layer": layer, "head": head, **meta, "rows": list(rows)},
                  buffers=[packed[b] for b in BUFFERS])

    def _on_custom_msg(self, _widget, content, _buffers):
        if not isinstance(content, dict):
            return
        rid = content.get("rid")
        try:
            if content.get("kind") == "pattern":
                l, h = parse_head((content.get("layer"), content.get("head")), self._L, self._H)
                early = self._early_reply(l, h, content.get("near", -1))
                if early is not None:          # the rows around the page's focus first, the whole head next
                    self._send_pattern(rid, l, h, *early)
                self._send_pattern(rid, l, h, self._packed(l, h), (0, len(self.tokens)))
            else:
                self._on_other_msg(content)
        except Exception as exc:   # errors travel back to the view that asked
            self.send({"kind": "error", "rid": rid, "message": str(exc)})

    def _on_other_msg(self, content: dict) -> None:
        """Messages other than pattern requests (the Explorer answers catalogue requests)."""

    # ------------------------------------------------------------ saved outputs
    def _all_heads(self) -> list[tuple[int, int]]:
        return [(l, h) for l in range(self._L) for h in range(self._H)]

    def _shown_heads(self) -> list[tuple[int, int]]:
        out = [tuple(h) for h in self.heads]
        sel = getattr(self, "selected", None)
        if sel is not None and tuple(sel) not in out:
            out.append(tuple(sel))
        return out

    def _payload_heads(self) -> list[tuple[int, int]]:
        """Heads in the order a saved payload embeds them: those on display first."""
        first = self._shown_heads()
        return first + [hd for hd in self._all_heads() if hd not in first]

    def _payload_rows(self, layer: int, head: int, k: int, compute: bool = True):
        if not compute and not self._topk.cached(layer, head, k, len(self.tokens)):
            return None
        # computed at the click's k, so a head saved in the output is also an instant click
        keys, w = self._topk.get(self._att, layer, head, max(k, self.k_max))
        return keys[:, :k], w[:, :k]

    def _deferred(self) -> bool:
        T = len(self.tokens)
        if self._L * self._H * T * T <= _DEFER_CELLS:
            return False
        return not all(self._topk.cached(l, h, mime.PAYLOAD_K[0], T) for l, h in self._all_heads())

    def _export_extra(self, heads=None) -> dict:
        """Sparse patterns ``to_html`` embeds: every head when the input is small, else those on display."""
        T = len(self.tokens)
        if heads is None:
            heads = "all" if self._L * self._H * T * T <= _EXPORT_ALL_CELLS else self._shown_heads()
        if heads == "all":
            heads = self._all_heads()
        pre = {}
        for v in heads:
            l, h = parse_head(v, self._L, self._H)
            pre[head_key(l, h)] = self._packed(l, h)
        return {"preload": pre}

    def _arcs_picture(self, final: bool) -> svg.Part | None:
        shown = self._shown_heads()
        if not shown:
            return None
        l, h = shown[0]
        rows = self._payload_rows(l, h, 2, compute=final)
        if rows is None:
            return None
        labels = list(self.tokens)
        focus = self.focus_token if self.focus_token >= 0 else int(np.argmax(rows[1][:, 0] * (rows[0][:, 0] != np.arange(len(labels)))))
        return mime.arcs_picture(labels, rows, head_key(l, h), self.special, focus)

    def _attention_summary(self) -> str:
        heads = ", ".join(head_key(l, h) for l, h in self.heads) or "none"
        return f"{len(self.tokens)} tokens, heads {heads}"


class AttentionView(View, AttentionState):
    """One or more heads on a text: arcs, bipartite lines, a heat-strip or a matrix.

    ``heads``: a ``(layer, head)`` pair or a list of them (overlaid in distinct colours).
    ``mode``: ``"auto"`` (arcs up to 80 units; above, a heat-strip of the focused token with
    arcs windowed around it), ``"arcs"``, ``"lines"``, ``"strip"`` or ``"matrix"`` (zoomable,
    with a block-max overview on long inputs). ``level``: ``"token"`` or ``"word"`` (Clark et
    al.'s aggregation). ``top_k`` and ``threshold`` (``None``: adapts to the input) choose the
    edges drawn; ``focus_token``/``direction`` the token the strip centres on. Patterns are sent one
    head at a time as sparse rows (``mass``, ``k_max``; weights as ``encoding``).
    """

    def __init__(self, att, heads=(0, 0), *, mode="auto", level="token", top_k=3, threshold=None, focus_token=-1,
                 direction="from", encoding="uint8", mass=DEFAULT_MASS, k_max=DEFAULT_K_MAX, title="",
                 bundle_bytes=None, **kwargs):
        init = self._init_attention(att)
        if heads and not isinstance(heads[0], (list, tuple)):
            heads = [heads]
        super().__init__(_view="attention", title=title, mode=mode, level=level, top_k=top_k, threshold=threshold,
                         focus_token=focus_token, direction=direction, encoding=encoding, mass=mass, k_max=k_max,
                         bundle_bytes=bundle_bytes, **init, **kwargs)
        self.heads = [list(h) for h in heads or []]
        self.on_msg(self._on_custom_msg)

    def _deferred(self) -> bool:           # View's default (nothing to finish) would shadow it
        return AttentionState._deferred(self)

    def _summary(self) -> str:
        return f"AttentionView({getattr(self._att, 'model_name', '') or 'model'}: {self._attention_summary()})"

    def _svg(self, doc: dict, final: bool = True) -> str:
        part = self._arcs_picture(final)
        return svg.document([part] if part else [svg.lines_part([], caption=self._summary())])
