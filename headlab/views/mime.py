"""Kernel-free output: the mime bundle every view (and a report) puts into the notebook.

Beside the live widget (``application/vnd.jupyter.widget-view+json``) each view emits

* ``application/vnd.headlab.v1+json``: a compact, self-contained payload that headlab's
  JupyterLab extension draws with the same front-end code, without a kernel (format in
  ``views/protocol.py``): the synced state, binary leaves as base64 ``buffers``, and a sparse,
  quantised pattern per head (``preload``) as long as they fit the byte budget;
* ``image/svg+xml``: a picture (grid + the selected head's arcs) for viewers without headlab;
* ``text/plain``: one short line.

The budget: ``BUNDLE_BYTES`` (default 1 MB, the whole payload as JSON text) or a view's
``bundle_bytes``. Heads go in priority order (those on display, the selected one, then by the
shown role's score); each query keeps the keys carrying ``PAYLOAD_MASS`` of its attention, at
most 8 (fewer, down to 4, when that lets every head fit). Heads that do not fit are listed in
``budget`` with a sentence on how to see them.
"""

from __future__ import annotations

import base64
import json
import math

import numpy as np

from headlab.views import svg
from headlab.views.protocol import MIME_TYPE, PAYLOAD_VERSION, head_key
from headlab.views.sparse import pack_sparse, sparse_rows

__all__ = ["BUNDLE_BYTES", "PAYLOAD_MASS", "PAYLOAD_K", "bundle", "payload", "report_bundle", "synced_state",
           "split_buffers", "budget_sentence"]

#: byte budget of one output's payload (its JSON text, base64 included); change it here for every
#: view, or per view with ``bundle_bytes=``
BUNDLE_BYTES = 1_000_000
#: share of each query's attention a saved pattern aims to keep
PAYLOAD_MASS = 0.9
#: keys per query tried for saved patterns, most first: the first level at which every head fits
#: is used; if none fits, the last level and as many heads as fit
PAYLOAD_K = (8, 6, 4)

#: traits of the widget framework, not of the view
_FRAMEWORK = {"_esm", "_css", "_anywidget_id", "layout", "_dom_classes", "tabbable", "tooltip", "comm", "keys", "log"}


def split_buffers(value, path=()):
    """Replace every bytes-like leaf by None; return (clean value, [(path, bytes)])."""
    found = []

    def walk(v, p):
        if isinstance(v, (bytes, bytearray, memoryview)):
            found.append((list(p), bytes(v)))
            return None
        if isinstance(v, dict):
            return {k: walk(x, p + (k,)) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [walk(x, p + (i,)) for i, x in enumerate(v)]
        return v

    return walk(value, tuple(path)), found


def synced_state(widget) -> dict:
    """The view's synced traits as the front end receives them (memoryview leaves), no framework keys."""
    return {k: v for k, v in widget.get_state().items()
            if k not in _FRAMEWORK and (k == "_view" or not (k.startswith("_model_") or k.startswith("_view_")))}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _doc(view: str, state: dict, budget: dict) -> dict:
    clean, bufs = split_buffers(state)
    return {"version": PAYLOAD_VERSION, "view": view, "state": clean,
            "buffers": [{"path": p, "data": _b64(b)} for p, b in bufs], "budget": budget}


def _size(doc: dict) -> int:
    """Bytes the payload takes in a saved notebook (nbformat writes JSON indented by one space)."""
    return len(json.dumps(doc, indent=1, allow_nan=True))


def _entry_size(key: str, packed: dict) -> int:
    """Bytes one packed pattern adds to the payload's JSON (state entry + base64 buffers)."""
    clean, bufs = split_buffers({key: packed}, ("state", "preload"))
    text = json.dumps(clean, indent=1)
    return len(text) + sum(len(json.dumps(p, indent=1)) + 4 * math.ceil(len(b) / 3) + 60 for p, b in bufs)


def budget_sentence(embedded: int, total: int, budget_bytes: int, final: bool = True) -> str:
    """How to see the heads a payload left out (empty when none were)."""
    if total == 0 or embedded >= total:
        return ""
    if not final:
        return ("This output was saved while the view was still being prepared: re-run the cell with a "
                "kernel to see every head.")
    return (f"{embedded} of {total} heads are saved in this output (budget {budget_bytes / 1e6:g} MB). "
            "Re-run the cell with a kernel to see the others, or raise the budget before displaying: "
            "headlab.views.mime.BUNDLE_BYTES = 4_000_000, or bundle_bytes=4_000_000 on the view.")


def _fit(widget, room: int, final: bool) -> tuple[dict, int]:
    """Packed patterns of the view's heads, in priority order, within ``room`` bytes.

    The keys per query (``PAYLOAD_K``): the most at which every head is sure to fit (each query
    keeping all of them: ``T`` counts and scales + ``T x k`` keys and weights), else the fewest;
    then heads are added while they fit, so only heads that end up in the payload are computed
    (each costs what its attention costs on a long input).
    """
    heads = widget._payload_heads()
    T = len(widget.tokens)

    def packed(l, h, k):
        rows = widget._payload_rows(l, h, PAYLOAD_K[0], compute=final)
        return None if rows is None else pack_sparse(sparse_rows(rows[0], rows[1], T, mass=PAYLOAD_MASS, k_max=k))

    def most(k):                       # base64 of counts, scales, keys and weights, plus the entry's JSON
        return 4 * math.ceil((3 * T + 3 * T * min(k, T)) / 3) + 600

    k = next((level for level in PAYLOAD_K if most(level) * len(heads) <= room), PAYLOAD_K[-1])
    chosen, used = {}, 0
    for l, h in heads:
        p = packed(l, h, k)
        if p is None:
            continue
        key = head_key(l, h)
        size = _entry_size(key, p)
        if used + size > room:
            break
        chosen[key] = p
        used += size
    return chosen, len(heads)


def payload(widget, *, budget_bytes: int | None = None, final: bool = True) -> dict:
    """The ``application/vnd.headlab.v1+json`` value of one view (format: ``views/protocol.py``).

    ``final=False`` is the quick form shown at once: only patterns already computed are embedded.
    """
    budget_bytes = int(budget_bytes if budget_bytes is not None else getattr(widget, "bundle_bytes", None)
                       or BUNDLE_BYTES)
    state = synced_state(widget)
    state["_static"] = True
    if state.get("pending"):      # a saved output cannot fill these in: say so instead of "scoring..."
        state["notice"] = (f"{len(state['pending'])} role(s) were still being scored when this output was made "
                           f"({', '.join(state['pending'][:6])}): re-run the cell with a kernel to see them.")
        state["pending"] = []
    view = state.get("_view", "")
    empty = {"heads_embedded": 0, "heads_total": 0, "how": ""}
    if not hasattr(widget, "_payload_heads"):
        return _doc(view, state, empty)
    base = _size(_doc(view, {**state, "preload": {}}, {**empty, "how": budget_sentence(0, 2, budget_bytes)}))
    preload, total = _fit(widget, budget_bytes - base, final)
    while True:
        budget = {"heads_embedded": len(preload), "heads_total": total,
                  "how": budget_sentence(len(preload), total, budget_bytes, final)}
        doc = _doc(view, {**state, "preload": preload}, budget)
        if len(preload) == 0 or _size(doc) <= budget_bytes:
            return doc
        preload.pop(next(reversed(preload)))            # an estimate was short: drop the last head


def bundle(widget, *, budget_bytes: int | None = None, final: bool = True) -> dict:
    """The kernel-free parts of a view's mime bundle: headlab payload, SVG picture, one line of text."""
    doc = payload(widget, budget_bytes=budget_bytes, final=final)
    return {MIME_TYPE: doc, "image/svg+xml": widget._svg(doc, final), "text/plain": widget._summary()}


# ---------------------------------------------------------------- pictures of the parts of a view
def grid_picture(state: dict, roles_grid: np.ndarray | None) -> svg.Part | None:
    """The grid part of a picture from synced traits and the decoded ``[R, F, L, H]`` grid."""
    roles = list(state.get("roles") or [])
    if roles_grid is None or not roles:
        return None
    role = state.get("role") or roles[0]
    r = roles.index(role) if role in roles else 0
    fields = list(state.get("fields") or ["score"])
    scores = roles_grid[r, fields.index("score")]
    sig = roles_grid[r, fields.index("sig")] > 0 if "sig" in fields and state.get("has_stats") else None
    model = state.get("model_name") or "model"
    caption = f"{model}: {role}" + (" (scores on this text, no test)" if not state.get("has_stats") else "")
    kinds = (state.get("score_info") or {}).get("kinds") or {}
    return svg.grid_part(scores, None if sig is None else np.nan_to_num(sig), caption=caption,
                         selected=state.get("selected"), kind=kinds.get(role, "own"))


def arcs_picture(labels: list[str], rows: tuple[np.ndarray, np.ndarray], head: str, special, focus: int) -> svg.Part:
    """Arcs of one head (top-2 keys per query above an adaptive weight) in a window around ``focus``."""
    keys, w = rows
    T = len(labels)
    lo = max(0, min(T - svg.MAX_UNITS, focus - svg.MAX_UNITS // 2)) if T > svg.MAX_UNITS else 0
    hi = min(T, lo + svg.MAX_UNITS)
    edges = []
    for q in range(lo, hi):
        for j in range(min(2, keys.shape[1])):
            k, weight = int(keys[q, j]), float(w[q, j])
            if lo <= k < hi and weight > 0 and (j == 0 or weight >= 0.1):
                edges.append((q - lo, k - lo, weight))
    window = f", tokens {lo}-{hi - 1} of {T}" if T > svg.MAX_UNITS else ""
    return svg.arcs_part(labels[lo:hi], edges, caption=f"{head}: strongest keys per query{window}",
                         special=set(special), first=lo)


def report_bundle(report, role: str | None = None, *, catalog: list[dict] | None = None, title: str = "",
                  budget_bytes: int | None = None) -> dict:
    """The kernel-free bundle of a report-like object, without a live widget (for ``Report._repr_mimebundle_``).

    ``report`` is duck-typed as :class:`headlab.views.HeadGrid` takes it (``.table``, ``.roles``,
    ``.n_layers``, ``.n_heads``, ``.alpha``, ``.model_name``); ``catalog``: the catalogue summaries
    to name published heads with. Returns ``{application/vnd.headlab.v1+json, image/svg+xml,
    text/plain}``: the grid view of the report, drawn by the JupyterLab extension.
    """
    from headlab.views.codec import pack_array
    from headlab.views.payload import grid_dtype, grid_state

    st = grid_state(report, role, catalog=catalog, title=title)
    grid = st["grid"]
    state = {"_view": "grid", **st, "grid": pack_array(grid, grid_dtype(grid, st["fields"])), "selected": None,
             "grid_mode": "scores", "thumbs": None, "_static": True}
    doc = _doc("grid", state, {"heads_embedded": 0, "heads_total": 0, "how": ""})
    if budget_bytes is not None and _size(doc) > budget_bytes:
        doc["budget"]["how"] = "This report's grid is larger than the budget; open the report file instead."
    part = grid_picture(state, grid)
    n_sig = int(np.nansum(grid[:, st["fields"].index("sig")] > 0)) if "sig" in st["fields"] else 0
    text = (f"headlab report: {st['model_name'] or 'model'}, {len(st['roles'])} roles x {st['n_layers']} layers x "
            f"{st['n_heads']} heads" + (f", {n_sig} significant head-role pairs (q < {st['alpha']:g})" if n_sig else ""))
    return {MIME_TYPE: doc, "image/svg+xml": svg.document([part] if part else []), "text/plain": text}
