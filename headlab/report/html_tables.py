"""The report's tables: summary per role, near-duplicate roles, significant heads, layers,
co-location, catalogue types and provenance.

Heads are always ranked by score (the effect size), never by p or q, and every head name links
to its section (``#L{l}H{h}``).
"""

from __future__ import annotations

from typing import Iterable

from headlab.report.html_format import (
    ci_text, esc, first_sentence, head_label, methods_ref, num, q_or_reason, q_text, role_anchor,
    role_description, short, slug,
)

__all__ = ["summary_table", "overlap_note", "near_duplicates", "significant_tables", "by_layer_table",
           "colocation_table", "catalog_section", "provenance_table", "skipped_note", "OVERLAP_JACCARD"]

#: pairs of roles whose significant heads overlap at least this much (Jaccard) are called near-duplicates
OVERLAP_JACCARD = 0.8


def _head_link(layer: int, head: int) -> str:
    label = head_label(layer, head)
    return f'<a href="#{label}">{label}</a>'


def _th(prefix: str, anchor: str, text: str) -> str:
    """A column head that links to the explanation of its numbers."""
    return f'<th><a class="th" href="#{prefix}help-{anchor}">{text}</a></th>'


def _strongest(sub):
    best = sub.dropna(subset=["score"])
    if not len(best):
        return None
    return best.loc[best["score"].idxmax()]


def summary_table(report, prefix: str) -> str:
    total = report.n_layers * report.n_heads
    rows = []
    table = report.table
    for role in report.roles:
        sub = table[table["role"] == role]
        n_sig = int(sub["significant"].sum())
        row = _strongest(sub)
        if row is None:
            best = "<td>n/a (n = 0)</td><td></td><td></td>"
        else:
            best = (f"<td>{_head_link(int(row['layer']), int(row['head']))}</td><td class='n'>{num(row['score'])}</td>"
                    f"<td class='n'>{ci_text(row['ci_low'], row['ci_high'], row['n'])}</td>")
        cat = ", ".join(report.catalog_by_role.get(role, []))
        what = esc(role_description(role))
        ref = methods_ref(role_anchor(role))
        rows.append(
            f'<tr id="{prefix}role-{esc(slug(role))}"><td><a href="#{prefix}grid-{esc(slug(role))}"><code>{esc(role)}'
            f"</code></a></td><td>{what}{'<br>' if what and ref else ''}{ref}</td><td class='n'>{n_sig} / {total}</td>"
            f"{best}<td>{esc(cat)}</td></tr>"
        )
    return (
        "<table class='summary'><thead><tr><th>role</th><th>what its sieve marks (the keys it looks for)</th>"
        f"<th>significant</th><th>strongest</th>{_th(prefix, 'score', 'score')}{_th(prefix, 'ci', '95% CI')}"
        f"<th>catalogue types</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def near_duplicates(report, threshold: float = OVERLAP_JACCARD):
    """Pairs of roles whose significant heads overlap almost completely: the co-location rows
    with Jaccard >= ``threshold`` and at least two shared heads, most overlapping first."""
    if len(report.roles) < 2:
        return None
    co = report.colocation()
    co = co[(co["jaccard"] >= threshold) & (co["n_both"] >= 2)]
    return co.sort_values(["jaccard", "n_both"], ascending=[False, False])


def overlap_note(report, prefix: str) -> str:
    """The summary's warning about roles that flag the same heads, so nobody counts them twice."""
    dup = near_duplicates(report)
    if dup is None or not len(dup):
        return ""
    total = report.n_layers * report.n_heads
    items = "".join(
        f"<li><code>{esc(r['role_a'])}</code> and <code>{esc(r['role_b'])}</code>: {int(r['n_both'])} heads flag both "
        f"({int(r['n_a'])} and {int(r['n_b'])} of {total} are significant; Jaccard {num(r['jaccard'], 2)})</li>"
        for _, r in dup.iterrows()
    )
    return (f'<div class="note" id="{prefix}overlap"><b>Roles that flag nearly the same heads.</b> '
            f"Their significant heads overlap almost completely (Jaccard ≥ {OVERLAP_JACCARD:g}), so they are one "
            f"finding, not two: count such heads once.<ul>{items}</ul>"
            f"<span class='hint'>All pairs: <a href='#{prefix}colocation'>co-location</a>. "
            f"{methods_ref('methods-colocation')}</span></div>")


def skipped_note(skipped: Iterable[dict] | None) -> str:
    """Roles the scan did not score, each with its reason (``run["skipped"]``)."""
    skipped = list(skipped or [])
    if not skipped:
        return ""
    items = "".join(f"<li><code>{esc(str(s.get('role')))}</code>: {esc(str(s.get('reason')))}</li>" for s in skipped)
    return f'<div class="note" id="skipped"><b>Roles not scored.</b><ul>{items}</ul></div>'


def significant_tables(report, prefix: str) -> str:
    """One small table per role (side by side), heads ranked by score; the role's catalogue types
    in the caption and, when the catalogue knows this model, each head's published roles."""
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
        for r in sub.itertuples(index=False):
            published = f"<td>{esc(', '.join(r.published))}</td>" if show_published else ""
            rows.append(
                f"<tr><td>{_head_link(r.layer, r.head)}</td><td class='n'>{num(r.score)}</td>"
                f"<td class='n'>{ci_text(r.ci_low, r.ci_high, r.n)}</td>"
                f"<td class='n'>{q_or_reason(r.q_value, r.n)}</td><td class='n'>{int(r.n)}</td>{published}</tr>"
            )
        head = "<th>published</th>" if show_published else ""
        cards.append(
            f'<div class="card"><table class="sig" data-role="{esc(role)}"><caption><code>{esc(role)}</code> · '
            f"{len(sub)} head{'s' if len(sub) != 1 else ''}<br><span class='hint'>catalogue: {esc(types)}</span>"
            f"</caption><thead><tr><th>head</th>{_th(prefix, 'score', 'score')}{_th(prefix, 'ci', '95% CI')}"
            f"{_th(prefix, 'q', 'q')}{_th(prefix, 'n', 'n')}{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            "</div>"
        )
    return ("<p class='hint'>Strongest first (ranked by score, not by q).</p>"
            f"<div class='cards'>{''.join(cards)}</div>")


def by_layer_table(report) -> str:
    counts = report.by_layer()  # [layers, roles]
    H = report.n_heads
    head = "".join(f"<th>L{layer}</th>" for layer in counts.index)
    rows = []
    for role in counts.columns:
        cells = []
        for layer in counts.index:
            c = int(counts.loc[layer, role])
            # Shaded by the share of the layer's heads; the count is printed, so colour is a help only.
            cells.append(f'<td class="n" style="--f:{c / H:.2f}">{c}</td>' if c else '<td class="n z">0</td>')
        rows.append(f"<tr><td><code>{esc(role)}</code></td>{''.join(cells)}<td class='n'>{int(counts[role].sum())}</td>"
                    "</tr>")
    return (f'<table class="layers"><thead><tr><th>role</th>{head}<th>all</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def colocation_table(report) -> str:
    if len(report.roles) < 2:
        return "<p>Only one role: nothing to co-locate.</p>"
    co = report.colocation()
    co = co[co["n_both"] > 0].sort_values(["q_value", "n_both"], ascending=[True, False])
    if not len(co):
        return "<p>No two roles share a significant head.</p>"

    def rows(df):
        return "".join(
            f"<tr><td><code>{esc(r['role_a'])}</code></td><td><code>{esc(r['role_b'])}</code></td>"
            f"<td class='n'>{int(r['n_both'])}</td><td class='n'>{num(r['expected'], 1)}</td>"
            f"<td class='n'>{num(r['jaccard'], 2)}</td><td class='n'>{q_text(r['p_value'])}</td>"
            f"<td class='n'>{q_text(r['q_value'])}</td></tr>"
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
        pairs = ", ".join(f"{esc(r['role_a'])} &amp; {esc(r['role_b'])} ({int(r['n_both'])})"
                          for _, r in rest.iterrows())
        out.append(f"<details><summary>pairs sharing heads no more than chance ({len(rest)})</summary>"
                   f"<p>{pairs}</p></details>")
    return "".join(out)


def _catalog_names(ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """``{id: (name, definition)}`` for catalogue ids; unknown ids map to themselves."""
    from headlab.catalog import links

    ids = list(dict.fromkeys(ids))
    known = {s["id"]: (s["name"], s["definition"]) for s in links.summaries(ids)}
    return {i: known.get(i, (i, "")) for i in ids}


def catalog_section(report) -> str:
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
        rows.append(f"<tr><td><code>{esc(i)}</code></td><td>{esc(name)}</td><td>{esc(', '.join(roles))}</td>"
                    f"<td>{esc(first_sentence(definition))}</td></tr>")
    note = ("" if published else
            f"<p>The catalogue has no published head-by-head roles for <code>{esc(report.model_name or '?')}</code>; "
            "the types below are what each role's significant heads would be called in the literature.</p>")
    return (note + "<table><thead><tr><th>id</th><th>head type</th><th>found by role</th><th>definition</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            "<p class='hint'>More: <code>headlab catalog show ID</code>.</p>")


def provenance_table(report, run: dict | None) -> str:
    p = report.provenance
    ci = p.get("ci") or {}
    null = p.get("null")
    if isinstance(null, dict):
        null = ", ".join(f"{k}: {num(v)}" for k, v in null.items())
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
        items.append(("parameters", ", ".join(f"{k}={short(v)}" for k, v in extra.items())))
    body = "".join(f"<tr><th>{esc(str(k))}</th><td>{esc(str(v))}</td></tr>" for k, v in items)
    return f'<table class="prov"><tbody>{body}</tbody></table>'
