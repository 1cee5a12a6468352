"""Catalogue links of a report (which known head types a role detects, which are published for a head)."""

from __future__ import annotations


def _catalog_lookup(model_name: str, roles: list[str], n_layers: int, n_heads: int):
    """Catalogue links, guarded: ``({role: [ids]}, {(layer, head): [ids]})``; empty when the
    catalogue or its functions are missing or fail (the report must not depend on them)."""
    by_role: dict[str, list[str]] = {r: [] for r in roles}
    by_head: dict[tuple[int, int], list[str]] = {}
    try:
        from headlab import catalog
    except Exception:
        return by_role, by_head
    for_role = getattr(catalog, "for_role", None)
    if callable(for_role):
        for r in roles:
            try:
                by_role[r] = _ids(for_role(r))
            except Exception:
                by_role[r] = []
    for_head = getattr(catalog, "for_head", None)
    if not (callable(for_head) and model_name):
        return by_role, by_head
    model_fn = getattr(catalog, "model", None)
    if callable(model_fn):
        # Only link published heads when the catalogue knows the model *and* its size
        # matches (a private model may share a public model's name).
        try:
            known = model_fn(model_name)
        except Exception:
            return by_role, by_head
        size = (getattr(known, "n_layers", n_layers), getattr(known, "n_heads", n_heads))
        if size != (n_layers, n_heads):
            return by_role, by_head
    if True:
        try:
            for layer in range(n_layers):
                for head in range(n_heads):
                    ids = _ids(for_head(model_name, layer, head))
                    if ids:
                        by_head[(layer, head)] = ids
        except Exception:  # unknown model, or a model of another size under that name
            by_head = {}
    return by_role, by_head


def _ids(entries) -> list[str]:
    """Catalogue ids from entries (``.id``; instances carry the type id in ``.type``) or strings."""
    out: list[str] = []
    for e in entries or []:
        i = e if isinstance(e, str) else (getattr(e, "id", None) or getattr(e, "type", None))
        if i and str(i) not in out:
            out.append(str(i))
    return out


def _norm_model(name: str | None) -> str:
    return (name or "").strip().lower().rsplit("/", 1)[-1]


def view_catalog(model_name: str, n_layers: int, n_heads: int) -> list[dict]:
    """Catalogue summaries for a view of this model, known instances narrowed to it."""
    from headlab import catalog
    from headlab.views.payload import _entry_summary

    want = _norm_model(model_name)
    out = []
    for e in catalog.entries():
        d = _entry_summary(e.to_dict())
        d["known_instances"] = [k for k in d["known_instances"] if want and _norm_model(k.get("model")) == want]
        out.append(d)
    return out
