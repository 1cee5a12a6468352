"""The offline HTML report of ``headlab scan``: one self-contained file, no script, no network.

Every figure is inline SVG or a ``data:`` PNG built here in Python, so the page draws in any
browser without a kernel, a CDN or JavaScript. The page has, per report (the natural-text scan,
then e.g. the probe roles of ``--detect``):

* a summary per role, with what its sieve marks, the explanations of score, CI, q and n, and the
  roles whose significant heads overlap almost completely (so nobody counts them twice);
* head grids: one heatmap per role on the fixed colour scales of ``headlab.views.scales``, a dot
  on significant heads, every cell a link to its head; with an example text, a switch to a grid
  of each head's attention pattern (thumbnails);
* the significant heads per role, per layer, co-location of roles, catalogue types, provenance;

and then one section per head (``#L{l}H{h}``): every role's score, CI, q and n, the catalogue's
published roles for that head, and a drawing of its attention on the example text.

The parts live in ``html_*`` modules (format, colour, grids, png, drawing, heads, tables, help,
style); this module assembles the page and writes it atomically (``headlab.safe_io``). Every
string that reaches the page goes through ``html.escape``.
"""

from __future__ import annotations

import datetime as _dt
import pathlib
from typing import Sequence

from headlab import safe_io
from headlab.errors import InputError
from headlab.report.html_format import esc
from headlab.report.html_grids import CELL, CELL_DEFS, grids_section, heatmap_svg, thumbnails_grid
from headlab.report.html_heads import head_sections
from headlab.report.html_help import explanations
from headlab.report.html_png import thumbnail_uris
from headlab.report.html_style import CSS
from headlab.report.html_tables import (
    by_layer_table, catalog_section, colocation_table, overlap_note, provenance_table, significant_tables,
    skipped_note, summary_table,
)
from headlab.views.scales import viridis

__all__ = ["write_html", "render_html", "heatmap_svg", "viridis", "CELL", "CELL_DEFS"]


def _check_attention(attention, report):
    """The example's attention must come from a model of the report's shape."""
    if attention is None:
        return None
    if not all(hasattr(attention, a) for a in ("layer", "tokens", "n_layers", "n_heads")):
        raise InputError("attention must be an hl.Attention of one text, e.g. attention=m.attention(text); "
                         f"got {type(attention).__name__}.")
    if (attention.n_layers, attention.n_heads) != (report.n_layers, report.n_heads):
        raise InputError(f"attention has {attention.n_layers} x {attention.n_heads} heads but the report "
                         f"{report.n_layers} x {report.n_heads}; pass the attention of the model the report scored.")
    if len(attention.tokens) < 2:
        raise InputError("The example text has fewer than 2 tokens, too few to draw; pass a sentence.")
    return attention


def _thumbnails(attention, L: int) -> str:
    rows, size, b = [], 0, 1
    for layer in range(L):
        uris, size, b = thumbnail_uris(attention.layer(layer))
        rows.append(uris)
    # Each pooled block becomes a 3 px square at least, so a 16-block thumbnail is 48 px wide.
    return thumbnails_grid(rows, max(48, 3 * size), size, b)


def _report_body(report, prefix: str, heading: str, run: dict | None, thumbs: str | None) -> str:
    """All sections of one report (the natural-text scan, or a probe run appended to it)."""
    p = report.provenance
    skipped = skipped_note((run or {}).get("skipped")) if not prefix else ""
    return (
        f'<h2 id="{prefix}summary">{esc(heading)}</h2>'
        f"<p class='sub'>{esc(report.model_name or '?')} · {report.n_layers} layers × {report.n_heads} heads · "
        f"N = {report.n_samples} samples · method {esc(report.method)} · {esc(str(p.get('test')))} · "
        f"{esc(str(p.get('correction')))}, alpha = {report.alpha:g}</p>"
        f"{skipped}{explanations(report, prefix)}{summary_table(report, prefix)}{overlap_note(report, prefix)}"
        f'<h3 id="{prefix}grids">Head grids</h3>{grids_section(report, prefix, thumbs)}'
        f'<h3 id="{prefix}significant">Significant heads</h3>{significant_tables(report, prefix)}'
        f'<h3 id="{prefix}layers">Significant heads per layer</h3>{by_layer_table(report)}'
        f'<h3 id="{prefix}colocation">Co-location of roles</h3>'
        "<p class='hint'>Pairs of roles whose significant heads overlap; Fisher's exact test "
        "(one-sided, more overlap than chance) over all heads, BH across pairs.</p>"
        f"{colocation_table(report)}"
        f'<h3 id="{prefix}catalog">Catalogue</h3>{catalog_section(report)}'
        f'<h3 id="{prefix}method">Method and provenance</h3>{provenance_table(report, run if not prefix else None)}'
    )


def render_html(report, *, extra: Sequence | None = None, run: dict | None = None,
                title: str | None = None, attention=None) -> str:
    """The report page as a string (see :func:`write_html`)."""
    extra = [] if extra is None else ([extra] if hasattr(extra, "table") else list(extra))
    attention = _check_attention(attention, report)
    title = title or f"headlab report: {report.model_name or 'model'}"
    nav = ['<a href="#summary">summary</a>', '<a href="#grids">head grids</a>',
           '<a href="#significant">significant heads</a>', '<a href="#layers">per layer</a>',
           '<a href="#colocation">co-location</a>', '<a href="#catalog">catalogue</a>',
           '<a href="#method">method</a>']
    thumbs = _thumbnails(attention, report.n_layers) if attention is not None else None
    main_heading = "Natural-text roles" if report.method in ("lift", "pande") else f"Roles ({report.method})"
    reports = [(report, "", main_heading)]
    bodies = [_report_body(report, "", main_heading, run, thumbs)]
    for i, rep in enumerate(extra, start=1):
        heading = "Probe roles" if rep.method == "probe" else f"Roles ({rep.method})"
        nav.append(f'<a href="#x{i}-summary">{esc(heading.lower())}</a>')
        bodies.append(_report_body(rep, f"x{i}-", heading, None, None))
        if (rep.n_layers, rep.n_heads) == (report.n_layers, report.n_heads):
            reports.append((rep, f"x{i}-", heading))
    nav.append('<a href="#heads">heads</a>')
    created = report.provenance.get("created") or _dt.datetime.now(_dt.timezone.utc).isoformat()
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # Nothing may load from anywhere: no scripts at all, styles and images inline only.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">"
        '<meta name="color-scheme" content="light dark"><meta name="generator" content="headlab">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"{CELL_DEFS}<h1>{esc(title)}</h1>"
        f"<p class='sub'>What do the attention heads of <code>{esc(report.model_name or '?')}</code> do? "
        f"Created {esc(str(created))} by headlab {esc(str(report.provenance.get('headlab_version', '')))}.</p>"
        f"<nav>{''.join(nav)}</nav>{''.join(bodies)}{head_sections(reports, attention)}"
        "<footer>Scores, CIs and q-values are across samples (the sample is the unit). "
        "The JSON written next to this page holds the full table. Generated by headlab; "
        "this page loads nothing from the network.</footer></body></html>\n"
    )


def write_html(report, path, *, extra=None, run: dict | None = None, title: str | None = None,
               attention=None) -> pathlib.Path:
    """Write the offline HTML report of ``report`` to ``path`` atomically and return the path.

    The page goes to a temporary file next to ``path`` and is renamed over it
    (``headlab.safe_io``): an interrupted write leaves the previous report as it was.

    Args:
        report: an ``hl.Report`` (usually from ``m.roles``).
        path: the ``.html`` file to write (parent folders are created).
        extra: further reports appended as their own sections (e.g. ``m.detect`` probe roles).
        run: facts about the run for the page: ``command``, ``seconds`` (provenance table) and
            ``skipped`` (``[{"role": ..., "reason": ...}]``, roles the run did not score).
        title: the page title (default: "headlab report: <model>").
        attention: an ``hl.Attention`` of one example text from the report's model
            (``m.attention(text)``): each head's section then draws it, and the grids get a
            thumbnail view of every head's pattern.
    """
    path = pathlib.Path(path)
    return safe_io.write_text(path, render_html(report, extra=extra, run=run, title=title, attention=attention))
