"""The objects the catalogue hands out: head types (Entry), papers, known instances and models.

They are frozen: the catalogue rebuilds them when it is extended, so nobody holds a half-updated entry.
Each one shows itself in a notebook (``_repr_html_``, ``_repr_markdown_``), in a terminal (``__str__``)
and as plain JSON data (``to_dict``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headlab.catalog import _render

STAGE_NAMES = {
    "KR": "Knowledge Recalling",
    "ICI": "In-Context Identification",
    "LR": "Latent Reasoning",
    "EP": "Expression Preparation",
}
# Our Chinese renderings of the stage names (the founding document gives none).
STAGE_NAMES_ZH = {"KR": "知识召回", "ICI": "上下文识别", "LR": "潜在推理", "EP": "表达准备"}


@dataclass(frozen=True, repr=False)
class Paper:
    """One paper: one entry of the Awesome-Attention-Heads list, or a paper headlab adds."""

    id: str
    title: str
    date: str
    venue: str
    arxiv_id: str | None = None
    arxiv_confirmed: bool | None = None
    url: str | None = None
    code_urls: tuple[str, ...] = ()
    first_author: str | None = None
    authors: tuple[str, ...] = ()
    list_row: int | None = None
    survey_bibkey: str | None = None
    heads_tagged: tuple[str, ...] = ()
    head_types: tuple[str, ...] = ()
    errata: tuple[str, ...] = ()
    note: str | None = None
    origin: str = "builtin"

    @property
    def bibtex_key(self) -> str:
        """The BibTeX key; the survey's own key where it has one, so citations line up."""
        return self.id

    @property
    def year(self) -> str:
        return self.date[:4]

    def bibtex(self) -> str:
        """This paper as one BibTeX entry."""
        from headlab.catalog._bibtex import to_bibtex

        return to_bibtex(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict of every field."""
        return {
            "id": self.id,
            "title": self.title,
            "date": self.date,
            "venue": self.venue,
            "arxiv_id": self.arxiv_id,
            "arxiv_confirmed": self.arxiv_confirmed,
            "url": self.url,
            "code_urls": list(self.code_urls),
            "first_author": self.first_author,
            "authors": list(self.authors),
            "list_row": self.list_row,
            "survey_bibkey": self.survey_bibkey,
            "bibtex_key": self.bibtex_key,
            "heads_tagged": list(self.heads_tagged),
            "head_types": list(self.head_types),
            "errata": list(self.errata),
            "note": self.note,
            "origin": self.origin,
        }

    def __repr__(self) -> str:
        title = self.title if len(self.title) <= 50 else self.title[:47] + "..."
        return f"<Paper {self.id} {title!r} {self.date}>"

    def __str__(self) -> str:
        return _render.paper_text(self)

    def _repr_markdown_(self) -> str:
        return _render.paper_markdown(self)

    def _repr_html_(self) -> str:
        return _render.paper_html(self)


@dataclass(frozen=True, repr=False)
class Instance:
    """A published claim that one head of one public model is of a given type. Layer and head are 0-based."""

    type: str
    type_name: str
    model: str
    layer: int
    head: int
    source: str
    confidence: str
    as_published: str
    head_kind: str = "query"
    locator: str | None = None
    rank: int | None = None
    score_name: str | None = None
    score_value: float | None = None
    note: str | None = None
    origin: str = "builtin"
    model_hf_id: str | None = None  # the hub id of `model`, when it has one

    @property
    def label(self) -> str:
        """'L9H9' in headlab's 0-based convention."""
        return f"L{self.layer}H{self.head}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict of every field."""
        return {
            "type": self.type,
            "type_name": self.type_name,
            "model": self.model,
            "layer": self.layer,
            "head": self.head,
            "label": self.label,
            "model_hf_id": self.model_hf_id,
            "as_published": self.as_published,
            "head_kind": self.head_kind,
            "source": self.source,
            "confidence": self.confidence,
            "locator": self.locator,
            "rank": self.rank,
            "score": None if self.score_name is None else {"name": self.score_name, "value": self.score_value},
            "note": self.note,
            "origin": self.origin,
        }

    def __repr__(self) -> str:
        return f"<Instance {self.type} {self.model} {self.label} {self.confidence}>"

    def __str__(self) -> str:
        return _render.instance_text(self)

    def _repr_markdown_(self) -> str:
        return _render.instances_markdown([self])

    def _repr_html_(self) -> str:
        return _render.instances_html([self])


@dataclass(frozen=True)
class Model:
    """A public model that known instances refer to."""

    id: str
    n_layers: int
    n_heads: int
    hf_id: str | None = None
    n_kv_heads: int | None = None
    family: str | None = None
    names: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "hf_id": self.hf_id,
            "n_layers": self.n_layers,
            "n_heads": self.n_heads,
            "n_kv_heads": self.n_kv_heads,
            "family": self.family,
            "names": list(self.names),
        }

    def __str__(self) -> str:
        hub = f", {self.hf_id}" if self.hf_id else ""
        return f"{self.id} ({self.n_layers} layers x {self.n_heads} heads{hub})"


@dataclass(frozen=True)
class Homonym:
    """The same label used elsewhere for a different concept."""

    label: str
    meaning: str
    papers: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "meaning": self.meaning, "papers": list(self.papers)}


@dataclass(frozen=True)
class PaperLink:
    """A paper as it relates to one head type: who introduced it, who extended it, who tagged it."""

    paper: Paper
    role: str

    def to_dict(self) -> dict[str, Any]:
        """The paper's citation fields plus its role for this head type (what a card needs)."""
        p = self.paper
        return {
            "id": p.id,
            "role": self.role,
            "title": p.title,
            "date": p.date,
            "year": int(p.year),
            "venue": p.venue,
            "arxiv_id": p.arxiv_id,
            "url": p.url,
            "authors": f"{p.first_author} et al." if p.first_author else None,
        }


@dataclass(frozen=True, repr=False)
class Entry:
    """One known type of attention head."""

    id: str
    name: str
    definition: str
    stage: str | None  # KR, ICI, LR, EP or None when not placed
    stage_source: str  # "survey" or "ours"
    stage_secondary: tuple[str, ...] = ()
    stage_sub_category: str | None = None
    stage_note: str | None = None
    zh: tuple[tuple[str, str], ...] = ()  # (name, source) pairs, preferred first
    aliases: tuple[str, ...] = ()
    parent: str | None = None
    variants: tuple[str, ...] = ()
    detector: tuple[str, ...] = ()
    automatic: str | None = None
    detection: str | None = None
    probe_data: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    layers: str | None = None
    related: tuple[tuple[str, str], ...] = ()  # (entry id, relation)
    papers: tuple[PaperLink, ...] = ()
    homonyms: tuple[Homonym, ...] = ()
    caveats: tuple[str, ...] = ()
    instances: tuple[Instance, ...] = ()
    origin: str = "builtin"

    @property
    def name_zh(self) -> str | None:
        """The preferred Chinese name, if any."""
        return self.zh[0][0] if self.zh else None

    @property
    def stage_name(self) -> str | None:
        """'Latent Reasoning' for 'LR'; None when the survey's framework does not place this type."""
        return STAGE_NAMES.get(self.stage) if self.stage else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict; papers carry their titles and instances are included in full."""
        return {
            "id": self.id,
            "name": self.name,
            "name_zh": self.name_zh,
            "zh": [{"name": n, "source": s} for n, s in self.zh],
            "aliases": list(self.aliases),
            "parent": self.parent,
            "variants": list(self.variants),
            "stage": {
                "primary": self.stage,
                "name": self.stage_name,
                "secondary": list(self.stage_secondary),
                "sub_category": self.stage_sub_category,
                "source": self.stage_source,
                "note": self.stage_note,
            },
            "definition": self.definition,
            "detector": list(self.detector),
            "automatic": self.automatic,
            "detection": self.detection,
            "probe_data": list(self.probe_data),
            "families": list(self.families),
            "layers": self.layers,
            "related": [{"id": i, "relation": r} for i, r in self.related],
            "papers": [link.to_dict() for link in self.papers],
            "homonyms": [h.to_dict() for h in self.homonyms],
            "caveats": list(self.caveats),
            "instances": [inst.to_dict() for inst in self.instances],
            "origin": self.origin,
        }

    def __repr__(self) -> str:
        return f"<Entry {self.id} {self.name!r} {self.stage or 'unplaced'}>"

    def __str__(self) -> str:
        return _render.entry_text(self)

    def _repr_markdown_(self) -> str:
        return _render.entry_markdown(self)

    def _repr_html_(self) -> str:
        return _render.entry_html(self)
