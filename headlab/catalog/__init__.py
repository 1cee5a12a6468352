"""The catalogue of known attention-head types.

It holds every head type named in the survey "Attention Heads of Large Language Models" (Zheng et al.,
arXiv 2409.03752) and in its Awesome-Attention-Heads paper list: definitions in our own words, the survey's
four-stage framework (KR, ICI, LR, EP), aliases (including Chinese names), the headlab roles that detect a
type, the probe data it needs, published instances in public models, and the papers.

>>> import headlab.catalog as catalog
>>> catalog.get("S-Inhibition Head").id
'inhibition_head'
>>> [i.type for i in catalog.for_head("gpt2", 10, 7)]
['copy_suppression_head', 'negative_name_mover_head']

The data lives in YAML files next to this module. They follow ``schema/catalog.schema.json``; the test suite
and ``scripts/check-catalog.py`` check that, so loading them at run time does not (it would import jsonschema
and cost about a second of CPU). ``extend(path)`` adds a user's file, which is checked: size, nesting, YAML
aliases, schema and cross-references.

How results link to the catalogue (published heads of a measured model, types of a role, entry summaries for
the views) is in ``headlab.catalog.links``; its functions are exported here too.
"""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path
from typing import Iterable

from headlab.catalog import links
from headlab.catalog._export import export_json
from headlab.catalog._loading import load_builtin, load_file
from headlab.catalog._records import STAGE_NAMES, Entry, Homonym, Instance, Model, Paper, PaperLink
from headlab.catalog._store import Catalog
from headlab.catalog.links import heads_by_type, heads_of, known_model, summaries, summary, types_for_role
from headlab.errors import CatalogError, MissingExtraError

__all__ = [
    "STAGES",
    "Catalog",
    "Entry",
    "Homonym",
    "Instance",
    "Model",
    "Paper",
    "PaperLink",
    "bibtex",
    "browse",
    "by_stage",
    "current",
    "entries",
    "export_json",
    "extend",
    "for_head",
    "for_role",
    "get",
    "heads_by_type",
    "heads_of",
    "known_model",
    "links",
    "model",
    "models",
    "paper",
    "papers",
    "reset",
    "schema_path",
    "search",
    "summaries",
    "summary",
    "types_for_head",
    "types_for_role",
]


def __dir__() -> list[str]:
    # Only the public API: tab completion should not offer threading, Path or the private modules.
    return sorted(__all__)


#: The survey's four stages, code -> English name.
STAGES = dict(STAGE_NAMES)

_lock = threading.Lock()
_builtin_sources: list | None = None
_extension_sources: list = []
_current: Catalog | None = None


def current() -> Catalog:
    """The catalogue in use: the built-in files plus every file passed to ``extend``. Loaded on first use."""
    global _current, _builtin_sources
    if _current is None:
        with _lock:
            if _current is None:
                if _builtin_sources is None:
                    _builtin_sources = load_builtin()
                _current = Catalog(_builtin_sources + _extension_sources)
    return _current


def get(id_or_alias: str) -> Entry:
    """The head type with this id, name or alias (any case or punctuation; Chinese names work too).

    Raises ``CatalogError`` (a ``HeadlabError``) naming close matches when nothing fits.
    """
    return current().get(id_or_alias)


def search(text: str, limit: int | None = None) -> list[Entry]:
    """Head types matching ``text`` in names, aliases, Chinese names, definitions or paper titles, best first."""
    return current().search(text, limit=limit)


def entries() -> list[Entry]:
    """Every head type: the survey's types stage by stage (KR, ICI, LR, EP), then the types only the list tags."""
    return list(current().entries.values())


def for_head(model: str, layer: int, head: int) -> list[Instance]:
    """Published roles of one head of a known public model (layer and head 0-based).

    ``model`` may be spelled as users do: "gpt2", "gpt2-small", "openai-community/gpt2". A model the
    catalogue has no instances for gives an empty list; a layer or head outside a known model raises
    ``CatalogError``. Each ``Instance`` names the head type (``.type``), the source paper and a confidence.
    Lookups are dictionary reads, cheap enough for every row of a report table.
    """
    return current().for_head(model, layer, head)


def types_for_head(model: str, layer: int, head: int) -> list[str]:
    """Ids of the head types published for one head, without repeats, most trusted first.

    The compact form of ``for_head`` for a table column ("which known types is this head?").
    """
    return list(dict.fromkeys(inst.type for inst in for_head(model, layer, head)))


def for_role(role_id: str) -> list[str]:
    """Ids of the head types that the headlab role ``role_id`` detects (empty when none).

    The same as ``types_for_role`` (kept for existing code).
    """
    return types_for_role(role_id)


def by_stage(stage: str | None, include_secondary: bool = False) -> list[Entry]:
    """Head types whose primary stage is ``stage`` ("KR", "ici", "Latent Reasoning", "表达准备", ...).

    ``None`` (or "unplaced") gives the types the survey's framework does not place.
    """
    return current().by_stage(stage, include_secondary=include_secondary)


def papers(head: str | None = None) -> list[Paper]:
    """All papers (the list's 86 first, newest first, then papers headlab adds), or those of one head type."""
    if head is not None:
        return [link.paper for link in get(head).papers]
    return list(current().papers.values())


def paper(id_or_arxiv: str) -> Paper:
    """One paper by its id (the BibTeX key), the survey's bib key or its arXiv id."""
    return current().paper(id_or_arxiv)


def models() -> list[Model]:
    """The public models that known instances refer to."""
    return list(current().models.values())


def model(name: str) -> Model:
    """A known model by any common spelling; ``CatalogError`` with suggestions otherwise."""
    found = current().resolve_model(name)
    if found is None:
        import difflib

        close = difflib.get_close_matches(str(name), [m.id for m in models()], n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise CatalogError(f"No known instances for model {name!r}.{hint} hl.catalog.models() lists the models.")
    return found


def bibtex(ids: str | Iterable[str]) -> str:
    """BibTeX for papers and head types.

    Each id may be a paper id, an arXiv id, or a head type (id or alias), which stands for all its papers.
    Entries are de-duplicated and keep the order asked for.
    """
    if isinstance(ids, str):
        ids = [ids]
    cat = current()
    chosen: dict[str, Paper] = {}
    for name in ids:
        try:
            found = [cat.paper(name)]
        except CatalogError:
            try:
                found = [link.paper for link in cat.get(name).papers]
            except CatalogError:
                raise CatalogError(
                    f"{name!r} is neither a paper (id, BibTeX key, arXiv id) nor a head type. "
                    "Use hl.catalog.search(text) or hl.catalog.papers() to find the right id."
                ) from None
        for p in found:
            chosen.setdefault(p.id, p)
    return "\n\n".join(p.bibtex() for p in chosen.values()) + ("\n" if chosen else "")


def extend(path: str | Path) -> list[str]:
    """Add a user's catalogue file (YAML or JSON, same schema as the built-in files).

    The file may add head types, papers, instances (also for built-in types), models and probes. It must be
    a regular file of at most 5 MB; YAML may nest at most 64 levels and use at most 100 aliases, none of
    them pointing at a collection that holds aliases itself (so "billion laughs" files are refused at once).
    It is checked against the schema and cross-checked with the catalogue; on any problem ``CatalogError``
    names the file, line and entry, and the catalogue stays as it was. Returns the ids of the head types
    the file adds.
    """
    global _current
    source = load_file(path)
    base = current()
    with _lock:
        candidate = Catalog(base.sources + [source])
        _extension_sources.append(source)
        _current = candidate
    return [r.data["id"] for r in source.records if r.section == "heads"]


def reset() -> None:
    """Drop every extension and go back to the built-in catalogue."""
    global _current
    with _lock:
        _extension_sources.clear()
        _current = None


def schema_path() -> Path:
    """Path of the JSON Schema that catalogue files follow (for editors and validators)."""
    return Path(str(resources.files("headlab.catalog").joinpath("schema").joinpath("catalog.schema.json")))


def browse(query: str = "", **kwargs):
    """The CatalogBrowser widget (search and read the catalogue in a notebook); needs anywidget."""
    try:
        from headlab.views import browse as _browse
    except ImportError as exc:
        raise MissingExtraError(
            f"The catalogue browser needs the notebook widgets ({exc}). Install anywidget and ipywidgets."
        ) from exc
    kwargs.setdefault("entries", summaries())
    return _browse(query, **kwargs)
