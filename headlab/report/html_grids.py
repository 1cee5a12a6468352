"""The head grids of the report: one score heatmap per role, and the pattern thumbnails.

Every cell is a link to its head's section (``#L{l}H{h}``) whose ``<title>`` is both the tooltip
and the link's accessible name. The two views of the grid - scores per role, and each head's
attention pattern on the example text - switch with two radio buttons and CSS (``:checked``),
so the page needs no script and the switch works from the keyboard.
"""

from __future__ import annotations

import numpy as np

from headlab.report.html_colour import cell_colour, dot_class, legend_svg, role_domain, score_kind
from headlab.report.html_format import (
    ci_text, esc, head_label, methods_ref, num, q_or_reason, role_description, slug,
)

__all__ = ["heatmap_svg", "CELL_DEFS", "CELL", "grids_section", "thumbnails_grid"]

CELL = 14          # px per head in the heatmaps (13 px square + 1 px gap)
#: the square every heatmap cell uses; must be on the page once, before the heatmaps
CELL_DEFS = ('<svg width="0" height="0" style="position:absolute" aria-hidden="true">'
             '<defs><rect id="hlc" width="13" height="13"/></defs></svg>')
_MARGIN_LEFT = 26  # room for the layer labels
_MARGIN_TOP = 14   # room for the head labels


def _cell_tip(label: str, s, lo_ci, hi_ci, q, n, sig) -> str:
    if not np.isfinite(s):
        return f"{label}: no score (the role applied to no sample, n = {int(n) if np.isfinite(n) else 0})"
    return (f"{label} {num(s)} [{ci_text(lo_ci, hi_ci, n)}] q={q_or_reason(q, n)} n={int(n)}"
            f"{' significant' if sig else ''}")


def heatmap_svg(report, role: str, lo: float = 0.0, hi: float = 1.0) -> str:
    """One role's ``[n_layers, n_heads]`` heatmap as inline SVG.

    Cells are ``<use href="#hlc">`` of the page's shared square (:data:`CELL_DEFS`), one per
    head in a ``<g class="row">`` per layer, each inside an ``<a href="#L{l}H{h}">`` whose
    ``<title>`` gives head, score, CI, q and n; significant heads get a ``<circle class="sig">``.
    Colours: ``headlab.views.scales.colour`` on ``[lo, hi]``.
    """
    L, H = report.n_layers, report.n_heads
    score = report.matrix(role)
    low, high = report.matrix(role, "ci_low"), report.matrix(role, "ci_high")
    q, n = report.matrix(role, "q_value"), report.matrix(role, "n")
    sig = report.matrix(role, "significant")
    width, height = _MARGIN_LEFT + H * CELL, _MARGIN_TOP + L * CELL
    parts = [
        f'<svg class="hm" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'data-role="{esc(role)}" data-layers="{L}" data-heads="{H}">'
        f"<title>{esc(role)}: score per head (rows: layers, columns: heads)</title>"
    ]
    # Head labels every few columns so that wide models stay legible.
    step = 1 if H <= 16 else (2 if H <= 32 else 4)
    parts.append('<g class="ax">')
    for h in range(0, H, step):
        parts.append(f'<text x="{_MARGIN_LEFT + h * CELL + 6.5}" y="10">{h}</text>')
    lstep = 1 if L <= 16 else (2 if L <= 32 else 4)
    for layer in range(0, L, lstep):
        parts.append(f'<text x="{_MARGIN_LEFT - 4}" y="{_MARGIN_TOP + layer * CELL + 10}" class="l">{layer}</text>')
    parts.append("</g>")
    for layer in range(L):
        parts.append(f'<g class="row" transform="translate({_MARGIN_LEFT},{_MARGIN_TOP + layer * CELL})">')
        for h in range(H):
            x = h * CELL
            label = head_label(layer, h)
            tip = esc(_cell_tip(label, score[layer, h], low[layer, h], high[layer, h], q[layer, h], n[layer, h],
                                sig[layer, h]))
            if np.isfinite(score[layer, h]):
                fill = cell_colour(score[layer, h], lo, hi)
                mark = (f'<circle class="sig {dot_class(fill)}" cx="{x + 6.5}" cy="6.5" r="3"/>'
                        if sig[layer, h] else "")
                parts.append(f'<a href="#{label}"><title>{tip}</title>'
                             f'<use href="#hlc" x="{x}" fill="{fill}"/>{mark}</a>')
            else:
                parts.append(f'<a href="#{label}"><title>{tip}</title><use href="#hlc" x="{x}" class="na"/></a>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _role_figures(report, prefix: str) -> tuple[str, str]:
    """The legend and the heatmap figures of every role."""
    domains = {r: role_domain(report, r) for r in report.roles}
    shared = len(set(domains.values())) == 1
    own = any(score_kind(report, r) == "own" for r in report.roles)
    figures = []
    for role in report.roles:
        lo, hi = domains[role]
        n_sig = len(report.significant(role))
        own_range = "" if shared else f"<br><span class='hint'>colour {num(lo)} to {num(hi)}</span>"
        desc = role_description(role)
        sieve = f"<br><span class='hint'>{esc(desc)}</span>" if desc else ""
        figures.append(
            f'<figure id="{prefix}grid-{esc(slug(role))}"><figcaption><code>{esc(role)}</code> · '
            f"{n_sig} significant{sieve}{own_range}</figcaption>{heatmap_svg(report, role, lo, hi)}</figure>"
        )
    if shared:
        lo, hi = domains[report.roles[0]]
        legend = legend_svg(lo, hi, f"{prefix}vir", own=own)
    else:
        legend = (legend_svg(0.0, 1.0, f"{prefix}vir", own=True)
                  + "<p class='hint'>Roles differ in their colour range; each heatmap's range is under its name.</p>")
    return legend, "".join(figures)


def thumbnails_grid(thumbs: list[list[str]], size: int, blocks: int, tokens_per_block: int) -> str:
    """The grid of pattern thumbnails: ``thumbs[layer][head]`` are ``data:`` PNG URIs."""
    L, H = len(thumbs), len(thumbs[0])
    head_row = "".join(f"<span class='ax'>{h}</span>" for h in range(H))
    cells = []
    for layer, row in enumerate(thumbs):
        cells.append(f"<span class='ax'>{layer}</span>")
        for h, uri in enumerate(row):
            label = head_label(layer, h)
            cells.append(f'<a href="#{label}" title="{label}"><img src="{uri}" width="{size}" height="{size}" '
                         f'alt="{label} attention pattern"></a>')
    per = "token" if tokens_per_block == 1 else f"{tokens_per_block} tokens"
    return (
        f'<div class="thumbs" style="grid-template-columns:auto repeat({H},{size + 4}px)" '
        f'data-layers="{L}" data-heads="{H}"><span></span>{head_row}{"".join(cells)}</div>'
        f"<p class='hint'>Each picture is one head's attention on the example text, pooled into "
        f"{blocks} × {blocks} blocks of {per}: rows are queries (top to bottom), columns the keys they attend to "
        "(left to right); colour is the share of a query block's attention that lands on a key block, on viridis "
        "from 0 (dark) to 1 (yellow). A bright diagonal is a head that attends to nearby tokens (the previous "
        "one, itself, the next), a bright first column a [CLS] head, a bright last column a [SEP] head. Click a "
        "picture for the head's section.</p>"
    )


def grids_section(report, prefix: str, thumbs_html: str | None) -> str:
    """The head grids: role heatmaps, and when ``thumbs_html`` is given a switch to the thumbnails."""
    legend, figures = _role_figures(report, prefix)
    hint = ("<p class='hint'>One square per head: rows are layers, columns heads (0-indexed). Colour is the "
            "score, on one fixed scale for every role; a dot marks a head significant after correction. Hover a "
            "square for its score, 95% CI, q and n; click it for the head's section. "
            + methods_ref("methods-probe-roles" if report.method == "probe" else "methods-sieves") + "</p>")
    scores = f"{hint}{legend}<div class='grids'>{figures}</div>"
    if thumbs_html is None:
        return scores
    name = f"{prefix}mode"
    return (
        f'<div class="modes"><input type="radio" name="{name}" id="{name}-scores" class="m-sc" checked>'
        f'<label for="{name}-scores">scores per role</label>'
        f'<input type="radio" name="{name}" id="{name}-patterns" class="m-pat">'
        f'<label for="{name}-patterns">attention patterns on the example text</label>'
        f'<div class="by-scores">{scores}</div><div class="by-patterns">{thumbs_html}</div></div>'
    )
