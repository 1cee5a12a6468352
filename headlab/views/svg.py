"""Static pictures of the views (``image/svg+xml``): for viewers where no headlab code runs.

nbconvert's HTML, GitHub's notebook viewer and VS Code show this picture of a view: the grid of
the role on display (significant heads dotted) and the arcs of the selected head. The SVG holds
no script, no link and no external reference; every token and label is escaped text (and
characters XML cannot hold are dropped), so a token such as ``<img src=x onerror=alert(1)>``
is drawn, never run. Colours are the live grid's and the report's (``views/scales.py``); arcs
end in an arrowhead at the key they point to.
"""

from __future__ import annotations

import math
import re
from typing import Sequence

import numpy as np

from headlab.views import scales

__all__ = ["escape", "grid_part", "arcs_part", "lines_part", "document", "Part"]

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FONT = "font-family:system-ui,-apple-system,'Segoe UI',sans-serif"
#: tokens drawn in the arcs picture (a window around the focus on long inputs)
MAX_UNITS = 40
#: what the arcs mean (the live view's legend says the same, js/src/arcs.ts)
ARC_LEGEND = "arc: from a query token to the key it attends to (arrowhead at the key); above: earlier keys, below: later keys"

Part = tuple[str, float, float]     # (svg elements, width, height)


def escape(text) -> str:
    """Text for an SVG text node or attribute: XML-invalid characters dropped, markup escaped."""
    s = _INVALID_XML.sub("", str(text))
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def _short(label: str, n: int = 14) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def grid_part(scores: np.ndarray, sig: np.ndarray | None = None, *, caption: str = "",
              selected: Sequence[int] | None = None, kind: str = "own") -> Part:
    """Layers x heads cells of one role (``scores`` float ``[L, H]``, NaN = missing), a white or
    black dot on significant heads (``sig`` bool ``[L, H]``), the selected head outlined.

    Colours are the shared scale (``views/scales.py``) of the role's ``kind``: a lift of 0.3 is
    the same colour here, in the live grid and in the HTML report; ``own`` spans the role's
    values and the legend says so."""
    scores = np.asarray(scores, dtype=np.float64)
    L, H = scores.shape
    c = max(10, min(24, 480 // max(1, H)))
    left, top = 34, 34
    lo, hi = scales.domain(kind, scores.ravel())
    out = [f'<text x="0" y="14" font-size="13" font-weight="600">{escape(caption)}</text>']
    for h in range(0, H, 4 if H > 16 else 1):
        out.append(f'<text x="{_num(left + h * c + c / 2)}" y="{top - 5}" font-size="9" text-anchor="middle" '
                   f'fill="#555">{h}</text>')
    for l in range(L):
        out.append(f'<text x="{left - 5}" y="{_num(top + l * c + c / 2 + 3)}" font-size="9" text-anchor="end" '
                   f'fill="#555">L{l}</text>')
        for h in range(H):
            v = scores[l, h]
            fill = scales.colour(v if math.isfinite(v) else None, lo, hi)
            x, y = left + h * c, top + l * c
            out.append(f'<rect x="{x}" y="{y}" width="{c - 1}" height="{c - 1}" fill="{fill}"/>')
            if sig is not None and bool(sig[l, h]) and math.isfinite(v):
                dot = "#000" if _luminance(fill) > 0.179 else "#fff"
                out.append(f'<circle cx="{_num(x + (c - 1) / 2)}" cy="{_num(y + (c - 1) / 2)}" '
                           f'r="{_num(max(2, c * 0.16))}" fill="{dot}"/>')
    if selected is not None:
        l, h = int(selected[0]), int(selected[1])
        out.append(f'<rect x="{left + h * c - 1}" y="{top + l * c - 1}" width="{c + 1}" height="{c + 1}" '
                   'fill="none" stroke="#000" stroke-width="2.5"/>')
    legend_y = top + L * c + 16
    x = left
    if lo < 0:                                    # the below-zero ramp, from lo (left) up to just below 0
        for i in range(10):
            out.append(f'<rect x="{x + i * 5}" y="{legend_y - 9}" width="5.5" height="9" '
                       f'fill="{scales.negative(1 - i / 9)}"/>')
        x += 50
    for i in range(20):
        out.append(f'<rect x="{x + i * 7}" y="{legend_y - 9}" width="7.5" height="9" fill="{scales.viridis(i / 19)}"/>')
    note = (f"{_fmt(lo)} … {'0 … ' if lo < 0 else ''}{_fmt(hi)}"
            + ("  (range of this role)" if kind not in scales.FIXED_DOMAINS else "")
            + ("   ● significant" if sig is not None and np.any(sig) else ""))
    out.append(f'<text x="{x + 146}" y="{legend_y}" font-size="10" fill="#444">{escape(note)}</text>')
    return "\n".join(out), max(left + H * c + 4, x + 420), legend_y + 8


def _luminance(hex_colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb`` (0.179: where black and white text read equally well)."""
    chans = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in chans]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _fmt(v: float) -> str:
    return "–" if not math.isfinite(v) else f"{v:.3g}"


def arcs_part(labels: Sequence[str], edges: Sequence[tuple[int, int, float]], *, caption: str = "",
              special: frozenset | set = frozenset(), first: int = 0) -> Part:
    """Tokens ``labels`` (the window starting at token ``first``) in reading order, an arc from
    each query to its keys (``edges``: (query, key, weight) with window-relative indices),
    earlier keys above the line and later keys below, width and opacity by weight."""
    widths = [max(22.0, min(96.0, len(_short(t)) * 6.6 + 10)) for t in labels]
    xs, cur = [], 12.0
    for w in widths:
        xs.append(cur + w / 2)
        cur += w
    up = max([min(120.0, abs(xs[q] - xs[k]) * 0.5 + 6) for q, k, _ in edges if k < q] + [10.0])
    down = max([min(120.0, abs(xs[q] - xs[k]) * 0.5 + 6) for q, k, _ in edges if k > q] + [10.0])
    y = 22 + up + 12
    out = [f'<text x="0" y="14" font-size="13" font-weight="600">{escape(caption)}</text>']
    for q, k, w in edges:
        t = max(0.0, min(1.0, float(w)))
        style = f'stroke="#0072B2" stroke-width="{_num(0.6 + 4 * t)}" stroke-opacity="{0.2 + 0.8 * t:.2f}" fill="none"'
        if q == k:
            out.append(f'<circle cx="{_num(xs[q])}" cy="{_num(y - 16)}" r="{_num(1.5 + 3 * t)}" fill="#0072B2" '
                       f'fill-opacity="{0.2 + 0.8 * t:.2f}"/>')
            continue
        side = -1 if k < q else 1
        h = min(120.0, abs(xs[q] - xs[k]) * 0.5 + 6) * 1.33
        y0 = y + side * 9
        out.append(f'<path d="M{_num(xs[q])},{_num(y0)} C{_num(xs[q])},{_num(y0 + side * h)} '
                   f'{_num(xs[k])},{_num(y0 + side * h)} {_num(xs[k])},{_num(y0)}" {style}/>')
        # the arc arrives vertically at its key: an arrowhead pointing at the key token
        out.append(f'<path class="arrow" d="M{_num(xs[k] - 3)},{_num(y0 + side * 5)} L{_num(xs[k])},{_num(y0)} '
                   f'L{_num(xs[k] + 3)},{_num(y0 + side * 5)} Z" fill="#0072B2" fill-opacity="{0.35 + 0.65 * t:.2f}"/>')
    for i, lab in enumerate(labels):
        fill = "#999" if (first + i) in special else "#222"
        out.append(f'<text x="{_num(xs[i])}" y="{_num(y + 4)}" font-size="11" text-anchor="middle" '
                   f'font-family="monospace" fill="{fill}">{escape(_short(lab))}</text>')
    out.append(f'<text x="0" y="{_num(y + down + 30)}" font-size="10" fill="#444">{escape(ARC_LEGEND)}</text>')
    return "\n".join(out), max(cur + 12, 6.0 * len(ARC_LEGEND)), y + down + 36


def lines_part(lines: Sequence[str], *, caption: str = "") -> Part:
    """Plain lines of text (catalogue lists, notes)."""
    out = [f'<text x="0" y="14" font-size="13" font-weight="600">{escape(caption)}</text>']
    for i, line in enumerate(lines):
        out.append(f'<text x="0" y="{34 + 16 * i}" font-size="11" fill="#333">{escape(line)}</text>')
    width = max([len(caption) * 7.5] + [len(s) * 6.2 for s in lines] + [200])
    return "\n".join(out), width, 40 + 16 * len(lines)


def document(parts: Sequence[Part], max_width: float = 960) -> str:
    """Stack parts vertically in one standalone SVG (white background, no script, no link)."""
    y, body, width = 8.0, [], 0.0
    for elements, w, h in parts:
        body.append(f'<g transform="translate(8,{_num(y)})">\n{elements}\n</g>')
        y += h + 12
        width = max(width, w + 16)
    shown = min(width, max_width)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(shown)}" height="{_num(y * shown / width)}" '
            f'viewBox="0 0 {_num(width)} {_num(y)}" style="{_FONT}">\n'
            f'<rect width="100%" height="100%" fill="#fff"/>\n' + "\n".join(body) + "\n</svg>")
