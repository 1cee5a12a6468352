"""Interactive notebook views (anywidget): HeadGrid, AttentionView, Explorer, CatalogBrowser.

All four share one front-end bundle (``headlab/static/index.js``, built from ``js/src``) and
pick their view through the ``_view`` trait.

Data channels (see ``docs/views.md``):

* synced traits carry small things only: the ``[roles, fields, layers, heads]`` score block as
  binary float16 (only the fields that have values), token strings, the selection, settings,
  the catalogue entries that concern the model;
* one head's pattern travels on request, through a custom message with sparse rows (each
  query's strongest keys, uint8 weights with a per-row scale), so ``[L, H, T, T]`` never enters
  widget state and a click at 8,000 tokens moves kilobytes, not a dense block;
* displaying a view also emits a kernel-free payload, an SVG picture and a line of text
  (``views/mime.py``); ``widget.to_html(path)`` writes a self-contained page.

``AttentionView`` lives in ``views/attention_view.py`` and ``Explorer`` in ``views/explorer.py``;
both are importable from here.
"""

from __future__ import annotations

from typing import Iterable

import traitlets

from headlab.errors import InputError
from headlab.views import payload, svg, thumbnails
from headlab.views.attention_view import MAX_OVERLAY, AttentionView
from headlab.views.base import GridState, View
from headlab.views.explorer import Explorer, explore

__all__ = ["HeadGrid", "AttentionView", "Explorer", "CatalogBrowser", "explore", "browse", "MAX_OVERLAY"]


class HeadGrid(View, GridState):
    """Layers x heads heatmap of a report's scores (``rep.show()``).

    ``selected`` is the clicked head as ``(layer, head)`` (or ``None``); set it from Python to
    move the selection, and ``grid.observe(fn, "selected")`` to react to clicks. ``role``
    switches the role on display; ``highlight`` outlines a list of heads.

    ``report`` is duck-typed: ``.table`` (one row per role, layer, head with ``score``,
    ``ci_low``, ``ci_high``, ``p_value``, ``q_value``, ``significant``), ``.roles``,
    ``.n_layers``, ``.n_heads``, ``.alpha``, ``.model_name``. ``catalog`` is the list of
    catalogue summaries to name published heads with (``rep.show()`` passes them); without it,
    tooltips show the catalogue ids from the report's ``published`` column. ``attention``: an
    ``Attention`` of the same model on one text; the grid then offers a *patterns* mode, each
    cell a thumbnail of that head's attention on the text (``grid_mode = "patterns"``).
    """

    def __init__(self, report, role: str | None = None, *, catalog: list[dict] | None = None, title: str = "",
                 attention=None, grid_mode: str = "scores", bundle_bytes: int | None = None, **kwargs):
        st = payload.grid_state(report, role, catalog=catalog, title=title)
        first = st.pop("role")
        super().__init__(_view="grid", bundle_bytes=bundle_bytes, grid_mode=grid_mode, **st, **kwargs)
        self.role = first
        if attention is not None:
            L, H = thumbnails.attention_shape(attention)
            if (L, H) != (self.n_layers, self.n_heads):
                raise InputError(f"the attention has {L} x {H} heads, the report {self.n_layers} x {self.n_heads}: "
                                 "pass the attention of the report's model")
            thumbnails.ThumbnailJob(self, attention, L, H).start(background=False)

    def _summary(self) -> str:
        return f"HeadGrid({self._grid_summary()})"

    def _svg(self, doc: dict, final: bool = True) -> str:
        part = self._grid_picture()
        return svg.document([part] if part else [svg.lines_part([], caption=self._summary())])


class CatalogBrowser(View):
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

    def _summary(self) -> str:
        return f"CatalogBrowser({len(self.entries)} head types" + (f", search {self.query!r})" if self.query else ")")

    def _svg(self, doc: dict, final: bool = True) -> str:
        names = [f"{e.get('name') or e.get('id')}" + (f"  [{e['stage']}]" if e.get("stage") else "")
                 for e in self.entries[:30]]
        if len(self.entries) > 30:
            names.append(f"… and {len(self.entries) - 30} more")
        return svg.document([svg.lines_part(names, caption=f"headlab catalogue: {len(self.entries)} head types")])


def browse(query: str = "", **kwargs) -> CatalogBrowser:
    """The catalogue browser widget."""
    return CatalogBrowser(query, **kwargs)
