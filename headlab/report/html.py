"""The offline HTML report of ``headlab scan``: one self-contained file, no script, no network.

Every figure is inline SVG built here in Python, so the page draws in any browser without a
kernel, a CDN or JavaScript: one heatmap per role (layers down, heads across) coloured with
viridis (colour-blind-safe, sequential, readable in grey), significant heads marked with a
dot so that the mark never depends on colour alone, and a ``<title>`` tooltip on every cell.
Tables list the significant heads with scores, CIs and q-values, significant heads per layer,
the co-location of roles, the catalogue types each role detects, and the method/provenance.

Every string that reaches the page (role ids, model names, catalogue text, file names) goes
through ``html.escape``.
"""

from __future__ import annotations

import datetime as _dt
import html
import math
import pathlib
import re
from typing import Iterable, Sequence

import numpy as np

__all__ = ["write_html", "render_html", "heatmap_svg", "viridis"]

# viridis at 0, 0.1, ..., 1 (matplotlib's values); interpolated linearly in between.
_VIRIDIS = [
    (0x44, 0x01, 0x54), (0x48, 0x24, 0x75), (0x41, 0x44, 0x87), (0x35, 0x5F, 0x8D),
    (0x2A, 0x78, 0x8E), (0x21, 0x91, 0x8C), (0x22, 0xA8, 0x84), (0x44, 0xBF, 0x70),
    (0x7A, 0xD1, 0x51), (0xBD, 0xDF, 0x26), (0xFD, 0xE7, 0x25),
]

CELL = 14          # px per head in the heatmaps (13 px square + 1 px gap)
#: the square every heatmap cell uses; must be on the page once, before the heatmaps
CELL_DEFS = ('<svg width="0" height="0" style="position:absolute" aria-hidden="true">'
             '<defs><rect id="hlc" width="13" height="13"/></defs></svg>')
_MARGIN_LEFT = 26  # room for the layer labels
_MARGIN_TOP = 14   # room for the head labels

_e = html.escape


def viridis(t: float) -> str:
    """The viridis colour at ``t`` in [0, 1] (clipped) as ``#rrggbb``."""
    t = min(1.0, max(0.0, float(t)))
    x = t * (len(_VIRIDIS) - 1)
    i = min(int(x), len(_VIRIDIS) - 2)
    f = x - i
    a, b = _VIRIDIS[i], _VIRIDIS[i + 1]
    return "#" + "".join(f"{round(a[k] + (b[k] - a[k]) * f):02x}" for k in range(3))


# ----------------------------------------------------------------------------- number formats
def _num(x, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.{digits}g}" if abs(x) < 1e-3 and x != 0 else f"{x:.{digits}f}"


def _q(x) -> str:
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    x = float(x)
    if x == 0:
        return "<1e-300"
    return f"{x:.2g}" if x >= 1e-3 else f"{x:.1e}"


def _head(layer: int, head: int) -> str:
    return f"L{layer}H{head}"


# ----------------------------------------------------------------------------- colour scale
# Scores with a known range get it as their colour range, so colours mean the same in every
# report; the others (e.g. Pande's sieve bias, differences from compare) span their own values.
_PROBE_RANGES = {"copying": (-1.0, 1.0)}


def _scale(report) -> dict[str, tuple[float, float]]:
    """Colour range per role.  Lift scores share [0, 1] (0 = uniform, 1 = all attention on the
    sieve) so roles compare at a glance; probe scores are shares of attention in [0, 1]
    (copying: [-1, 1]); other scores get their own finite range."""
    out = {}
    for role in report.roles:
        if report.method == "lift":
            out[role] = (0.0, 1.0)
            continue
        if report.method == "probe":
            out[role] = _PROBE_RANGES.get(role, (0.0, 1.0))
            continue
        m = report.matrix(role)
        finite = m[np.isfinite(m)]
        lo, hi = (min(0.0, float(finite.min())), float(finite.max())) if finite.size else (0.0, 1.0)
        if hi - lo < 1e-12:
            hi = lo + 1.0
        out[role] = (lo, hi)
    return out


# ----------------------------------------------------------------------------- SVG heatmap
def heatmap_svg(report, role: str, lo: float = 0.0, hi: float = 1.0) -> str:
    """One role's ``[n_layers, n_heads]`` heatmap as inline SVG.

    Cells are ``<use href="#hlc">`` of the page's shared square (:data:`CELL_DEFS`), one
    per head in a ``<g class="row">`` per layer, each with a ``<title>`` (head, score, CI,
    q); significant heads get a ``<circle class="sig">``.
    """
    L, H = report.n_layers, report.n_heads
    score = report.matrix(role)
    low, high = report.matrix(role, "ci_low"), report.matrix(role, "ci_high")
    q = report.matrix(role, "q_value")
    sig = report.matrix(role, "significant")
    width, height = _MARGIN_LEFT + H * CELL, _MARGIN_TOP + L * CELL
    parts = [
        f'<svg class="hm" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'data-role="{_e(role)}" data-layers="{L}" data-heads="{H}">'
        f"<title>{_e(role)}: score per head (rows: layers, columns: heads)</title>"
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
    span = hi - lo
    for layer in range(L):
        # One group per layer; each head is a <use> of the shared 13 px square (#hlc),
        # which keeps a 25-role report of a 6 x 12 model well under 300 KB.
        parts.append(f'<g class="row" transform="translate({_MARGIN_LEFT},{_MARGIN_TOP + layer * CELL})">')
        for h in range(H):
            x = h * CELL
            s = score[layer, h]
            if np.isfinite(s):
                t = (s - lo) / span
                tip = (f"{_head(layer, h)} {_num(s)} [{_num(low[layer, h])}, {_num(high[layer, h])}]"
                       f" q={_q(q[layer, h])}{' significant' if sig[layer, h] else ''}")
                parts.append(f'<use href="#hlc" x="{x}" fill="{viridis(t)}"><title>{_e(tip)}</title></use>')
                if sig[layer, h]:
                    # Contrast with the cell: dark dot on the bright end of viridis, light on the dark end.
                    dot = "d" if t > 0.6 else "w"
                    parts.append(f'<circle class="sig {dot}" cx="{x + 6.5}" cy="6.5" r="3"/>')
            else:
                parts.append(f'<use href="#hlc" x="{x}" class="na"><title>{_head(layer, h)}: '
                             "no score (role never applied)</title></use>")
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _legend_svg(lo: str, hi: str, gradient_id: str) -> str:
    """A colour bar labelled ``lo`` to ``hi`` and the meaning of the dot."""
    stops = "".join(f'<stop offset="{i / 10:.1f}" stop-color="{viridis(i / 10)}"/>' for i in range(11))
    return (
        '<svg class="legend" width="330" height="34" viewBox="0 0 330 34" role="img">'
        "<title>colour scale and significance mark</title>"
        f'<defs><linearGradient id="{gradient_id}">{stops}</linearGradient></defs>'
        f'<rect x="0" y="4" width="160" height="12" fill="url(#{gradient_id})"/>'
        f'<text x="0" y="30">{_e(lo)}</text><text x="160" y="30" class="end">{_e(hi)}</text>'
        '<rect x="190" y="3" width="13" height="13" fill="#21918c"/>'
        '<circle class="sig w" cx="196.5" cy="9.5" r="3"/>'
        '<text x="209" y="14">significant (q &lt; alpha)</text>'
        "</svg>"
    )


# ----------------------------------------------------------------------------- tables
def _role_description(role: str) -> str:
    try:
        from headlab import roles

        return roles.get(role).description
    except Exception:  # a report may carry a role this session has not registered
        return ""


def _catalog_names(ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """``{id: (name, definition)}`` for catalogue ids; unknown ids map to themselves."""
    out = {}
    try:
        from headlab import catalog
    except Exception:
        catalog = None
    for i in ids:
        if i in out:
            continue
        try:
            entry = catalog.get(i)
            out[i] = (entry.name, entry.definition)
        except Exception:
            out[i] = (i, "")
    return out


def _strongest(sub):
    best = sub.dropna(subset=["score"])
    if not len(best):
        return None
    return best.loc[best["score"].idxmax()]


def _summary_table(report, prefix: str) -> str:
    total = report.n_layers * report.n_heads
    rows = []
    table = report.table
    for role in report.roles:
        sub = table[table["role"] == role]
        n_sig = int(sub["significant"].sum())
        row = _strongest(sub)
        if row is None:
            best = "<td>n/a</td><td></td><td></td>"
        else:
            best = (f"<td>{_head(int(row['layer']), int(row['head']))}</td><td class='n'>{_num(row['score'])}</td>"
                    f"<td class='n'>{_num(row['ci_low'])} – {_num(row['ci_high'])}</td>")
        cat = ", ".join(report.catalog_by_role.get(role, []))
        rows.append(
            f'<tr><td><a href="#{prefix}grid-{_e(_slug(role))}"><code>{_e(role)}</code></a></td>'
            f"<td>{_e(_role_description(role))}</td><td class='n'>{n_sig} / {total}</td>{best}"
            f"<td>{_e(cat)}</td></tr>"
        )
    return (
        "<table><thead><tr><th>role</th><th>what it looks for</th><th>significant</th>"
        "<th>strongest</th><th>score</th><th>95% CI</th><th>catalogue types</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _significant_table(report) -> str:
    """One small table per role (side by side), heads sorted by score; the catalogue types
    of the role in the caption and, when the catalogue knows this model, each head's
    published roles."""
    table = report.table
    sig = table[table["significant"]]
    if not len(sig):
        return "<p>No head is significant for any role at this alpha.</p>"
    show_published = "published" in sig.columns and any(len(v) for v in sig["published"])
    cards = []
    for role in report.roles:
        sub = sig[sig["role"] == role].sort_values("score", ascending=False)
        if not len(sub):
            continue
        types = ", ".join(report.catalog_by_role.get(role, [])) or "none recorded"
        rows = []
        for _, r in sub.iterrows():
            published = f"<td>{_e(', '.join(r['published']))}</td>" if show_published else ""
            rows.append(
                f"<tr><td>{_head(int(r['layer']), int(r['head']))}</td>"
                f"<td class='n'>{_num(r['score'])}</td><td class='n'>{_num(r['ci_low'])} – {_num(r['ci_high'])}</td>"
                f"<td class='n'>{_q(r['q_value'])}</td>{published}</tr>"
            )
        head = "<th>published</th>" if show_published else ""
        cards.append(
            f'<div class="card"><table class="sig" data-role="{_e(role)}"><caption><code>{_e(role)}</code> · '
            f"{len(sub)} head{'s' if len(sub) != 1 else ''}<br><span class='hint'>catalogue: {_e(types)}</span></caption>"
            f"<thead><tr><th>head</th><th>score</th><th>95% CI</th><th>q</th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>"
        )
    return f"<div class='cards'>{''.join(cards)}</div>"


def _by_layer_table(report) -> str:
    counts = report.by_layer()  # [layers, roles]
    H = report.n_heads
    head = "".join(f"<th>L{layer}</th>" for layer in counts.index)
    rows = []
    for role in counts.columns:
        cells = []
        for layer in counts.index:
            c = int(counts.loc[layer, role])
            # Shade by the share of the layer's heads (a count needs no colour to be read).
            cells.append(f'<td class="n" style="--f:{c / H:.2f}">{c}</td>' if c else '<td class="n z">0</td>')
        rows.append(f"<tr><td><code>{_e(role)}</code></td>{''.join(cells)}<td class='n'>{int(counts[role].sum())}</td></tr>")
    return (
        f'<table class="layers"><thead><tr><th>role</th>{head}<th>all</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _colocation_table(report) -> str:
    if len(report.roles) < 2:
        return "<p>Only one role: nothing to co-locate.</p>"
    co = report.colocation()
    co = co[co["n_both"] > 0].sort_values(["q_value", "n_both"], ascending=[True, False])
    if not len(co):
        return "<p>No two roles share a significant head.</p>"

    def rows(df):
        return "".join(
            f"<tr><td><code>{_e(r['role_a'])}</code></td><td><code>{_e(r['role_b'])}</code></td>"
            f"<td class='n'>{int(r['n_both'])}</td><td class='n'>{_num(r['expected'], 1)}</td>"
            f"<td class='n'>{_num(r['jaccard'], 2)}</td><td class='n'>{_q(r['p_value'])}</td>"
            f"<td class='n'>{_q(r['q_value'])}</td></tr>"
            for _, r in df.iterrows()
        )

    head = ("<thead><tr><th>role a</th><th>role b</th><th>shared heads</th><th>expected</th>"
            "<th>Jaccard</th><th>p</th><th>q</th></tr></thead>")
    strong = co[co["q_value"] < report.alpha]
    rest = co[~(co["q_value"] < report.alpha)]
    out = [f"<p>{len(strong)} pairs of roles share more heads than chance (q &lt; {report.alpha:g}); "
           f"{len(rest)} more pairs share at least one head.</p>"]
    if len(strong):
        out.append(f"<div class='scroll'><table>{head}<tbody>{rows(strong)}</tbody></table></div>")
    if len(rest):
        # Listed compactly: these overlaps are what chance gives; the counts are enough.
        pairs = ", ".join(f"{_e(r['role_a'])} &amp; {_e(r['role_b'])} ({int(r['n_both'])})" for _, r in rest.iterrows())
        out.append(f"<details><summary>pairs sharing heads no more than chance ({len(rest)})</summary>"
                   f"<p>{pairs}</p></details>")
    return "".join(out)


def _catalog_section(report) -> str:
    ids = [i for role in report.roles for i in report.catalog_by_role.get(role, [])]
    published = set()
    if "published" in report.table.columns:
        for v in report.table["published"]:
            published.update(v)
    names = _catalog_names(ids + sorted(published))
    if not names:
        return "<p>The catalogue records no head type for these roles.</p>"
    rows = []
    for i, (name, definition) in names.items():
        roles = [r for r in report.roles if i in report.catalog_by_role.get(r, [])]
        rows.append(f"<tr><td><code>{_e(i)}</code></td><td>{_e(name)}</td><td>{_e(', '.join(roles))}</td>"
                    f"<td>{_e(_first_sentence(definition))}</td></tr>")
    note = ("" if published else
            f"<p>The catalogue has no published head-by-head roles for <code>{_e(report.model_name or '?')}</code>; "
            "the types below are what each role's significant heads would be called in the literature.</p>")
    return (note + "<table><thead><tr><th>id</th><th>head type</th><th>found by role</th><th>definition</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            "<p class='hint'>More: <code>headlab catalog show ID</code>.</p>")


def _first_sentence(text: str, limit: int = 220) -> str:
    """The first sentence (a full stop followed by a capital, outside quotes), or a cut."""
    text = " ".join(str(text or "").split())
    for match in re.finditer(r"[.!?] (?=[A-Z])", text):
        end = match.start() + 1
        if end > limit:
            break
        if text[:end].count('"') % 2 == 0:
            return text[:end]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _provenance_table(report, run: dict | None) -> str:
    p = report.provenance
    ci = p.get("ci") or {}
    null = p.get("null")
    if isinstance(null, dict):
        null = ", ".join(f"{k}: {_num(v)}" for k, v in null.items())
    params = p.get("parameters") or {}
    items = [
        ("model", report.model_name),
        ("layers × heads", f"{report.n_layers} × {report.n_heads}"),
        ("samples (N)", f"{report.n_samples}" + (f" ({params['n_pairs']} pairs)" if params.get("n_pairs") else "")),
        ("method", report.method),
        ("test", p.get("test")),
        ("null (H0: mean ≤ null)", null),
        ("correction", f"{p.get('correction')} over {p.get('family', '')}"),
        ("alpha", f"{report.alpha:g}"),
        ("CI", f"{ci.get('method', '')} bootstrap, level {ci.get('level', '')}, {ci.get('n_boot', '')} resamples"),
        ("seed", p.get("seed")),
        ("headlab version", p.get("headlab_version")),
        ("created", p.get("created")),
    ]
    if run:
        if run.get("command"):
            items.append(("command", run["command"]))
        if run.get("seconds") is not None:
            items.append(("wall time", f"{run['seconds']} s"))
    extra = {k: v for k, v in params.items() if k not in ("roles",) and v is not None}
    if extra:
        items.append(("parameters", ", ".join(f"{k}={_short(v)}" for k, v in extra.items())))
    body = "".join(f"<tr><th>{_e(str(k))}</th><td>{_e(str(v))}</td></tr>" for k, v in items)
    return f'<table class="prov"><tbody>{body}</tbody></table>'


def _short(value, limit: int = 160) -> str:
    s = str(value)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _slug(role: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in role)


# ----------------------------------------------------------------------------- page
_CSS = """
:root{--fg:#1d1d1f;--muted:#5f6368;--bg:#fff;--line:#d9dce0;--alt:#f5f6f8;--accent:#2a788e;--na:#c9ccd1;--shade:42,120,142}
@media (prefers-color-scheme:dark){:root{--fg:#e6e6e6;--muted:#a0a4aa;--bg:#16181c;--line:#3a3f46;--alt:#1f2227;--accent:#7ad151;--na:#4a4f57;--shade:122,209,81}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1180px;padding:16px 24px 48px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:22px;margin:8px 0 2px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
a{color:var(--accent)}nav a{margin-right:12px}
.sub,.hint{color:var(--muted)}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
thead th{background:var(--alt);position:sticky;top:0}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.layers td{min-width:34px;background:rgba(var(--shade),calc(var(--f,0)*0.85))}
table.layers td.z{color:var(--muted)}
table.prov th{width:190px;color:var(--muted);font-weight:500}
.grids{display:flex;flex-wrap:wrap;gap:14px 22px}
figure{margin:0}figcaption{font-size:12.5px;margin-bottom:2px}
svg text{fill:var(--fg);font:9px system-ui,sans-serif;text-anchor:middle}
svg .ax text.l{text-anchor:end}
svg.legend text{font-size:11px;text-anchor:start}
svg.legend text.end{text-anchor:end}
g.row use:hover{stroke:var(--fg);stroke-width:1.5}
use.na{fill:var(--na)}
circle.sig.w{fill:#fff;stroke:#000;stroke-width:.6}
circle.sig.d{fill:#000;stroke:#fff;stroke-width:.6}
.cards{display:flex;flex-wrap:wrap;gap:4px 18px;align-items:flex-start}
.card,.scroll{max-height:360px;overflow:auto}
caption{text-align:left;font-size:12.5px;padding:2px 0}
details{margin:6px 0}summary{cursor:pointer;color:var(--accent)}
footer{margin-top:36px;color:var(--muted);font-size:12px}
"""


def _report_body(report, prefix: str, heading: str, run: dict | None) -> str:
    """All sections of one report (the natural-text scan, or a probe run appended to it)."""
    scale = _scale(report)
    shared = len({scale[r] for r in report.roles}) == 1
    figures = []
    for role in report.roles:
        lo, hi = scale[role]
        n_sig = len(report.significant(role))
        own_range = "" if shared else f"<br><span class='hint'>colour {_num(lo)} to {_num(hi)}</span>"
        figures.append(
            f'<figure id="{prefix}grid-{_e(_slug(role))}"><figcaption><code>{_e(role)}</code> · '
            f"{n_sig} significant{own_range}</figcaption>{heatmap_svg(report, role, lo, hi)}</figure>"
        )
    if shared:
        lo, hi = scale[report.roles[0]]
        legend = _legend_svg(_num(lo), _num(hi), f"{prefix}vir")
    else:
        legend = (_legend_svg("low", "high", f"{prefix}vir")
                  + "<p class='hint'>Roles differ in their colour range; each heatmap's range is under its name.</p>")
    p = report.provenance
    return (
        f'<h2 id="{prefix}summary">{_e(heading)}</h2>'
        f"<p class='sub'>{_e(report.model_name or '?')} · {report.n_layers} layers × {report.n_heads} heads · "
        f"N = {report.n_samples} samples · method {_e(report.method)} · {_e(str(p.get('test')))} · "
        f"{_e(str(p.get('correction')))}, alpha = {report.alpha:g}</p>"
        f"{_summary_table(report, prefix)}"
        f'<h3 id="{prefix}grids">Head grids</h3>'
        "<p class='hint'>One square per head: rows are layers, columns heads (0-indexed). "
        "Colour is the mean score; a dot marks a head significant after correction. "
        "Hover a square for its score, 95% CI and q-value.</p>"
        f"{legend}<div class='grids'>{''.join(figures)}</div>"
        f'<h3 id="{prefix}significant">Significant heads</h3>{_significant_table(report)}'
        f'<h3 id="{prefix}layers">Significant heads per layer</h3>{_by_layer_table(report)}'
        f'<h3 id="{prefix}colocation">Co-location of roles</h3>'
        "<p class='hint'>Pairs of roles whose significant heads overlap; Fisher's exact test "
        "(one-sided, more overlap than chance) over all heads, BH across pairs.</p>"
        f"{_colocation_table(report)}"
        f'<h3 id="{prefix}catalog">Catalogue</h3>{_catalog_section(report)}'
        f'<h3 id="{prefix}method">Method and provenance</h3>{_provenance_table(report, run)}'
    )


def render_html(report, *, extra: Sequence | None = None, run: dict | None = None,
                title: str | None = None) -> str:
    """The report page as a string (see :func:`write_html`)."""
    extra = [] if extra is None else ([extra] if hasattr(extra, "table") else list(extra))
    title = title or f"headlab report: {report.model_name or 'model'}"
    nav = ['<a href="#summary">summary</a>', '<a href="#grids">head grids</a>',
           '<a href="#significant">significant heads</a>', '<a href="#layers">per layer</a>',
           '<a href="#colocation">co-location</a>', '<a href="#catalog">catalogue</a>',
           '<a href="#method">method</a>']
    bodies = [_report_body(report, "", "Natural-text roles" if report.method in ("lift", "pande")
                           else f"Roles ({report.method})", run)]
    for i, rep in enumerate(extra, start=1):
        heading = "Probe roles" if rep.method == "probe" else f"Roles ({rep.method})"
        nav.append(f'<a href="#x{i}-summary">{_e(heading.lower())}</a>')
        bodies.append(_report_body(rep, f"x{i}-", heading, None))
    created = report.provenance.get("created") or _dt.datetime.now(_dt.timezone.utc).isoformat()
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # Nothing may load from anywhere: no scripts at all, styles and images inline only.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">"
        '<meta name="color-scheme" content="light dark"><meta name="generator" content="headlab">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"{CELL_DEFS}<h1>{_e(title)}</h1>"
        f"<p class='sub'>What do the attention heads of <code>{_e(report.model_name or '?')}</code> do? "
        f"Created {_e(str(created))} by headlab {_e(str(report.provenance.get('headlab_version', '')))}.</p>"
        f"<nav>{''.join(nav)}</nav>{''.join(bodies)}"
        "<footer>Scores, CIs and q-values are across samples (the sample is the unit). "
        "The JSON written next to this page holds the full table. Generated by headlab; "
        "this page loads nothing from the network.</footer></body></html>\n"
    )


def write_html(report, path, *, extra=None, run: dict | None = None, title: str | None = None) -> pathlib.Path:
    """Write the offline HTML report of ``report`` to ``path`` and return the path.

    Args:
        report: an ``hl.Report`` (usually from ``m.roles``).
        path: the ``.html`` file to write (parent folders are created).
        extra: further reports appended as their own sections (e.g. ``m.detect`` probe roles).
        run: facts about the run for the provenance table (``command``, ``seconds``).
        title: the page title (default: "headlab report: <model>").
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report, extra=extra, run=run, title=title), encoding="utf-8")
    return path
