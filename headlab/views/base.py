"""What every view shares: the bundle, the output it puts in a notebook, ``to_html``, the grid traits.

Displaying a view emits a mime bundle (``views/mime.py``): the live widget beside a kernel-free
payload, an SVG picture and a line of text. Views with background work (the Explorer scoring
its remaining roles, the per-head patterns of a long input) are shown at once and their output
is updated when the work ends (``views/display.py``), so the first paint never waits for it.
"""

from __future__ import annotations

import pathlib

import anywidget
import numpy as np
import traitlets

from headlab import safe_io, validate
from headlab.errors import HeadlabError, InputError
from headlab.head_names import parse_head
from headlab.views import mime, svg
from headlab.views.payload import grid_dtype
from headlab.views.codec import pack_array, unpack_array
from headlab.views.protocol import GRID_FIELDS, GRID_MODES, head_key
from headlab.views.static_page import STATIC, render_html

__all__ = ["View", "GridState"]


def _grid_to_json(value, widget):
    """float16, unless the ``n`` field holds sample counts float16 cannot hold exactly (above 2,048)."""
    if value is None:
        return None
    return pack_array(value, grid_dtype(value, getattr(widget, "fields", GRID_FIELDS)))


def _thumbs_to_json(value, _widget):
    return value          # already packed by views/thumbnails.pack_thumbnails (a memoryview leaf)


def _head_to_json(value, _widget):
    return None if value is None else [int(value[0]), int(value[1])]


class View(anywidget.AnyWidget):
    """Common base: bundle, view switch, title, notebook output, static export."""

    # A missing bundle must not break `import headlab.views` (anywidget reads files at class
    # creation); __init__ then says how to build it.
    _esm = STATIC / "index.js" if (STATIC / "index.js").is_file() else "export default { render() {} };"
    _css = STATIC / "styles.css" if (STATIC / "styles.css").is_file() else ""
    _view = traitlets.Unicode("").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)

    def __init__(self, *, bundle_bytes: int | None = None, **kwargs):
        if not (STATIC / "index.js").exists():
            raise HeadlabError(
                "headlab's front-end bundle is missing (headlab/static/index.js): "
                "run `npm ci && npm run build` in the source tree, or reinstall headlab"
            )
        #: byte budget of this view's kernel-free payload (None: ``headlab.views.mime.BUNDLE_BYTES``)
        self.bundle_bytes = None if bundle_bytes is None else validate.integer(
            "bundle_bytes", bundle_bytes, min=10_000, example=1_000_000)
        super().__init__(**kwargs)

    # ------------------------------------------------------------ static page
    def to_html(self, path=None, *, title: str | None = None, heads=None) -> pathlib.Path:
        """Write a self-contained HTML page of this view to ``path`` (atomically); returns its path.

        The page inlines the bundle, the stylesheet and the widget's data, needs no kernel and
        no network, and keeps every interaction that does not need new data. For views that
        show attention, the patterns of ``heads`` are embedded (default: the heads on display,
        or every head when the input is small; ``heads="all"`` forces all of them).
        """
        if path is None:
            raise InputError("to_html needs a file to write: pass a path, e.g. view.to_html('view.html'); "
                             "it returns the path it wrote.")
        target = validate.path("path", path)
        return safe_io.write_text(target, render_html(self, title=title, heads=heads))

    # ------------------------------------------------------------ notebook output
    def _live_parts(self) -> tuple[dict, dict]:
        """anywidget's widget-view reference and its metadata (Colab's widget manager), no text."""
        out = anywidget.AnyWidget._repr_mimebundle_(self) or ({}, {})
        data, meta = out if isinstance(out, tuple) else (out, {})
        return {k: v for k, v in data.items() if k != "text/plain"}, dict(meta or {})

    def _bundle(self, final: bool = True) -> tuple[dict, dict]:
        """(data, metadata) of this view's output; ``final``: complete (waits for background work)."""
        if final:
            self._wait_background()
        live, meta = self._live_parts()
        return {**live, **mime.bundle(self, final=final)}, meta

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs) -> tuple[dict, dict]:
        """(data, metadata): the live widget, the kernel-free payload, an SVG picture and a
        summary, complete (waits for background work). IPython shows a view through
        ``_ipython_display_`` instead, which does not wait."""
        data, meta = self._bundle(final=True)
        if include:
            data = {k: v for k, v in data.items() if k in include}
        if exclude:
            data = {k: v for k, v in data.items() if k not in exclude}
        return data, meta

    def _ipython_display_(self, **kwargs) -> None:
        from headlab.views.display import show

        show(self)

    def _deferred(self) -> bool:
        """Whether the complete output costs enough to be shown first and finished later."""
        return False

    def _wait_background(self, timeout: float | None = None) -> bool:
        return True

    def _summary(self) -> str:
        return f"headlab {type(self).__name__}"

    def _svg(self, doc: dict, final: bool = True) -> str:
        return svg.document([svg.lines_part([], caption=self._summary())])

    def __repr__(self) -> str:
        return self._summary()


class GridState(traitlets.HasTraits):
    """Traits of a layers x heads grid of role scores (HeadGrid, Explorer)."""

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
    #: roles still being scored in the background (shown as progress)
    pending = traitlets.List(traitlets.Unicode()).tag(sync=True)
    #: a message for the user (e.g. why scoring stopped)
    notice = traitlets.Unicode("").tag(sync=True)
    #: what the numbers mean (``protocol.SCORE_INFO_KEYS``): method, colour-scale kind and sieve
    #: description per role, the q correction, the CI level
    score_info = traitlets.Dict().tag(sync=True)
    #: what the cells show: ``"scores"`` (the role's score) or ``"patterns"`` (each head's attention)
    grid_mode = traitlets.Enum(GRID_MODES, "scores").tag(sync=True)
    #: pooled patterns of every head (``views/thumbnails.py``), None until computed / without attention
    thumbs = traitlets.Any(None).tag(sync=True, to_json=_thumbs_to_json)

    @traitlets.validate("selected")
    def _check_selected(self, proposal):
        v = proposal["value"]
        return None if v is None else parse_head(v, self.n_layers, self.n_heads)

    @traitlets.validate("role")
    def _check_role(self, proposal):
        v = proposal["value"]
        if v and self.roles and v not in self.roles:
            raise InputError(f"unknown role {v!r}; choose one this view has: {', '.join(self.roles)}")
        return v

    def scores(self, role: str | None = None) -> np.ndarray:
        """The ``[n_layers, n_heads]`` scores shown for ``role`` (default: the current role)."""
        role = role or self.role
        return np.array(self.grid[self.roles.index(role), self.fields.index("score")])

    def _grid_picture(self) -> svg.Part | None:
        state = {k: getattr(self, k) for k in ("roles", "role", "fields", "has_stats", "model_name", "score_info")}
        state["selected"] = None if self.selected is None else list(self.selected)
        grid = None if self.grid is None else unpack_array(_grid_to_json(self.grid, self))
        return mime.grid_picture(state, grid)

    def _grid_summary(self) -> str:
        done = len(self.roles) - len(self.pending)
        roles = f"{len(self.roles)} roles" if not self.pending else f"{done} of {len(self.roles)} roles scored"
        sel = f"; selected {head_key(*self.selected)}" if self.selected is not None else ""
        return (f"{self.model_name or 'model'}: {self.n_layers} layers x {self.n_heads} heads, role "
                f"{self.role or '-'} ({roles}){sel}")
