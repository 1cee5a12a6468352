"""Each head's attention on the example text as inline SVG, for the per-head sections.

The drawing is BertViz's head view without a script: the tokens twice, queries on the left and
keys on the right, and a line from each query to each of its strongest keys, more opaque the
more attention it carries. Lines always run from a query (left) to a key (right), so the
direction needs no arrowheads; the column heads say it.

To keep 72 drawings small, the token columns are drawn once as an SVG ``<symbol>`` that every
drawing ``<use>``s, the lines of one opacity level share one ``<path>``, and the lines sit in an
inner ``<svg>`` whose user units are rows (``y = i + 0.5``), so each line costs ~14 bytes.
"""

from __future__ import annotations

import numpy as np

from headlab.attention import top_k_rows
from headlab.report.html_format import esc

__all__ = ["TOKENS_SYMBOL", "tokens_symbol", "layer_drawings", "drawing_height", "TOP_K", "MIN_WEIGHT", "MAX_TOKENS"]

TOKENS_SYMBOL = "hltok"
#: keys drawn per query (its strongest ones) and the smallest weight worth a line
TOP_K = 3
MIN_WEIGHT = 0.05
#: longer examples are drawn up to this token (the page says so)
MAX_TOKENS = 64

_HEADER = 16     # px above the first token row (column heads)
_ROW = 12        # px per token row
_TOKW = 88       # px per token column
_GAP = 120       # px between the columns, where the lines run
_WIDTH = 2 * _TOKW + _GAP


def drawing_height(n_tokens: int) -> int:
    return _HEADER + n_tokens * _ROW + 2


def _label(token: str, limit: int = 13) -> str:
    token = token.replace("\n", "⏎")
    return token if len(token) <= limit else token[: limit - 1] + "…"


def tokens_symbol(tokens: list[str]) -> str:
    """A hidden SVG holding the two token columns and their heads, once per page."""
    rows = []
    for i, tok in enumerate(tokens):
        y = _HEADER + i * _ROW + 9
        t = esc(_label(tok))
        rows.append(f'<text x="{_TOKW - 4}" y="{y}">{t}</text><text x="{_TOKW + _GAP + 4}" y="{y}" '
                    f'text-anchor="start">{t}</text>')
    # Document styles do not reach into a <use>'s shadow tree (Chromium), so the text is styled
    # by attributes here and by what it inherits from the <use> (fill, font: see html_style).
    return (f'<svg width="0" height="0" style="position:absolute" aria-hidden="true"><symbol id="{TOKENS_SYMBOL}" '
            f'overflow="visible"><g text-anchor="end"><text x="{_TOKW - 4}" y="10" font-style="italic">query</text>'
            f'<text x="{_TOKW + _GAP + 4}" y="10" text-anchor="start" font-style="italic">key</text>'
            f'{"".join(rows)}</g></symbol></svg>')


def _lines(keys: np.ndarray, weights: np.ndarray) -> str:
    """One ``<path>`` per opacity level (0.1 steps) for one head's top keys ``[T, k]``."""
    T = keys.shape[0]
    queries = np.broadcast_to(np.arange(T)[:, None], keys.shape)
    keep = weights >= MIN_WEIGHT
    level = np.clip(np.ceil(weights[keep] * 10 - 1e-9), 1, 10).astype(int)
    q, k = queries[keep], keys[keep]
    out = []
    for lv in range(1, 11):
        sel = level == lv
        if not sel.any():
            continue
        d = "".join(f"M0 {a + 0.5:g}L1 {b + 0.5:g}" for a, b in zip(q[sel].tolist(), k[sel].tolist()))
        out.append(f'<path stroke-opacity="{lv / 10:g}" d="{d}"/>')
    return "".join(out)


def layer_drawings(layer_weights: np.ndarray, layer: int, n_tokens: int) -> list[str]:
    """The drawings of every head of one layer, ``float [H, T, T]`` -> H SVG strings.

    Only the first ``n_tokens`` tokens are drawn (queries and keys), rows renormalised to the keys
    shown so that a cut example still reads as shares of the visible attention.
    """
    w = np.asarray(layer_weights, dtype=np.float32)[:, :n_tokens, :n_tokens]
    sums = w.sum(-1, keepdims=True)
    w = np.divide(w, sums, out=np.zeros_like(w), where=sums > 0)
    keys, weights = top_k_rows(w, TOP_K)                                   # [H, T, k] each
    height = drawing_height(n_tokens)
    body_h = n_tokens * _ROW
    out = []
    for h in range(w.shape[0]):
        out.append(
            f'<svg class="lines" width="{_WIDTH}" height="{height}" viewBox="0 0 {_WIDTH} {height}" role="img" '
            f'aria-label="L{layer}H{h}: lines from each query token (left) to the keys it attends to most (right)">'
            f'<use href="#{TOKENS_SYMBOL}" class="tk"/>'
            f'<svg x="{_TOKW + 2}" y="{_HEADER}" width="{_GAP - 4}" height="{body_h}" '
            f'viewBox="0 0 1 {n_tokens}" preserveAspectRatio="none">{_lines(keys[h], weights[h])}</svg></svg>'
        )
    return out
