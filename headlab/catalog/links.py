"""Links from headlab's results to the catalogue: which known types a head or a role stands for.

This is the one place where reports, widgets and the HTML page ask the catalogue about a model they
have measured, so they all answer alike:

* ``heads_of(model_name, n_layers, n_heads)``: the published types of each head of that model;
* ``heads_by_type(...)``: the same, inverted (type id -> heads);
* ``types_for_role(role_id)``: the types whose detector is a headlab role;
* ``summary(type_id)`` / ``summaries(ids)``: plain-JSON entries for the views.

Model names are resolved by the catalogue's own resolver (``hl.catalog.model``): "gpt2",
"gpt2-small", "GPT-2 small" and "openai-community/gpt2" are one model. Heads are plain
``(layer, head)`` tuples, 0-based.

**The size rule.** Published heads are linked only when the catalogue knows the model *and* its size
is the one measured: ``n_layers`` x ``n_heads``. A private or re-trained model may carry a public
name ("gpt2" with 6 layers); a head index of one model says nothing about another, so such a model
gets no links rather than wrong ones. An unknown or empty model name gets none either.

>>> from headlab.catalog import links
>>> links.heads_of("gpt2", 12, 12)[(10, 7)]
['copy_suppression_head', 'negative_name_mover_head']
>>> links.heads_of("gpt2", 6, 12)
{}
"""

from __future__ import annotations

from typing import Any, Iterable

from headlab import validate
from headlab.catalog import _normalize as norm
from headlab.catalog._records import Entry, Instance, Model, Paper
from headlab.errors import CatalogError

__all__ = ["known_model", "heads_of", "heads_by_type", "types_for_role", "summary", "summaries"]


def _current():
    from headlab.catalog import current  # noqa: PLC0415 - the package imports this module

    return current()


def known_model(model_name: str | None, n_layers: int, n_heads: int) -> Model | None:
    """The catalogue's model for ``model_name`` if it is ``n_layers`` x ``n_heads`` (the size rule); else None."""
    n_layers = validate.integer("n_layers", n_layers, min=1, example=12)
    n_heads = validate.integer("n_heads", n_heads, min=1, example=12)
    if model_name is None:
        return None
    if not isinstance(model_name, str):
        raise CatalogError(f"model_name must be a str such as 'gpt2' (or None); got {validate.describe(model_name)}. Pass e.g. 'gpt2'.")
    if not model_name.strip():
        return None
    model = _current().resolve_model(model_name)
    if model is None or (model.n_layers, model.n_heads) != (n_layers, n_heads):
        return None
    return model


def heads_of(model_name: str | None, n_layers: int, n_heads: int) -> dict[tuple[int, int], list[str]]:
    """Published head types of each head of a measured model: ``{(layer, head): [type ids]}``.

    Only heads with at least one published type appear; ids are listed once each, most trusted
    source first (as ``hl.catalog.types_for_head``). Empty when the model is unknown or its
    catalogued size is not ``n_layers`` x ``n_heads`` (see the size rule in the module doc).
    """
    model = known_model(model_name, n_layers, n_heads)
    if model is None:
        return {}
    out: dict[tuple[int, int], list[str]] = {}
    for (model_id, layer, head), found in _current().by_head.items():
        if model_id == model.id and found:
            out[(layer, head)] = list(dict.fromkeys(inst.type for inst in found))
    return dict(sorted(out.items()))


def heads_by_type(model_name: str | None, n_layers: int, n_heads: int) -> dict[str, list[tuple[int, int]]]:
    """``heads_of`` turned around: ``{type id: [(layer, head), ...]}``, heads in order, same size rule."""
    out: dict[str, list[tuple[int, int]]] = {}
    for head, types in heads_of(model_name, n_layers, n_heads).items():
        for type_id in types:
            out.setdefault(type_id, []).append(head)
    return out


def types_for_role(role_id: str) -> list[str]:
    """Ids of the head types a headlab role detects (the entries' ``detector`` lists); [] for other ids.

    The links of the built-in catalogue are reviewed in ``tests/unit/test_catalog_roles.py``: a role
    names a type when a head that passes the role's test shows the pattern the type's papers find or
    confirm it by.
    """
    if not isinstance(role_id, str):
        raise CatalogError(f"role ids are strings such as 'induction'; got {validate.describe(role_id)}. Pass e.g. 'induction'.")
    return list(_current().by_role.get(role_id, ()))


def summary(type_id: str, *, model: str | None = None, n_layers: int | None = None,
            n_heads: int | None = None) -> dict[str, Any]:
    """One head type as plain JSON for the views; ``type_id`` may also be a name or alias.

    Keys: ``id``, ``name``, ``name_zh`` (preferred Chinese name or None), ``zh`` (all Chinese names),
    ``aliases``, ``stage`` ("KR", "ICI", "LR", "EP" or "" when unplaced), ``stage_name``,
    ``definition``, ``detector`` (role ids), ``papers`` (``id``, ``role``, ``title``, ``year``, and
    ``url`` / ``authors`` when known) and ``known_instances`` (``model``, ``hf_id``, ``layer``,
    ``head``, ``source``, ``confidence``, ``note`` when there is one). With ``model``, only that
    model's instances are kept (resolved like ``heads_of``; with ``n_layers`` and ``n_heads`` the
    size rule applies too). Raises ``CatalogError`` for an unknown type.
    """
    entry = _current().get(type_id)
    return _summary(entry, _instance_filter(model, n_layers, n_heads))


def summaries(ids: Iterable[str] | None = None, *, model: str | None = None, n_layers: int | None = None,
              n_heads: int | None = None) -> list[dict[str, Any]]:
    """``summary`` of every type (catalogue order), or of ``ids`` in their order, each once.

    Ids the catalogue does not know are left out: a report saved while an extension was loaded may
    name types this session lacks, and a view should still show the rest (``summary`` raises instead).
    """
    cat = _current()
    keep = _instance_filter(model, n_layers, n_heads)
    if ids is None:
        return [_summary(e, keep) for e in cat.entries.values()]
    if isinstance(ids, str):
        ids = [ids]
    chosen: dict[str, Entry] = {}
    for name in ids:
        if not isinstance(name, str):
            raise CatalogError(f"type ids are strings such as 'induction_head'; got {validate.describe(name)}. Pass e.g. 'induction_head'.")
        found = cat.keys.get(norm.key(name))
        if found is not None:
            chosen.setdefault(found, cat.entries[found])
    return [_summary(e, keep) for e in chosen.values()]


# ---------------------------------------------------------------- helpers

def _instance_filter(model: str | None, n_layers: int | None, n_heads: int | None):
    """A predicate on instances: all of them without ``model``; that model's (size rule applied) with it."""
    if model is None:
        return lambda inst: True
    if n_layers is None or n_heads is None:
        if not isinstance(model, str):
            raise CatalogError(f"model must be a str such as 'gpt2' (or None); got {validate.describe(model)}. Pass e.g. 'gpt2'.")
        found = _current().resolve_model(model) if model.strip() else None
    else:
        found = known_model(model, n_layers, n_heads)
    wanted = found.id if found is not None else None
    return lambda inst: inst.model == wanted


def _summary(entry: Entry, keep) -> dict[str, Any]:
    return {
        "id": entry.id,
        "name": entry.name,
        "name_zh": entry.name_zh,
        "zh": [name for name, _ in entry.zh],
        "aliases": list(entry.aliases),
        "stage": entry.stage or "",
        "stage_name": entry.stage_name or "",
        "definition": entry.definition,
        "detector": list(entry.detector),
        "papers": [dict(paper_fields(link.paper), role=link.role) for link in entry.papers],
        "known_instances": [_instance(inst) for inst in entry.instances if keep(inst)],
    }


def paper_fields(paper: Paper) -> dict[str, Any]:
    """What a card shows of a paper: id, title, year, and url / authors when known."""
    out: dict[str, Any] = {"id": paper.id, "title": paper.title, "year": int(paper.year)}
    if paper.url:
        out["url"] = paper.url
    who = authors_label(paper)
    if who:
        out["authors"] = who
    return out


def authors_label(paper: Paper) -> str | None:
    """'Wang et al.', 'Doe and Roe', 'Doe' from the full list or the first author; None when unknown."""
    if paper.authors:
        surnames = [a.split(",")[0].strip() for a in paper.authors]
        if len(surnames) == 1:
            return surnames[0]
        return f"{surnames[0]} and {surnames[1]}" if len(surnames) == 2 else f"{surnames[0]} et al."
    return f"{paper.first_author} et al." if paper.first_author else None


def _instance(inst: Instance) -> dict[str, Any]:
    out: dict[str, Any] = {
        "model": inst.model, "hf_id": inst.model_hf_id, "layer": inst.layer, "head": inst.head,
        "source": inst.source, "confidence": inst.confidence,
    }
    if inst.note:
        out["note"] = inst.note
    return out
