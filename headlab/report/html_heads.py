"""One section per head (``#L{l}H{h}``): what does this head do?

Each section answers the question the role tables cannot: every role's score, CI, q and n for
this one head (ranked by score), the catalogue's published roles for it (when the catalogue
knows the model at this size), and a drawing of its attention on the example text.
"""

from __future__ import annotations

from collections import defaultdict

from headlab.report.html_drawing import MAX_TOKENS, TOP_K, MIN_WEIGHT, layer_drawings, tokens_symbol
from headlab.report.html_format import ci_text, esc, first_sentence, head_label, num, q_or_reason

__all__ = ["head_sections", "head_rows", "published_by_head"]

_COLUMNS = ["role", "layer", "head", "score", "ci_low", "ci_high", "q_value", "n", "significant"]


def head_rows(report) -> dict[tuple[int, int], list[tuple]]:
    """``{(layer, head): [(role, score, ci_low, ci_high, q, n, significant), ...]}``, each list
    ranked by score (the effect size), highest first, roles without a score last."""
    t = report.table[_COLUMNS].sort_values(["layer", "head", "score"], ascending=[True, True, False],
                                           na_position="last", kind="stable")
    out: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    for r in t.itertuples(index=False):
        out[(int(r.layer), int(r.head))].append((r.role, r.score, r.ci_low, r.ci_high, r.q_value, r.n,
                                                 bool(r.significant)))
    return out


def _roles_table(rows: list[tuple], prefix: str, caption: str) -> str:
    # 25 roles x 72 heads of rows: the optional end tags (</td>, </tr>) are left out and the
    # number cells are aligned by the table's CSS, which halves the bytes of these tables.
    body = "".join(
        f"<tr{' class=s' if sig else ''}><td>{esc(role)}<td>{num(score)}<td>{ci_text(lo, hi, n)}"
        f"<td>{q_or_reason(q, n)}<td>{int(n)}"
        for role, score, lo, hi, q, n, sig in rows
    )
    return (f"<table class='hr'><caption>{caption}</caption><thead><tr><th>role</th>"
            f"<th><a class=th href='#{prefix}help-score'>score</a></th><th><a class=th href='#{prefix}help-ci'>95% CI"
            f"</a></th><th><a class=th href='#{prefix}help-q'>q</a></th><th><a class=th href='#{prefix}help-n'>n</a>"
            f"</th></tr></thead><tbody>{body}</tbody></table>")


def published_by_head(model_name: str | None, n_layers: int, n_heads: int) -> dict[tuple[int, int], list[dict]]:
    """The catalogue's published roles of each head of this model (catalog.heads_of + summaries),
    each ``{id, name, definition, sources: [(label, confidence, note)]}``; empty for unknown models."""
    from headlab.catalog import links

    by_head = links.heads_of(model_name, n_layers, n_heads)
    if not by_head:
        return {}
    ids = sorted({i for ids in by_head.values() for i in ids})
    summaries = {s["id"]: s for s in links.summaries(ids, model=model_name, n_layers=n_layers, n_heads=n_heads)}
    out: dict[tuple[int, int], list[dict]] = {}
    for (layer, head), type_ids in by_head.items():
        found = []
        for tid in type_ids:
            s = summaries.get(tid)
            if s is None:
                continue
            papers = {p["id"]: p for p in s["papers"]}
            sources = []
            for inst in s["known_instances"]:
                if (inst["layer"], inst["head"]) != (layer, head):
                    continue
                paper = papers.get(inst["source"])
                label = (f"{paper.get('authors', '')} {paper['year']}".strip() if paper else str(inst["source"]))
                sources.append((label, inst.get("confidence", ""), inst.get("note", "")))
            found.append({"id": s["id"], "name": s["name"], "definition": s["definition"], "sources": sources})
        out[(layer, head)] = found
    return out


def _published_html(found: list[dict] | None, model_name: str) -> str:
    if not found:
        return (f"<p class='hint'>The catalogue records no published role for this head of "
                f"<code>{esc(model_name or '?')}</code>.</p>")
    items = []
    for f in found:
        src = "; ".join(f"{esc(label)}{f' ({esc(conf)})' if conf else ''}{f': {esc(note)}' if note else ''}"
                        for label, conf, note in f["sources"])
        items.append(f"<li><b>{esc(f['name'])}</b> (<code>{esc(f['id'])}</code>): "
                     f"{esc(first_sentence(f['definition']))}"
                     f"{f' <span class=hint>Source: {src}.</span>' if src else ''}</li>")
    return f"<p>Published roles of this head:</p><ul class='pub'>{''.join(items)}</ul>"


def _gist(rows_by_report: list[list[tuple]]) -> str:
    sig = sorted(((score, role) for rows in rows_by_report for role, score, *_rest, s in rows if s), reverse=True)
    if not sig:
        return "<p class='gist'>Significant for no role.</p>"
    shown = ", ".join(f"{esc(role)} {num(score)}" for score, role in sig[:6])
    more = f" and {len(sig) - 6} more" if len(sig) > 6 else ""
    return f"<p class='gist'>Significant for {len(sig)} role{'s' if len(sig) != 1 else ''}: {shown}{more}.</p>"


def example_intro(attention, n_drawn: int) -> str:
    """What the drawings show: the example text and how to read the lines."""
    text = attention.text
    shown = " / ".join(text) if isinstance(text, (tuple, list)) else str(text)
    cut = (f" Only its first {n_drawn} of {len(attention.tokens)} tokens are drawn."
           if n_drawn < len(attention.tokens) else "")
    return (f"<p>Each drawing is the head's attention on the example text <q>{esc(shown)}</q> "
            f"({len(attention.tokens)} tokens).{cut} Lines run from each query token (left column) to the keys it "
            f"attends to most (right column; its {TOP_K} strongest keys with weight ≥ {MIN_WEIGHT:g}); the more "
            "attention, the more opaque the line. The drawing is one text; the scores are over all samples.</p>")


def head_sections(reports: list[tuple], attention=None) -> str:
    """Every head's section. ``reports`` is ``[(report, prefix, heading), ...]``, the first the main one."""
    main = reports[0][0]
    L, H = main.n_layers, main.n_heads
    rows = [head_rows(rep) for rep, _, _ in reports]
    published = published_by_head(main.model_name, L, H)
    drawings: dict[tuple[int, int], str] = {}
    intro = ("<p class='hint'>No example text was given, so no attention is drawn "
             "(<code>write_html(..., attention=m.attention(text))</code> adds it; <code>headlab scan</code> does).</p>")
    symbol = ""
    if attention is not None:
        n_drawn = min(len(attention.tokens), MAX_TOKENS)
        symbol = tokens_symbol(attention.tokens[:n_drawn])
        for layer in range(L):
            for h, svg in enumerate(layer_drawings(attention.layer(layer), layer, n_drawn)):
                drawings[(layer, h)] = svg
        intro = example_intro(attention, n_drawn)
    sections = []
    for layer in range(L):
        for h in range(H):
            label = head_label(layer, h)
            per_report = [r.get((layer, h), []) for r in rows]
            tables = "".join(_roles_table(r, prefix, esc(heading))
                             for r, (_, prefix, heading) in zip(per_report, reports) if r)
            prev_label = head_label(*divmod(layer * H + h - 1, H)) if layer * H + h > 0 else None
            next_label = head_label(*divmod(layer * H + h + 1, H)) if layer * H + h + 1 < L * H else None
            nav = " ".join(x for x in (
                f"<a href='#{prev_label}'>← {prev_label}</a>" if prev_label else "",
                "<a href='#grids'>grids</a>",
                f"<a href='#{next_label}'>{next_label} →</a>" if next_label else "") if x)
            drawing = drawings.get((layer, h), "")
            sections.append(
                f'<section class="head" id="{label}"><h3>{label} <span class="hint">layer {layer}, head {h}</span>'
                f"<span class='hnav'>{nav}</span></h3>{_gist(per_report)}<div class='hbody'>"
                f"{f'<figure class=draw>{drawing}</figure>' if drawing else ''}<div>{tables}"
                f"{_published_html(published.get((layer, h)), main.model_name)}</div></div></section>"
            )
    return (f"{symbol}<h2 id='heads'>Heads</h2><p class='hint'>What does one head do? Each section lists every role "
            "for that head, strongest first (by score; a bold row with ● is significant), the roles the literature "
            f"has published for it, and a drawing of its attention.</p>{intro}{''.join(sections)}")
