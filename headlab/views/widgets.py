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
from typing import Iterable

import anywidget
import numpy as np
import traitlets

from headlab.errors import HeadlabError, InputError
from headlab.head_names import parse_head
from headlab.views import payload
from headlab.views.codec import pack_array
from headlab.views.protocol import GRID_FIELDS, head_key
from headlab.views.static_page import STATIC, write_html

#: at most this many heads overlaid in one attention view
MAX_OVERLAY = 8

__all__ = ["HeadGrid", "AttentionView", "Explorer", "CatalogBrowser", "explore", "browse"]


def _grid_to_json(value, _widget):
    return None if value is None else pack_array(value, "float32")


def _head_to_json(value, _widget):
    return None if value is None else [int(value[0]), int(value[1])]


class _View(anywidget.AnyWidget):
    """Common base: bundle, view switch, title, static export."""

    # A missing bundle must not break `import headlab.views` (anywidget reads files at class
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
        return write_html(self, path, title=title, heads=heads)


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
    ``.n_layers``, ``.n_heads``, ``.alpha``, ``.model_name``. ``catalog`` is the list of
    catalogue summaries to name published heads with (``rep.show()`` passes them); without it,
    tooltips show the catalogue ids from the report's ``published`` column.
    """

    def __init__(self, report, role: str | None = None, *, catalog: list[dict] | None = None, title: str = "",
                 **kwargs):
        table = report.table
        roles = list(getattr(report, "roles", None) or list(dict.fromkeys(table["role"])))
        if not roles:
            raise InputError("the report has no roles to show")
        L, H = int(report.n_layers), int(report.n_heads)
        alpha = float(getattr(report, "alpha", 0.05))
        grid = payload.grid_from_table(table, roles, L, H, alpha)
        model_name = str(getattr(report, "model_name", "") or "")
        entries = list(catalog or [])
        matches, role_matches = payload.report_matches(table, entries, payload.published_heads(entries, L, H))
        has_stats = bool(np.isfinite(grid[:, 4]).any())
        super().__init__(
            _view="grid", title=title, n_layers=L, n_heads=H, model_name=model_name, roles=roles,
            grid=grid, has_stats=has_stats, alpha=alpha, matches=matches, role_matches=role_matches, **kwargs,
        )
        self.role = role or roles[0]


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
        return dict(tokens=[str(t) for t in att.tokens], units=payload.text_units(att), special=special)

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
            pre[head_key(l, h)] = pack_array(w[l, h], enc)
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


class Explorer(_View, _GridState, _AttentionState):
    """Grid + attention view + catalogue card on one text, linked both ways (``hl.explore``).

    Clicking a head in the grid sets ``selected`` and shows that head's attention (shift-click
    overlays several); picking a catalogue type (``entry``) outlines its heads in the grid.
    ``catalog``: the catalogue summaries for the card, their known instances narrowed to this
    model (``hl.explore`` passes them).
    """

    catalog = traitlets.List().tag(sync=True)
    catalog_heads = traitlets.Dict().tag(sync=True)
    entry = traitlets.Unicode("").tag(sync=True)

    def __init__(self, att, report=None, roles=None, *, catalog: list[dict] | None = None,
                 model_name: str | None = None, title: str = "", selected=None, mode="auto", level="token", top_k=3, threshold=0.05, encoding="float16", **kwargs):
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
            grid = payload.grid_from_table(table, role_list, L, H, alpha)
            has_stats = bool(np.isfinite(grid[:, 4]).any())
            report_table = table
        else:
            scores = payload.quick_scores(att, roles)
            if not scores:
                raise InputError("None of these roles applies to this text.")
            role_list, grid = payload.grid_from_scores(scores, L, H)
            alpha, has_stats, report_table = 0.05, False, None
        entries = list(catalog or [])
        matches = payload.published_heads(entries, L, H)
        role_matches = {}
        if report_table is not None:
            matches, role_matches = payload.report_matches(report_table, entries, matches)
        cat_heads = payload.catalog_heads(entries, role_list, grid, has_stats, L, H)
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
    shows per-text role scores (``headlab.views.payload.quick_scores``). ``roles`` limits the roles.
    Extra keywords go to :class:`Explorer` (``catalog``, ``selected``, ``mode``, ``level``,
    ``top_k``, ``threshold``, ``title``) or, as ``truncate``, to ``m.attention``. ``hl.explore``
    is this function with the catalogue summaries of the model filled in.
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


class CatalogBrowser(_View):
    """Search and read the catalogue of known head types (``hl.catalog.browse()``).

    ``entries``: catalogue summaries (``headlab.catalog.links.summaries()``; ``hl.catalog.browse``
    passes all of them).
    """

    entries = traitlets.List().tag(sync=True)
    query = traitlets.Unicode("").tag(sync=True)
    stage = traitlets.Unicode("").tag(sync=True)
    entry = traitlets.Unicode("").tag(sync=True)

    def __init__(self, query: str = "", *, entries: Iterable[dict] | None = None, title: str = "", **kwargs):
        super().__init__(_view="catalog", title=title, entries=list(entries or []), query=query, **kwargs)


def browse(query: str = "", **kwargs) -> CatalogBrowser:
    """The catalogue browser widget."""
    return CatalogBrowser(query, **kwargs)
