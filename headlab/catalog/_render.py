"""Text, Markdown and HTML views of catalogue records.

All record text goes through ``html.escape`` (HTML) or a Markdown escape: catalogue files can come from
users, and nothing in them may turn into markup.
"""

from __future__ import annotations

import html
import textwrap
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:  # imports for annotations only; _records imports this module
    from headlab.catalog._records import Entry, Instance, Paper

_MAX_INSTANCES_TEXT = 12
_CONFIDENCE_WORDS = {
    "confirmed": "confirmed",
    "consistent_copies": "consistent copies",
    "third_party": "third party",
    "unconfirmed": "unconfirmed",
}
_AUTOMATIC_WORDS = {
    "yes": "yes, from attention or weights with generic probe data",
    "task_data": "needs labelled task data or causal experiments",
    "no": "no per-head score",
    "toy_only": "only in toy models",
}

# Styles use JupyterLab variables with fallbacks so light and dark themes both read well.
_CARD_STYLE = (
    "border:1px solid var(--jp-border-color2,#ccc);border-radius:6px;padding:8px 12px;margin:4px 0;"
    "font-family:var(--jp-ui-font-family,sans-serif);color:var(--jp-ui-font-color1,inherit);"
    "background:var(--jp-layout-color1,transparent);max-width:60em"
)
_BADGE_STYLE = (
    "display:inline-block;border-radius:4px;padding:0 6px;margin-right:4px;font-size:85%;"
    "background:var(--jp-layout-color3,#e0e0e0);color:var(--jp-ui-font-color1,inherit)"
)
_MUTED_STYLE = "color:var(--jp-ui-font-color2,#666)"


# ---------------------------------------------------------------- helpers

def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _md(text: object) -> str:
    """Escape characters Markdown would treat as markup."""
    out = str(text)
    for ch in "\\`*_[]<>|#":
        out = out.replace(ch, "\\" + ch)
    return out


def _wrap(text: str, indent: str = "  ") -> str:
    return textwrap.fill(" ".join(text.split()), width=96, initial_indent=indent, subsequent_indent=indent)


def _stage_line(entry: "Entry") -> str:
    if entry.stage is None:
        return f"not placed in the four-stage framework ({entry.stage_source})"
    parts = [f"{entry.stage} - {entry.stage_name} ({entry.stage_source})"]
    if entry.stage_secondary:
        parts.append("also " + ", ".join(entry.stage_secondary))
    if entry.stage_sub_category:
        parts.append(entry.stage_sub_category)
    return "; ".join(parts)


def _other_names(entry: "Entry") -> list[str]:
    return list(entry.aliases) + [name for name, _ in entry.zh[1:]]


def _paper_cite(paper: "Paper") -> str:
    who = f"{paper.first_author} et al., " if paper.first_author else ""
    arxiv = f", arXiv {paper.arxiv_id}" if paper.arxiv_id else ""
    return f"{who}{paper.venue} {paper.date}{arxiv}"


# ---------------------------------------------------------------- entries

def entry_text(entry: "Entry") -> str:
    head = f"{entry.name}  [{entry.id}]"
    if entry.name_zh:
        head += f"  {entry.name_zh}"
    lines = [head, "=" * min(len(head) + 4, 96), f"Stage: {_stage_line(entry)}"]
    if entry.stage_note:
        lines.append(f"  ({entry.stage_note})")
    others = _other_names(entry)
    if others:
        lines.append("Also called: " + ", ".join(others))
    if entry.parent:
        lines.append(f"Kind of: {entry.parent}")
    if entry.variants:
        lines.append("Variants: " + ", ".join(entry.variants))
    lines += ["Definition:", _wrap(entry.definition)]
    detector = ", ".join(entry.detector) if entry.detector else "none (no headlab role)"
    lines.append(f"headlab roles: {detector}")
    if entry.automatic:
        lines.append(f"Automatic detection: {_AUTOMATIC_WORDS.get(entry.automatic, entry.automatic)}")
    if entry.detection:
        lines += ["How it is found:", _wrap(entry.detection)]
    if entry.probe_data:
        lines.append("Probe data: " + ", ".join(entry.probe_data))
    if entry.families:
        lines.append("Seen in: " + ", ".join(entry.families))
    if entry.layers:
        lines.append(f"Layers: {entry.layers}")
    if entry.related:
        lines.append("Related: " + ", ".join(f"{i} ({r.replace('_', ' ')})" for i, r in entry.related))
    if entry.instances:
        lines.append(f"Known instances ({len(entry.instances)}, layer/head 0-based):")
        for inst in entry.instances[:_MAX_INSTANCES_TEXT]:
            lines.append("  " + instance_text(inst, with_type=False))
        if len(entry.instances) > _MAX_INSTANCES_TEXT:
            lines.append(f"  ... and {len(entry.instances) - _MAX_INSTANCES_TEXT} more")
    if entry.papers:
        lines.append(f"Papers ({len(entry.papers)}):")
        for link in entry.papers:
            lines.append(f"  {link.paper.date}  {link.paper.title}  [{link.role}; {link.paper.id}]")
    for h in entry.homonyms:
        lines.append(f"Not to be confused with: {h.label} - {h.meaning}")
    if entry.caveats:
        lines.append("Caveats:")
        lines += [_wrap("- " + c, "  ") for c in entry.caveats]
    return "\n".join(lines)


def entry_markdown(entry: "Entry") -> str:
    title = f"### {_md(entry.name)}"
    if entry.name_zh:
        title += f" · {_md(entry.name_zh)}"
    lines = [title, "", f"`{entry.id}` · **Stage:** {_md(_stage_line(entry))}", ""]
    others = _other_names(entry)
    if others:
        lines += ["**Also called:** " + ", ".join(_md(o) for o in others), ""]
    lines += [_md(entry.definition), ""]
    detector = ", ".join(f"`{d}`" for d in entry.detector) if entry.detector else "none"
    lines.append(f"- **headlab roles:** {detector}")
    if entry.automatic:
        lines.append(f"- **Automatic detection:** {_md(_AUTOMATIC_WORDS.get(entry.automatic, entry.automatic))}")
    if entry.detection:
        lines.append(f"- **How it is found:** {_md(entry.detection)}")
    if entry.probe_data:
        lines.append("- **Probe data:** " + ", ".join(f"`{p}`" for p in entry.probe_data))
    if entry.families:
        lines.append("- **Seen in:** " + _md(", ".join(entry.families)))
    if entry.parent:
        lines.append(f"- **Kind of:** `{entry.parent}`")
    for h in entry.homonyms:
        lines.append(f"- **Not to be confused with:** {_md(h.label)} ({_md(h.meaning)})")
    for c in entry.caveats:
        lines.append(f"- **Caveat:** {_md(c)}")
    if entry.instances:
        lines += ["", "**Known instances** (0-based layer.head):", "", instances_markdown(entry.instances, with_type=False)]
    if entry.papers:
        lines += ["", "**Papers:**", ""]
        for link in entry.papers:
            p = link.paper
            title = f"[{_md(p.title)}]({p.url})" if p.url else _md(p.title)
            lines.append(f"- {title} ({_md(_paper_cite(p))}) · {link.role}")
    return "\n".join(lines)


def entry_html(entry: "Entry") -> str:
    zh = f' <span lang="zh" style="{_MUTED_STYLE}">{_e(entry.name_zh)}</span>' if entry.name_zh else ""
    stage = entry.stage or "unplaced"
    parts = [
        f'<div class="headlab-catalog-card" style="{_CARD_STYLE}">',
        f'<div><strong style="font-size:115%">{_e(entry.name)}</strong>{zh} '
        f'<code style="{_MUTED_STYLE}">{_e(entry.id)}</code></div>',
        f'<div><span class="headlab-catalog-stage" style="{_BADGE_STYLE}" title="{_e(_stage_line(entry))}">'
        f"{_e(stage)}</span>"
        + "".join(f'<span style="{_BADGE_STYLE}">{_e(d)}</span>' for d in entry.detector)
        + "</div>",
        f"<p>{_e(entry.definition)}</p>",
        '<dl style="margin:0">',
    ]

    def row(label: str, value_html: str) -> None:
        parts.append(f'<dt style="font-weight:600">{_e(label)}</dt><dd style="margin:0 0 4px 1.5em">{value_html}</dd>')

    row("Stage", _e(_stage_line(entry)))
    others = _other_names(entry)
    if others:
        row("Also called", _e(", ".join(others)))
    if entry.detection:
        row("How it is found", _e(entry.detection))
    if entry.automatic:
        row("Automatic detection", _e(_AUTOMATIC_WORDS.get(entry.automatic, entry.automatic)))
    if entry.probe_data:
        row("Probe data", _e(", ".join(entry.probe_data)))
    if entry.families:
        row("Seen in", _e(", ".join(entry.families)))
    for h in entry.homonyms:
        row("Not to be confused with", _e(f"{h.label}: {h.meaning}"))
    for c in entry.caveats:
        row("Caveat", _e(c))
    parts.append("</dl>")
    if entry.instances:
        parts.append(f"<details><summary>Known instances ({len(entry.instances)})</summary>")
        parts.append(instances_html(entry.instances, with_type=False))
        parts.append("</details>")
    if entry.papers:
        parts.append(f"<details><summary>Papers ({len(entry.papers)})</summary><ul>")
        for link in entry.papers:
            parts.append(f"<li>{_paper_link_html(link.paper)} <span style=\"{_MUTED_STYLE}\">"
                         f"{_e(_paper_cite(link.paper))} · {_e(link.role)}</span></li>")
        parts.append("</ul></details>")
    parts.append("</div>")
    return "".join(parts)


# ---------------------------------------------------------------- instances

def instance_text(inst: "Instance", with_type: bool = True) -> str:
    what = f"{inst.type} " if with_type else ""
    score = f", {inst.score_name}={inst.score_value:g}" if inst.score_name is not None else ""
    rank = f", rank {inst.rank}" if inst.rank else ""
    published = f" (published as {inst.as_published})" if inst.as_published != f"{inst.layer}.{inst.head}" else ""
    return (f"{what}{inst.model} L{inst.layer}H{inst.head}{published}: {inst.source}, "
            f"{_CONFIDENCE_WORDS.get(inst.confidence, inst.confidence)}{rank}{score}")


def instances_markdown(instances: Iterable["Instance"], with_type: bool = True) -> str:
    head = ("| type " if with_type else "") + "| model | layer.head | source | confidence | score |"
    rule = ("|---" if with_type else "") + "|---|---|---|---|---|"
    rows = [head, rule]
    for inst in instances:
        score = f"{inst.score_name} = {inst.score_value:g}" if inst.score_name is not None else ""
        first = f"| `{inst.type}` " if with_type else ""
        rows.append(f"{first}| {_md(inst.model)} | {inst.layer}.{inst.head} | {_md(inst.source)} | "
                    f"{_md(_CONFIDENCE_WORDS.get(inst.confidence, inst.confidence))} | {_md(score)} |")
    return "\n".join(rows)


def instances_html(instances: Iterable["Instance"], with_type: bool = True) -> str:
    cols = (["type"] if with_type else []) + ["model", "layer.head", "source", "confidence", "score", "where"]
    out = ['<table class="headlab-catalog-instances"><thead><tr>']
    out += [f"<th>{_e(c)}</th>" for c in cols]
    out.append("</tr></thead><tbody>")
    for inst in instances:
        score = f"{inst.score_name} = {inst.score_value:g}" if inst.score_name is not None else ""
        cells = ([inst.type] if with_type else []) + [
            inst.model, f"{inst.layer}.{inst.head}", inst.source,
            _CONFIDENCE_WORDS.get(inst.confidence, inst.confidence), score, inst.locator or "",
        ]
        out.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


# ---------------------------------------------------------------- papers

def _paper_link_html(paper: "Paper") -> str:
    if paper.url:
        return f'<a href="{_e(paper.url)}" target="_blank" rel="noopener noreferrer">{_e(paper.title)}</a>'
    return _e(paper.title)


def paper_text(paper: "Paper") -> str:
    lines = [paper.title, f"  {_paper_cite(paper)}  [{paper.id}]"]
    if paper.url:
        lines.append(f"  {paper.url}")
    for url in paper.code_urls:
        lines.append(f"  code: {url}")
    if paper.head_types:
        tagged = f" (list tags: {', '.join(paper.heads_tagged)})" if paper.heads_tagged else ""
        lines.append(f"  head types: {', '.join(paper.head_types)}{tagged}")
    if paper.arxiv_id and paper.arxiv_confirmed is False:
        lines.append("  note: the arXiv id is from recollection and still unchecked")
    for note in paper.errata:
        lines.append(_wrap("erratum: " + note, "  "))
    if paper.note:
        lines.append(_wrap("note: " + paper.note, "  "))
    return "\n".join(lines)


def paper_markdown(paper: "Paper") -> str:
    title = f"[{_md(paper.title)}]({paper.url})" if paper.url else _md(paper.title)
    lines = [f"**{title}**  ", f"{_md(_paper_cite(paper))} · `{paper.id}`"]
    if paper.head_types:
        lines.append("  \nHead types: " + ", ".join(f"`{h}`" for h in paper.head_types))
    for note in paper.errata:
        lines.append(f"  \n*Erratum:* {_md(note)}")
    return "\n".join(lines)


def paper_html(paper: "Paper") -> str:
    parts = [f'<div class="headlab-catalog-paper" style="{_CARD_STYLE}">',
             f"<div><strong>{_paper_link_html(paper)}</strong></div>",
             f'<div style="{_MUTED_STYLE}">{_e(_paper_cite(paper))} · <code>{_e(paper.id)}</code></div>']
    if paper.head_types:
        parts.append("<div>" + "".join(f'<span style="{_BADGE_STYLE}">{_e(h)}</span>' for h in paper.head_types) + "</div>")
    for url in paper.code_urls:
        parts.append(f'<div>code: <a href="{_e(url)}" target="_blank" rel="noopener noreferrer">{_e(url)}</a></div>')
    for note in paper.errata:
        parts.append(f"<div><em>Erratum:</em> {_e(note)}</div>")
    parts.append("</div>")
    return "".join(parts)
