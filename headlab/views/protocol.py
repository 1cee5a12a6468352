"""The contract between the Python widgets and the front end (``js/src/protocol.ts``).

Everything the two sides must agree on lives here and in its TypeScript twin, and
``tests/unit/test_protocol.py`` holds them to each other: the synced trait names of every view,
the custom messages (a pattern request and its two possible replies), the key of a head in
every ``{head: ...}`` map, the grid's fields, what the numbers mean (``score_info``: each
role's colour-scale kind and sieve description, the q correction, the CI level) and the pooled
patterns of the grid's thumbnails (``thumbs``).

Messages (``model.send`` from the page, ``widget.send`` from the kernel)::

    page -> kernel   {"kind": "pattern", "rid": str, "layer": int, "head": int, "near": int}
    kernel -> page   {"kind": "pattern", "rid": str, "layer": int, "head": int, "n": T,
                      "key_dtype", "weight_dtype", "mass", "k_max", "kept_mean", "kept_min",
                      "rows": [lo, hi]}
                     + buffers [counts, keys, weights, scale]   (sparse rows: views/sparse.py)
    page -> kernel   {"kind": "entry", "rid": str, "id": str}        (a catalogue entry not synced)
    kernel -> page   {"kind": "entry", "rid": str, "entry": {...}}
    kernel -> page   {"kind": "error", "rid": str, "message": str}

``rid`` is the request id the page chose; replies carry it back so that each view only takes
its own answers. ``near`` is the token the page will centre on (-1: none yet). A pattern reply
carries the queries ``rows = [lo, hi)``: ``[0, T]`` for the whole head. A long head that must
still be computed first gets a reply with only the ``EARLY_ROWS`` queries around ``near`` (the
others keep no key), then the whole head, under the same ``rid``. A plain custom message, rather than anywidget's experimental ``invoke``, is
used because it also works in hosts without ``invoke`` (marimo) and lets the page show its own
"kernel not connected" state.

The kernel-free payload (``application/vnd.headlab.v1+json``, views/mime.py) is::

    {"version": 1, "view": "grid" | "attention" | "explorer" | "catalog",
     "state": {...synced traits, binary leaves null..., "_static": true,
               "preload": {head key: packed sparse pattern}},
     "buffers": [{"path": [...], "data": "<base64>"}],
     "budget": {"heads_embedded": n, "heads_total": m, "how": "..."}}
"""

from __future__ import annotations

from headlab.head_names import head_label

__all__ = ["MIME_TYPE", "PAYLOAD_VERSION", "PAYLOAD_KEYS", "BUDGET_KEYS", "SPARSE_FIELDS", "GRID_FIELDS",
           "SCORE_INFO_KEYS", "THUMB_KEYS", "GRID_MODES", "TRAITS", "MESSAGES", "head_key"]

#: the mime type of headlab's kernel-free payload (rendered by the JupyterLab extension)
MIME_TYPE = "application/vnd.headlab.v1+json"
#: the payload's format version and keys, and the keys of its ``budget``
PAYLOAD_VERSION = 1
PAYLOAD_KEYS = ["version", "view", "state", "buffers", "budget"]
BUDGET_KEYS = ["heads_embedded", "heads_total", "how"]
#: fields of one packed sparse pattern (a reply's buffers follow the last four in this order)
SPARSE_FIELDS = ["n", "key_dtype", "weight_dtype", "mass", "k_max", "kept_mean", "kept_min",
                 "counts", "keys", "weights", "scale"]

#: the fields of the grid array ``[roles, fields, layers, heads]``, in order (``n``: samples the
#: role applied to, the samples its test and CI used)
GRID_FIELDS = ["score", "ci_low", "ci_high", "p", "q", "sig", "n"]
#: keys of the grid's ``score_info``: what the numbers mean, so the page can say it where they are.
#: ``method`` (lift, pande, probe, compare, or ""), ``kinds`` (role -> colour scale kind, see
#: ``views/scales.py``), ``descriptions`` (role -> the registry's one-line sieve description),
#: ``correction`` (how q was adjusted, e.g. fdr_bh) and ``ci_level`` (e.g. 0.95)
SCORE_INFO_KEYS = ["method", "kinds", "descriptions", "correction", "ci_level"]
#: keys of the grid's ``thumbs``: every head's pattern pooled into at most 16 x 16 blocks of
#: ``block`` tokens, uint8 ``[L, H, S, S]``, value = byte / 255 = the share of a query block's
#: attention on a key block (``views/thumbnails.py``)
THUMB_KEYS = ["shape", "dtype", "buf", "block"]
#: what a grid's cells can show (each head's score for the role, or each head's attention pattern)
GRID_MODES = ["scores", "patterns"]

_COMMON = ["_view", "title"]
_GRID = ["n_layers", "n_heads", "model_name", "roles", "role", "grid", "fields", "has_stats", "alpha",
         "matches", "role_matches", "selected", "highlight", "highlight_label", "pending", "notice",
         "score_info", "grid_mode", "thumbs"]
_ATTENTION = ["tokens", "units", "special", "heads", "mode", "level", "top_k", "threshold", "focus_token", "direction"]

#: synced trait names per view (``_view`` value -> names); the TypeScript interfaces list the same
TRAITS: dict[str, list[str]] = {
    "grid": _COMMON + _GRID,
    "attention": _COMMON + _ATTENTION,
    "explorer": _COMMON + _GRID + _ATTENTION + ["catalog", "catalog_index", "catalog_heads", "entry"],
    "catalog": _COMMON + ["entries", "query", "stage", "entry"],
}

#: custom message kinds and their fields (besides ``kind``)
MESSAGES: dict[str, list[str]] = {
    "pattern_request": ["rid", "layer", "head", "near"],
    "pattern_reply": ["rid", "layer", "head", "n", "key_dtype", "weight_dtype", "mass", "k_max", "kept_mean", "kept_min",
                      "rows"],
    "entry_request": ["rid", "id"],
    "entry_reply": ["rid", "entry"],
    "error_reply": ["rid", "message"],
}


def head_key(layer: int, head: int) -> str:
    """The key of a head in every map the front end reads (``"L1H8"``: the head's one name)."""
    return head_label(layer, head)
