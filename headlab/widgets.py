"""Interactive notebook views (anywidget): HeadGrid, AttentionView, Explorer, CatalogBrowser.

All four share one front-end bundle (``headlab/static/index.js``, built from ``js/src``) and
pick their view through the ``_view`` trait.

Data channels (see ``docs/views.md``):

* synced traits carry small things only: ``[roles, fields, layers, heads]`` score blocks as
  binary float32, token strings, the selection, control settings;
* one head's ``[T, T]`` attention block travels on request, through a custom message with a
  binary float16 (or row-scaled uint8) buffer, so ``[L, H, T, T]`` never enters widget state;
* ``widget.to_html(path)`` writes a self-contained page that embeds the data it needs.
"""

from __future__ import annotations

import pathlib
from typing import Iterable, Sequence

import anywidget
import numpy as np
import traitlets

from headlab.errors import HeadlabError, InputError
from headlab.headspec import parse_head

STATIC = pathlib.Path(__file__).parent / "static"
GRID_FIELDS = ["score", "ci_low", "ci_high", "p", "q", "sig"]
MAX_OVERLAY = 8

__all__ = ["HeadGrid", "AttentionView", "Explorer", "CatalogBrowser", "explore", "browse"]


# --------------------------------------------------------------------------- binary packing
def pack_array(arr: np.ndarray, dtype: str = "float32") -> dict:
    """numpy array -> ``{shape, dtype, buf[, scale]}`` with memoryviews (sent as comm buffers).

    ``dtype``: ``float32``, ``float16`` or ``uint8``. ``uint8`` stores each row scaled to its
    own maximum (``scale`` holds the float32 row maxima), which keeps the strongest weights of
    every query exact to 1/255 of that row's maximum.
    """
    a = np.asarray(arr, dtype=np.float32)
    if dtype == "float32":
        return {"shape": list(a.shape), "dtype": "float32", "buf": memoryview(np.ascontiguousarray(a, "<f4"))}
    if dtype == "float16":
        return {"shape": list(a.shape), "dtype": "float16", "buf": memoryview(np.ascontiguousarray(a, "<f2"))}
    if dtype == "uint8":
        rows = a.reshape(-1, a.shape[-1]) if a.ndim else a.reshape(1, 1)
        mx = np.nanmax(np.abs(rows), axis=1) if rows.size else np.zeros(0, np.float32)
        mx = np.where(np.isfinite(mx) & (mx > 0), mx, 1.0).astype("<f4")
        q = np.clip(np.rint(np.nan_to_num(rows / mx[:, None]) * 255), 0, 255).astype(np.uint8)
        return {"shape": list(a.shape), "dtype": "uint8", "buf": memoryview(np.ascontiguousarray(q)),
                "scale": memoryview(np.ascontiguousarray(mx))}
    raise InputError(f"encoding must be 'float32', 'float16' or 'uint8', not {dtype!r}")


def unpack_array(p: dict) -> np.ndarray:
    """Inverse of :func:`pack_array` (used by tests and by Python-side consumers)."""
    shape = tuple(p["shape"])
    if p["dtype"] == "float32":
        return np.frombuffer(bytes(p["buf"]), "<f4").reshape(shape)
    if p["dtype"] == "float16":
        return np.frombuffer(bytes(p["buf"]), "<f2").astype(np.float32).reshape(shape)
    if p["dtype"] == "uint8":
        q = np.frombuffer(bytes(p["buf"]), np.uint8).astype(np.float32).reshape(-1, shape[-1])
        mx = np.frombuffer(bytes(p["scale"]), "<f4")
        return (q / 255.0 * mx[:, None]).reshape(shape)
    raise InputError(f"unknown dtype {p['dtype']!r}")


def _grid_to_json(value, _widget):
    return None if value is None else pack_array(value, "float32")


def _head_to_json(value, _widget):
    return None if value is None else [int(value[0]), int(value[1])]


# --------------------------------------------------------------------------- base class
class _View(anywidget.AnyWidget):
    """Common base: bundle, view switch, title, static export."""

    # A missing bundle must not break `import headlab.widgets` (anywidget reads files at class
    # creation); __init__ then says how to build it.
    _esm = STATIC / "index.js" if (STATIC / "index.js").is_file() else "export default { render() {} };"
    _css = STATIC / "styles.css" if (STATIC / "styles.css").is_file() else ""
    _view = traitlets.Unicode("").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)

    def __init__(self, **kwargs):
        if not (STATIC / "index.js").exists():
            raise HeadlabError(
                "headlab's front-end bundle is missing (headlab/static/index.js): "
                "run `npm ci && npm run build` in the source tree, or reinstall headlab"
            )
        super().__init__(**kwargs)

    def to_html(self, path: str | pathlib.Path | None = None, *, title: str | None = None, heads=None) -> str:
        """Write (and return) a self-contained HTML page of this view.

        The page inlines the bundle, the stylesheet and the widget's data, needs no kernel and
        no network, and keeps every interaction that does not need new data. For views that
        show attention, the blocks of ``heads`` are embedded (default: the heads on display,
        or every head when the whole tensor is small; ``heads="all"`` forces all of them).
        """
        from headlab._export import write_html

        return write_html(self, path, title=title, heads=heads)


# --------------------------------------------------------------------------- grid data
def _nan_col(sub, name):
    if name in sub.columns:
        return np.asarray(sub[name], dtype=np.float64)
    return np.full(len(sub), np.nan)


def grid_from_table(table, roles: Sequence[str], n_layers: int, n_heads: int, alpha: float) -> np.ndarray:
    """Report table -> float32 ``[R, 6, L, H]`` (score, ci_low, ci_high, p, q, sig); NaN = missing."""
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
                _nan_col(sub, "p_value"), q, sig]
        for f, col in enumerate(cols):
            out[r, f, li[ok], hi[ok]] = col[ok]
    return out


def grid_from_scores(scores: dict, n_layers: int, n_heads: int) -> tuple[list[str], np.ndarray]:
    """``{role: [L, H]}`` -> (roles, float32 ``[R, 6, L, H]``) with only the score field filled."""
    roles = list(scores)
    out = np.full((len(roles), len(GRID_FIELDS), n_layers, n_heads), np.nan, dtype=np.float32)
    for r, role in enumerate(roles):
        m = np.asarray(scores[role], dtype=np.float32)
        if m.shape != (n_layers, n_heads):
            raise InputError(f"scores for role {role!r} have shape {m.shape}, expected ({n_layers}, {n_heads})")
        out[r, 0] = m
    return roles, out


# --------------------------------------------------------------------------- catalogue glue
def _norm_model(name: str | None) -> str:
    return (name or "").strip().lower().rsplit("/", 1)[-1]


def _catalog_entries() -> list[dict]:
    """Catalogue entries as plain dicts, or [] while the catalogue is unavailable."""
    try:
        from headlab import catalog
    except Exception:
        return []
    try:
        raw = catalog.entries()
    except Exception:
        return []
    out = []
    for e in raw:
        try:
            d = e.to_dict() if hasattr(e, "to_dict") else dict(e)
        except Exception:
            continue
        out.append(_entry_summary(d))
    return [e for e in out if e.get("id")]


def _text(v) -> str:
    return "" if v is None else str(v)


def _entry_summary(d: dict, instances: bool = True) -> dict:
    """Normalise one catalogue entry to the fields the front end reads (all plain JSON)."""
    stage = d.get("stage")
    if isinstance(stage, dict):
        stage = stage.get("primary") or stage.get("name") or ""
    papers = []
    for p in d.get("papers") or []:
        if isinstance(p, str):
            papers.append({"id": p})
        elif isinstance(p, dict):
            authors = p.get("authors")
            if isinstance(authors, (list, tuple)):
                authors = ", ".join(map(str, authors[:3])) + (" et al." if len(authors) > 3 else "")
            papers.append({k: v for k, v in {
                "id": _text(p.get("id")), "title": _text(p.get("title")), "year": p.get("year"),
                "url": _text(p.get("url") or p.get("link") or (f"https://doi.org/{p['doi']}" if p.get("doi") else "")),
                "authors": _text(authors),
            }.items() if v not in (None, "")})
    inst = []
    for k in d.get("known_instances") or d.get("instances") or []:
        if isinstance(k, dict):
            inst.append({key: k[key] for key in ("model", "layer", "head", "note", "source") if k.get(key) is not None})
    out = {
        "id": _text(d.get("id")),
        "name": _text(d.get("name") or d.get("id")),
        "aliases": [str(a) for a in d.get("aliases") or []],
        "stage": _text(stage),
        "definition": " ".join(_text(d.get("definition")).split()),
        "detector": [str(r) for r in d.get("detector") or []],
        "papers": papers,
    }
    if instances:
        out["known_instances"] = inst
    return out


def _head_matches(entries: list[dict], model_name: str, n_layers: int, n_heads: int) -> dict[str, list[str]]:
    """"layer.head" -> names of catalogue types published for that head of this model."""
    want = _norm_model(model_name)
    out: dict[str, list[str]] = {}
    if not want:
        return out
    for e in entries:
        for k in e.get("known_instances", []):
            if _norm_model(k.get("model")) != want or "layer" not in k or "head" not in k:
                continue
            try:
                l, h = int(k["layer"]), int(k["head"])
            except (TypeError, ValueError):
                continue
            if 0 <= l < n_layers and 0 <= h < n_heads:
                names = out.setdefault(f"{l}.{h}", [])
                if e["name"] not in names:
                    names.append(e["name"])
    return out


def _catalog_heads(entries, model_name, roles, grid, has_stats, n_layers, n_heads) -> dict:
    """Catalogue id -> heads of this model linked to it: [layer, head, "known" | "detected" | "top"]."""
    want = _norm_model(model_name)
    role_index = {r: i for i, r in enumerate(roles)}
    out: dict[str, list] = {}
    for e in entries:
        heads: dict[tuple[int, int], str] = {}
        for k in e.get("known_instances", []):
            if _norm_model(k.get("model")) == want and "layer" in k and "head" in k:
                try:
                    l, h = int(k["layer"]), int(k["head"])
                except (TypeError, ValueError):
                    continue
                if 0 <= l < n_layers and 0 <= h < n_heads:
                    heads[(l, h)] = "known"
        for role in e.get("detector", []):
            r = role_index.get(role)
            if r is None or grid is None:
                continue
            if has_stats:
                sig = grid[r, 5]
                for l, h in zip(*np.nonzero(np.nan_to_num(sig) > 0)):
                    heads.setdefault((int(l), int(h)), "detected")
            else:   # single text, no test: the three strongest heads
                s = np.nan_to_num(grid[r, 0], nan=-np.inf).ravel()
                for i in np.argsort(-s, kind="stable")[:3]:
                    if np.isfinite(s[i]):
                        heads.setdefault((int(i // n_heads), int(i % n_heads)), "top")
        if heads:
            out[e["id"]] = [[l, h, kind] for (l, h), kind in sorted(heads.items())]
    return out


def _as_list(v) -> list[str]:
    if isinstance(v, (list, tuple, np.ndarray)):
        return [str(x) for x in v]
    return [v] if isinstance(v, str) and v else []


def _report_matches(table, entries, matches):
    """Merge a report's catalogue columns: ``published`` (types published for the head) into
    ``matches``; ``catalog`` (types a significant role is consistent with) into role_matches."""
    names = {e["id"]: e["name"] for e in entries}
    matches = {k: list(v) for k, v in matches.items()}
    role_matches: dict[str, dict[str, list[str]]] = {}
    cols = [c for c in ("published", "catalog") if c in table.columns]
    if not cols:
        return matches, role_matches
    for row in table[["role", "layer", "head", *cols]].itertuples(index=False):
        key = f"{int(row.layer)}.{int(row.head)}"
        for tid in _as_list(getattr(row, "published", None)):
            lst = matches.setdefault(key, [])
            if names.get(tid, tid) not in lst:
                lst.append(names.get(tid, tid))
        fits = [names.get(t, t) for t in _as_list(getattr(row, "catalog", None))]
        if fits:
            role_matches.setdefault(str(row.role), {})[key] = fits
    return matches, role_matches


# --------------------------------------------------------------------------- grid mixin
class _GridState(traitlets.HasTraits):
    n_layers = traitlets.Int(0).tag(sync=True)
    n_heads = traitlets.Int(0).tag(sync=True)
    model_name = traitlets.Unicode("").tag(sync=True)
    roles = traitlets.List(traitlets.Unicode()).tag(sync=True)
    role = traitlets.Unicode("").tag(sync=True)
    grid = traitlets.Any(None).tag(sync=True, to_json=_grid_to_json)
    fields = traitlets.List(traitlets.Unicode(), default_value=list(GRID_FIELDS)).tag(sync=True)
    has_stats = traitlets.Bool(False).tag(sync=True)
    alpha = traitlets.Float(0.05).tag(sync=True)
    matches = traitlets.Dict().tag(sync=True)
    role_matches = traitlets.Dict().tag(sync=True)
    selected = traitlets.Any(None).tag(sync=True, to_json=_head_to_json)
    highlight = traitlets.List().tag(sync=True)
    highlight_label = traitlets.Unicode("").tag(sync=True)

    @traitlets.validate("selected")
    def _check_selected(self, proposal):
        v = proposal["value"]
        return None if v is None else parse_head(v, self.n_layers, self.n_heads)

    @traitlets.validate("role")
    def _check_role(self, proposal):
        v = proposal["value"]
        if v and self.roles and v not in self.roles:
            raise InputError(f"unknown role {v!r}; this view has {', '.join(self.roles)}")
        return v

    def scores(self, role: str | None = None) -> np.ndarray:
        """The ``[n_layers, n_heads]`` scores shown for ``role`` (default: the current role)."""
        role = role or self.role
        return np.array(self.grid[self.roles.index(role), 0])


class HeadGrid(_View, _GridState):
    """Layers x heads heatmap of a report's scores (``rep.show()``).

    ``selected`` is the clicked head as ``(layer, head)`` (or ``None``); set it from Python to
    move the selection, and ``grid.observe(fn, "selected")`` to react to clicks. ``role``
    switches the role on display; ``highlight`` outlines a list of heads.

    ``report`` is duck-typed: ``.table`` (one row per role, layer, head with ``score``,
    ``ci_low``, ``ci_high``, ``p_value``, ``q_value``, ``significant``), ``.roles``,
    ``.n_layers``, ``.n_heads``, ``.alpha``, ``.model_name``.
    """

    def __init__(self, report, role: str | None = None, *, title: str = "", **kwargs):
        table = report.table
        roles = list(getattr(report, "roles", None) or list(dict.fromkeys(table["role"])))
        if not roles:
            raise InputError("the report has no roles to show")
        L, H = int(report.n_layers), int(report.n_heads)
        alpha = float(getattr(report, "alpha", 0.05))
        grid = grid_from_table(table, roles, L, H, alpha)
        model_name = str(getattr(report, "model_name", "") or "")
        entries = _catalog_entries()
        matches = _head_matches(entries, model_name, L, H)
        matches, role_matches = _report_matches(table, entries, matches)
        has_stats = bool(np.isfinite(grid[:, 4]).any())
        super().__init__(
            _view="grid", title=title, n_layers=L, n_heads=H, model_name=model_name, roles=roles,
            grid=grid, has_stats=has_stats, alpha=alpha, matches=matches, role_matches=role_matches, **kwargs,
        )
        self.role = role or roles[0]


# --------------------------------------------------------------------------- attention mixin
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


class _AttentionState(traitlets.HasTraits):
    tokens = traitlets.List(traitlets.Unicode()).tag(sync=True)
    units = traitlets.List().tag(sync=True)
    special = traitlets.List(traitlets.Int()).tag(sync=True)
    heads = traitlets.List().tag(sync=True)
    mode = traitlets.Enum(["auto", "arcs", "lines", "matrix"], "auto").tag(sync=True)
    level = traitlets.Enum(["token", "word"], "token").tag(sync=True)
    top_k = traitlets.Int(3, min=0).tag(sync=True)
    threshold = traitlets.Float(0.05, min=0.0, max=1.0).tag(sync=True)
    encoding = traitlets.Enum(["float16", "uint8"], "float16")

    _att = None   # the Attention object (kept in the kernel, never synced)

    def _init_attention(self, att):
        w = getattr(att, "weights", None)
        if w is None or np.ndim(w) != 4 or w.shape[2] != w.shape[3]:
            raise InputError("expected a headlab.Attention with weights [n_layers, n_heads, T, T]")
        if len(att.tokens) != w.shape[2]:
            raise InputError(f"{len(att.tokens)} tokens but attention over {w.shape[2]} positions")
        self._att = att
        mask = getattr(att, "special_mask", None)
        special = [int(i) for i in np.nonzero(np.asarray(mask, dtype=bool))[0]] if mask is not None else []
        return dict(tokens=[str(t) for t in att.tokens], units=text_units(att), special=special)

    @traitlets.validate("heads")
    def _check_heads(self, proposal):
        L, H = self._att.weights.shape[:2] if self._att is not None else (10**9, 10**9)
        out = []
        for v in proposal["value"]:
            h = list(parse_head(v, L, H))
            if h not in out:
                out.append(h)
        return out[-MAX_OVERLAY:]

    def pattern(self, layer: int, head: int) -> np.ndarray:
        """Token-level attention of one head, float32 ``[T, T]`` (rows = queries)."""
        L, H = self._att.weights.shape[:2]
        l, h = parse_head((layer, head), L, H)
        return np.asarray(self._att.weights[l, h], dtype=np.float32)

    def _on_custom_msg(self, _widget, content, _buffers):
        if not isinstance(content, dict) or content.get("kind") != "pattern":
            return
        rid = content.get("rid")
        try:
            block = pack_array(self.pattern(content["layer"], content["head"]), self.encoding)
            bufs = [block["buf"]] + ([block["scale"]] if "scale" in block else [])
            self.send({"kind": "pattern", "rid": rid, "layer": int(content["layer"]), "head": int(content["head"]),
                       "shape": block["shape"], "dtype": block["dtype"]}, buffers=bufs)
        except Exception as exc:   # errors travel back to the view that asked
            self.send({"kind": "error", "rid": rid, "message": str(exc)})

    def _export_extra(self, heads=None) -> dict:
        w = self._att.weights
        L, H, T, _ = w.shape
        if heads is None:
            # Everything when the whole tensor is small (uint8 ~ L*H*T*T bytes), else what is on display.
            heads = "all" if L * H * T * T <= 6_000_000 else [tuple(h) for h in self.heads]
            sel = getattr(self, "selected", None)
            if heads != "all" and sel is not None and tuple(sel) not in heads:
                heads.append(tuple(sel))
        if heads == "all":
            heads = [(l, h) for l in range(L) for h in range(H)]
        enc = "uint8" if len(heads) > 4 else "float16"
        pre = {}
        for v in heads:
            l, h = parse_head(v, L, H)
            pre[f"{l}.{h}"] = pack_array(w[l, h], enc)
        return {"preload": pre}


class AttentionView(_View, _AttentionState):
    """One or more heads on a text: arcs, bipartite lines or a matrix (canvas).

    ``heads``: a ``(layer, head)`` pair or a list of them (overlaid in distinct colours).
    ``mode``: ``"auto"`` (arcs up to 80 units, matrix above), ``"arcs"``, ``"lines"``,
    ``"matrix"``. ``level``: ``"token"`` or ``"word"`` (Clark et al.'s aggregation: sum over
    the pieces of a key word, mean over the pieces of a query word). ``top_k`` and
    ``threshold`` choose the edges drawn. Patterns are sent to the page one head at a time.
    """

    def __init__(self, att, heads=(0, 0), *, mode="auto", level="token", top_k=3, threshold=0.05,
                 encoding="float16", title="", **kwargs):
        init = self._init_attention(att)
        if heads and not isinstance(heads[0], (list, tuple)):
            heads = [heads]
        super().__init__(_view="attention", title=title, mode=mode, level=level, top_k=top_k,
                         threshold=threshold, encoding=encoding, **init, **kwargs)
        self.heads = [list(h) for h in heads or []]
        self.on_msg(self._on_custom_msg)


# --------------------------------------------------------------------------- explorer
class Explorer(_View, _GridState, _AttentionState):
    """Grid + attention view + catalogue card on one text, linked both ways (``hl.explore``).

    Clicking a head in the grid sets ``selected`` and shows that head's attention (shift-click
    overlays several); picking a catalogue type (``entry``) outlines its heads in the grid.
    """

    catalog = traitlets.List().tag(sync=True)
    catalog_heads = traitlets.Dict().tag(sync=True)
    entry = traitlets.Unicode("").tag(sync=True)

    def __init__(self, att, report=None, roles=None, *, model_name: str | None = None, title: str = "",
                 selected=None, mode="auto", level="token", top_k=3, threshold=0.05, encoding="float16", **kwargs):
        init = self._init_attention(att)
        L, H = att.weights.shape[:2]
        model_name = model_name or getattr(att, "model_name", "") or (getattr(report, "model_name", "") if report is not None else "")
        if report is not None:
            if (int(report.n_layers), int(report.n_heads)) != (L, H):
                raise InputError(f"the report is for {report.n_layers} x {report.n_heads} heads, the attention has {L} x {H}")
            table = report.table
            role_list = list(getattr(report, "roles", None) or list(dict.fromkeys(table["role"])))
            if roles:
                missing = [r for r in roles if r not in role_list]
                if missing:
                    raise InputError(f"roles {missing} are not in the report (it has {role_list})")
                role_list = list(roles)
            alpha = float(getattr(report, "alpha", 0.05))
            grid = grid_from_table(table, role_list, L, H, alpha)
            has_stats = bool(np.isfinite(grid[:, 4]).any())
            report_table = table
        else:
            from headlab.roles import quick_scores

            scores = quick_scores(att, roles)
            if not scores:
                raise InputError("None of these roles applies to this text.")
            role_list, grid = grid_from_scores(scores, L, H)
            alpha, has_stats, report_table = 0.05, False, None
        entries = [_entry_summary(e, instances=True) for e in _catalog_entries()]
        matches = _head_matches(entries, model_name, L, H)
        role_matches = {}
        if report_table is not None:
            matches, role_matches = _report_matches(report_table, entries, matches)
        cat_heads = _catalog_heads(entries, model_name, role_list, grid, has_stats, L, H)
        want = _norm_model(model_name)
        for e in entries:   # keep only this model's instances in the synced catalogue
            e["known_instances"] = [k for k in e["known_instances"] if _norm_model(k.get("model")) == want]
        super().__init__(
            _view="explorer", title=title, n_layers=L, n_heads=H, model_name=model_name, roles=role_list,
            grid=grid, has_stats=has_stats, alpha=alpha, matches=matches, role_matches=role_matches, catalog=entries,
            catalog_heads=cat_heads, mode=mode, level=level, top_k=top_k, threshold=threshold,
            encoding=encoding, **init, **kwargs,
        )
        self.role = role_list[0] if role_list else ""
        self.on_msg(self._on_custom_msg)
        if selected is not None:
            self.selected = selected

    @traitlets.observe("selected")
    def _follow_selection(self, change):
        new = change["new"]
        if new is not None and list(new) not in self.heads:
            self.heads = [list(new)]

    @traitlets.observe("entry")
    def _follow_entry(self, change):
        heads = [[l, h] for l, h, _kind in self.catalog_heads.get(change["new"], [])]
        if heads != self.highlight:
            self.highlight = heads
        names = {e["id"]: e["name"] for e in self.catalog}
        self.highlight_label = names.get(change["new"], "")


def explore(m, text, report=None, roles=None, **kwargs) -> Explorer:
    """Explorer widget for model ``m`` on ``text`` (a string, a pair, or an ``Attention``).

    With ``report`` the grid shows the report's scores and significance; without one it
    shows per-text role scores (``headlab.roles.quick_scores``). ``roles`` limits the roles.
    Extra keywords go to :class:`Explorer` (``selected``, ``mode``, ``level``, ``top_k``,
    ``threshold``, ``title``) or, as ``truncate``, to ``m.attention``.
    """
    truncate = kwargs.pop("truncate", None)
    if hasattr(text, "weights") and hasattr(text, "tokens"):
        att = text
    else:
        att = m.attention(text) if truncate is None else m.attention(text, truncate=truncate)
        if isinstance(att, list):
            raise InputError("explore() shows one text at a time; pass a single string or pair")
    name = getattr(m, "name", None) or getattr(att, "model_name", None)
    return Explorer(att, report=report, roles=roles, model_name=name, **kwargs)


# --------------------------------------------------------------------------- catalogue browser
class CatalogBrowser(_View):
    """Search and read the catalogue of known head types (``hl.catalog.browse()``)."""

    entries = traitlets.List().tag(sync=True)
    query = traitlets.Unicode("").tag(sync=True)
    stage = traitlets.Unicode("").tag(sync=True)
    entry = traitlets.Unicode("").tag(sync=True)

    def __init__(self, query: str = "", *, entries: Iterable[dict] | None = None, title: str = "", **kwargs):
        data = [_entry_summary(e) for e in entries] if entries is not None else _catalog_entries()
        super().__init__(_view="catalog", title=title, entries=data, query=query, **kwargs)


def browse(query: str = "", **kwargs) -> CatalogBrowser:
    """The catalogue browser widget."""
    return CatalogBrowser(query, **kwargs)
