"""What the views show, computed from reports, scores and attention: grids, text units, catalogue links.

Pure functions from headlab objects to the plain data the widgets sync (numbers as arrays,
the rest as JSON); no widget and no front end here, so each is unit-tested on its own.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from headlab.errors import InputError
from headlab.views import scales
from headlab.views.protocol import GRID_FIELDS, head_key

def _nan_col(sub, name):
    if name in sub.columns:
        return np.asarray(sub[name], dtype=np.float64)
    return np.full(len(sub), np.nan)


def grid_from_table(table, roles: Sequence[str], n_layers: int, n_heads: int, alpha: float) -> np.ndarray:
    """Report table -> float32 ``[R, 7, L, H]`` (score, ci_low, ci_high, p, q, sig, n); NaN = missing."""
    out = np.full((len(roles), len(GRID_FIELDS), n_layers, n_heads), np.nan, dtype=np.float32)
    for r, role in enumerate(roles):
        sub = table[table["role"] == role]
        if not len(sub):
            continue
        li = np.asarray(sub["layer"], dtype=int)
        hi = np.asarray(sub["head"], dtype=int)
        ok = (li >= 0) & (li < n_layers) & (hi >= 0) & (hi < n_heads)
        q = _nan_col(sub, "q_value")
        if "significant" in sub.columns:
            sig = np.asarray(sub["significant"].fillna(False), dtype=bool).astype(np.float64)
        else:
            sig = np.where(np.isfinite(q), (q < alpha).astype(np.float64), np.nan)
        cols = [_nan_col(sub, "score"), _nan_col(sub, "ci_low"), _nan_col(sub, "ci_high"),
                _nan_col(sub, "p_value"), q, sig, _nan_col(sub, "n")]
        for f, col in enumerate(cols):
            out[r, f, li[ok], hi[ok]] = col[ok]
    return out


def compact_fields(grid: np.ndarray, fields=GRID_FIELDS) -> tuple[np.ndarray, list[str]]:
    """Drop the fields no head has a value for: ``[R, F, L, H]`` -> ``[R, F', L, H]`` (score always kept).

    Per-text scores have no CI, p or q: the grid then travels as the score field alone.
    """
    keep = [i for i, f in enumerate(fields) if f == "score" or np.isfinite(grid[:, i]).any()]
    return np.ascontiguousarray(grid[:, keep]), [fields[i] for i in keep]


def grid_dtype(grid: np.ndarray, fields: Sequence[str] = GRID_FIELDS) -> str:
    """How the grid travels: float16, unless its ``n`` field holds sample counts float16 cannot
    hold exactly (above 2,048), which would print a wrong n; then float32."""
    if "n" not in fields:
        return "float16"
    n = np.asarray(grid, dtype=np.float32)[:, list(fields).index("n")]
    n = n[np.isfinite(n)]
    return "float16" if not n.size or np.array_equal(n.astype(np.float16).astype(np.float32), n) else "float32"


def grid_state(report, role: str | None = None, *, catalog: list[dict] | None = None, title: str = "") -> dict:
    """The synced traits of a HeadGrid of ``report`` (duck-typed, see ``HeadGrid``), grid as float32."""
    table = report.table
    roles = list(getattr(report, "roles", None) or list(dict.fromkeys(table["role"])))
    if not roles:
        raise InputError("the report has no roles to show; run m.roles(...) with at least one role that applies")
    if role is not None and role not in roles:
        raise InputError(f"unknown role {role!r}; choose one this report has: {', '.join(roles)}")
    L, H = int(report.n_layers), int(report.n_heads)
    alpha = float(getattr(report, "alpha", 0.05))
    grid, fields = compact_fields(grid_from_table(table, roles, L, H, alpha))
    entries = list(catalog or [])
    matches, role_matches = report_matches(table, entries, published_heads(entries, L, H))
    return dict(title=title, n_layers=L, n_heads=H, model_name=str(getattr(report, "model_name", "") or ""),
                roles=roles, role=role or roles[0], grid=grid, fields=fields, has_stats="q" in fields, alpha=alpha,
                matches=matches, role_matches=role_matches, highlight=[], highlight_label="", pending=[], notice="",
                score_info=report_score_info(report, roles))


def _method_of(report) -> str:
    """``report.method``, or the table's ``method`` column when every row agrees; "" when unknown."""
    method = getattr(report, "method", None)
    if isinstance(method, str) and method:
        return method
    table = getattr(report, "table", None)
    if table is not None and "method" in getattr(table, "columns", ()):
        values = {str(v) for v in table["method"].dropna().unique()}
        if len(values) == 1:
            return values.pop()
    return ""


def role_descriptions(roles: Sequence[str]) -> dict[str, str]:
    """Role id -> the role registry's one-line description of its sieve ("" for unregistered roles)."""
    from headlab import roles as registry

    out = {}
    for r in roles:
        try:
            out[r] = registry.get(r).description
        except Exception:  # noqa: BLE001 - a report may carry a role this session has not registered
            out[r] = ""
    return out


def score_info(method: str, roles: Sequence[str], *, correction: str = "", ci_level: float = 0.95) -> dict:
    """What the grid's numbers mean (keys ``protocol.SCORE_INFO_KEYS``): the method, each role's
    colour-scale kind (``scales.score_kind``), the registry's description of each role's sieve,
    how q was adjusted and the CI's level."""
    roles = list(roles)
    return {"method": method or "", "kinds": {r: scales.score_kind(method, r) for r in roles},
            "descriptions": role_descriptions(roles), "correction": correction or "",
            "ci_level": float(ci_level)}


def report_score_info(report, roles: Sequence[str]) -> dict:
    """``score_info`` of a report-like object, from its method and provenance when it has them."""
    prov = getattr(report, "provenance", None)
    prov = prov if isinstance(prov, dict) else {}
    ci = prov.get("ci") if isinstance(prov.get("ci"), dict) else {}
    return score_info(_method_of(report), roles, correction=str(prov.get("correction") or ""),
                      ci_level=float(ci.get("level", 0.95)))


def grid_from_scores(scores: dict, n_layers: int, n_heads: int) -> tuple[list[str], np.ndarray]:
    """``{role: [L, H]}`` -> (roles, float32 ``[R, 6, L, H]``) with only the score field filled."""
    roles = list(scores)
    out = np.full((len(roles), len(GRID_FIELDS), n_layers, n_heads), np.nan, dtype=np.float32)
    for r, role in enumerate(roles):
        m = np.asarray(scores[role], dtype=np.float32)
        if m.shape != (n_layers, n_heads):
            raise InputError(f"scores for role {role!r} have shape {m.shape}, expected ({n_layers}, {n_heads}); "
                             "pass one [n_layers, n_heads] array per role")
        out[r, 0] = m
    return roles, out


def published_heads(entries: list[dict], n_layers: int, n_heads: int) -> dict[str, list[str]]:
    """Head key -> names of the catalogue types published for that head.

    ``entries`` are catalogue summaries (``headlab.catalog.links.summaries``) whose
    ``known_instances`` were already narrowed to the model on display; instances outside the
    model's ``n_layers x n_heads`` are ignored.
    """
    out: dict[str, list[str]] = {}
    for e in entries:
        for k in e.get("known_instances", []):
            l, h = k.get("layer"), k.get("head")
            if isinstance(l, int) and isinstance(h, int) and 0 <= l < n_layers and 0 <= h < n_heads:
                names = out.setdefault(head_key(l, h), [])
                if e["name"] not in names:
                    names.append(e["name"])
    return out


def catalog_heads(entries: list[dict], roles: Sequence[str], grid: np.ndarray | None, has_stats: bool,
                  n_layers: int, n_heads: int, fields: Sequence[str] = GRID_FIELDS) -> dict[str, list]:
    """Catalogue id -> heads linked to it: ``[layer, head, "known" | "detected" | "top"]``.

    "known": published for this model; "detected": significant for a role that detects the
    type; "top" (no statistics, one text): the three strongest heads of such a role.
    ``grid``: ``[R, F, L, H]`` with the fields ``fields``.
    """
    fields = list(fields)
    role_index = {r: i for i, r in enumerate(roles)}
    out: dict[str, list] = {}
    for e in entries:
        heads: dict[tuple[int, int], str] = {}
        for k in e.get("known_instances", []):
            l, h = k.get("layer"), k.get("head")
            if isinstance(l, int) and isinstance(h, int) and 0 <= l < n_layers and 0 <= h < n_heads:
                heads[(l, h)] = "known"
        for role in e.get("detector", []):
            r = role_index.get(role)
            if r is None or grid is None:
                continue
            if has_stats:
                sig = grid[r, fields.index("sig")]
                for l, h in zip(*np.nonzero(np.nan_to_num(sig) > 0)):
                    heads.setdefault((int(l), int(h)), "detected")
            else:
                s = np.nan_to_num(grid[r, fields.index("score")], nan=-np.inf).ravel()
                for i in np.argsort(-s, kind="stable")[:3]:
                    if np.isfinite(s[i]):
                        heads.setdefault((int(i // n_heads), int(i % n_heads)), "top")
        if heads:
            out[e["id"]] = [[l, h, kind] for (l, h), kind in sorted(heads.items())]
    return out


def linked_entries(entries: list[dict], roles: Sequence[str], n_layers: int, n_heads: int) -> list[dict]:
    """The catalogue entries that concern this model: published for one of its heads, or detected
    by one of the roles on display. Views sync these and fetch any other entry when asked."""
    roles = set(roles)
    out = []
    for e in entries:
        known = any(isinstance(k.get("layer"), int) and isinstance(k.get("head"), int)
                    and 0 <= k["layer"] < n_layers and 0 <= k["head"] < n_heads for k in e.get("known_instances", []))
        if known or roles & set(e.get("detector", [])):
            out.append(e)
    return out


def _as_list(v) -> list[str]:
    if isinstance(v, (list, tuple, np.ndarray)):
        return [str(x) for x in v]
    return [v] if isinstance(v, str) and v else []


def report_matches(table, entries: list[dict], matches: dict[str, list[str]]):
    """Merge a report's catalogue columns: ``published`` (types published for the head) into
    ``matches``; ``catalog`` (types a significant role is consistent with) into role_matches."""
    names = {e["id"]: e["name"] for e in entries}
    matches = {k: list(v) for k, v in matches.items()}
    role_matches: dict[str, dict[str, list[str]]] = {}
    cols = [c for c in ("published", "catalog") if c in table.columns]
    if not cols:
        return matches, role_matches
    for row in table[["role", "layer", "head", *cols]].itertuples(index=False):
        key = head_key(int(row.layer), int(row.head))
        for tid in _as_list(getattr(row, "published", None)):
            lst = matches.setdefault(key, [])
            if names.get(tid, tid) not in lst:
                lst.append(names.get(tid, tid))
        fits = [names.get(t, t) for t in _as_list(getattr(row, "catalog", None))]
        if fits:
            role_matches.setdefault(str(row.role), {})[key] = fits
    return matches, role_matches




def text_units(att) -> list[list]:
    """Word groups of an Attention: ``[[first, end, label], ...]`` in token order.

    Consecutive tokens with the same word id form a word; special tokens stay their own unit
    (attention to [CLS] / [SEP] is often the largest share and worth seeing).
    """
    tokens = list(att.tokens)
    word_ids = list(getattr(att, "word_ids", None) or [None] * len(tokens))
    spans = list(getattr(att, "spans", None) or [None] * len(tokens))
    segs = getattr(att, "segment_ids", None)
    segs = [0] * len(tokens) if segs is None else [int(s) for s in segs]
    text = getattr(att, "text", None)
    texts = tuple(text) if isinstance(text, (tuple, list)) else ((text,) if isinstance(text, str) else ())
    units: list[list] = []
    i = 0
    while i < len(tokens):
        w = word_ids[i]
        j = i + 1
        if w is not None:
            while j < len(tokens) and word_ids[j] == w and segs[j] == segs[i]:
                j += 1
        label = None
        sp = [s for s in spans[i:j] if s is not None]
        if w is not None and sp and segs[i] < len(texts):
            label = texts[segs[i]][min(s[0] for s in sp):max(s[1] for s in sp)]
        if not label:
            label = "".join(t[2:] if t.startswith("##") else t for t in tokens[i:j]) if w is not None else tokens[i]
        units.append([i, j, label])
        i = j
    return units
