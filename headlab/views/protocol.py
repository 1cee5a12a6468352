"""The contract between the Python widgets and the front end (``js/src/protocol.ts``).

Everything the two sides must agree on lives here and in its TypeScript twin, and
``tests/unit/test_protocol.py`` holds them to each other: the synced trait names of every view,
the custom messages (a pattern request and its two possible replies), the key of a head in
every ``{head: ...}`` map, and the grid's fields.

Messages (``model.send`` from the page, ``widget.send`` from the kernel)::

    page -> kernel   {"kind": "pattern", "rid": str, "layer": int, "head": int}
    kernel -> page   {"kind": "pattern", "rid": str, "layer": int, "head": int,
                      "shape": [T, T], "dtype": "float16" | "uint8"}   + buffers [data(, row scales)]
    kernel -> page   {"kind": "error", "rid": str, "message": str}

``rid`` is the request id the page chose; replies carry it back so that each view only takes
its own answers. A plain custom message, rather than anywidget's experimental ``invoke``, is
used because it also works in hosts without ``invoke`` (marimo) and lets the page show its own
"kernel not connected" state.
"""

from __future__ import annotations

from headlab.head_names import head_label

__all__ = ["MIME_TYPE", "GRID_FIELDS", "TRAITS", "MESSAGES", "head_key"]

#: the mime type of headlab's kernel-free payload (rendered by the JupyterLab extension)
MIME_TYPE = "application/vnd.headlab.v1+json"

#: the fields of the grid array ``[roles, fields, layers, heads]``, in order
GRID_FIELDS = ["score", "ci_low", "ci_high", "p", "q", "sig"]

_COMMON = ["_view", "title"]
_GRID = ["n_layers", "n_heads", "model_name", "roles", "role", "grid", "fields", "has_stats", "alpha",
         "matches", "role_matches", "selected", "highlight", "highlight_label"]
_ATTENTION = ["tokens", "units", "special", "heads", "mode", "level", "top_k", "threshold"]

#: synced trait names per view (``_view`` value -> names); the TypeScript interfaces list the same
TRAITS: dict[str, list[str]] = {
    "grid": _COMMON + _GRID,
    "attention": _COMMON + _ATTENTION,
    "explorer": _COMMON + _GRID + _ATTENTION + ["catalog", "catalog_heads", "entry"],
    "catalog": _COMMON + ["entries", "query", "stage", "entry"],
}

#: custom message kinds and their fields (besides ``kind``)
MESSAGES: dict[str, list[str]] = {
    "pattern_request": ["rid", "layer", "head"],
    "pattern_reply": ["rid", "layer", "head", "shape", "dtype"],
    "error_reply": ["rid", "message"],
}


def head_key(layer: int, head: int) -> str:
    """The key of a head in every map the front end reads (``"L1H8"``: the head's one name)."""
    return head_label(layer, head)
