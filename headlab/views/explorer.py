"""Explorer: grid + attention view + catalogue card on one text, painted before every role is scored.

Without a report the grid shows per-text role scores from a *scorer* (``role ids -> {role:
float [L, H]}``; default ``scoring.quick_scores`` on short inputs, a streaming scorer from
``hl.explore`` on long ones). The role on display is scored before the widget is returned;
the others are filled in by a background thread, ``pending`` lists those still to come and
the page shows the progress. Catalogue entries that concern this model are synced; any other
entry is fetched when the user picks it (``catalog_index`` lists them all by name).
"""

from __future__ import annotations

import threading

import numpy as np
import traitlets

from headlab.errors import InputError
from headlab.views import payload, svg
from headlab.views.attention_view import AttentionState
from headlab.views.base import GridState, View
from headlab.views.scoring import QUICK_MAX_TOKENS, ScoreFeed, quick_scores, role_ids
from headlab.views.sparse import DEFAULT_K_MAX, DEFAULT_MASS
from headlab.views.thumbnails import ThumbnailJob

__all__ = ["Explorer", "explore"]

#: roles per background call of the default scorer (progress steps)
_QUICK_CHUNK = 6


class Explorer(View, GridState, AttentionState):
    """Grid + attention view + catalogue card on one text, linked both ways (``hl.explore``).

    Clicking a head in the grid sets ``selected`` and shows that head's attention (shift-click
    overlays several); picking a catalogue type (``entry``) outlines its heads in the grid.

    Args:
        att: the attention on the text (``m.attention(text)``; the lazy form of long inputs works).
        report: a report to show scores and significance from (duck-typed as for ``HeadGrid``).
        roles: role ids to show (default: the report's, or the default text roles).
        scorer: without a report, ``callable(role_ids) -> {role: float [L, H]}`` (roles missing
            from the answer do not apply to the text); it may also return an iterator of such
            dicts to report progress. Default: ``scoring.quick_scores`` (inputs up to 2,048 tokens).
        role: the role shown first (scored first).
        catalog: catalogue summaries, known instances narrowed to this model (``hl.explore``
            passes them); entries linked to this model are synced, the others fetched on demand.
        background: score the remaining roles in a background thread (False: before returning).
        bundle_bytes: byte budget of the kernel-free output (default ``mime.BUNDLE_BYTES``).
    """

    catalog = traitlets.List().tag(sync=True)
    catalog_index = traitlets.List().tag(sync=True)
    catalog_heads = traitlets.Dict().tag(sync=True)
    entry = traitlets.Unicode("").tag(sync=True)

    def __init__(self, att, report=None, roles=None, *, scorer=None, role: str | None = None,
                 catalog: list[dict] | None = None, model_name: str | None = None, title: str = "",
                 selected=None, mode="auto", level="token", top_k=3, threshold=None, focus_token=-1, direction="from",
                 encoding="uint8", mass=DEFAULT_MASS, k_max=DEFAULT_K_MAX, background: bool = True,
                 bundle_bytes: int | None = None, **kwargs):
        init = self._init_attention(att)
        L, H = self._L, self._H
        model_name = model_name or getattr(att, "model_name", "") or (getattr(report, "model_name", "") if report is not None else "")
        entries = list(catalog or [])
        self._catalog_all = {e["id"]: e for e in entries}
        self._feed = None
        self._score_lock = threading.RLock()
        if report is not None:
            if (int(report.n_layers), int(report.n_heads)) != (L, H):
                raise InputError(f"the report is for {report.n_layers} x {report.n_heads} heads, the attention has {L} x {H}: "
                                 "pass a report of the same model")
            if roles:
                have = list(getattr(report, "roles", None) or list(dict.fromkeys(report.table["role"])))
                missing = [r for r in roles if r not in have]
                if missing:
                    raise InputError(f"roles {missing} are not in the report (it has {have}); leave them out of roles=")
            st = payload.grid_state(_Narrowed(report, roles), role, catalog=entries)
            grid_traits = {k: st[k] for k in ("roles", "grid", "fields", "has_stats", "alpha", "matches", "role_matches",
                                              "score_info")}
            first = st["role"]
        else:
            if scorer is None:
                if len(att.tokens) > QUICK_MAX_TOKENS:
                    raise InputError(f"{len(att.tokens)} tokens is too long for the quick per-text scores (at most "
                                     f"{QUICK_MAX_TOKENS}): pass scorer= (hl.explore does) or report=.")
                strict = roles is not None
                scorer = lambda ids: quick_scores(att, ids, strict=strict)   # noqa: E731
                chunk = _QUICK_CHUNK
            else:
                chunk = None
            role_list = role_ids(roles)
            if role is not None and role not in role_list:
                raise InputError(f"role {role!r} is not among the roles shown ({', '.join(role_list)}); choose one of "
                                 "them, or add it to roles=")
            grid = np.full((len(role_list), 1, L, H), np.nan, dtype=np.float32)
            # per-text scores are headlab's lift on this text (quick_scores, or hl.explore's streaming scorer)
            grid_traits = dict(roles=role_list, grid=grid, fields=["score"], has_stats=False, alpha=0.05,
                               matches=payload.published_heads(entries, L, H), role_matches={},
                               score_info=payload.score_info("lift", role_list))
            first = role or role_list[0]
        linked = payload.linked_entries(entries, grid_traits["roles"], L, H)
        super().__init__(
            _view="explorer", title=title, n_layers=L, n_heads=H, model_name=model_name, **grid_traits,
            catalog=linked, catalog_index=[[e["id"], e.get("name") or e["id"], e.get("stage", "")] for e in entries],
            mode=mode, level=level, top_k=top_k, threshold=threshold, focus_token=focus_token, direction=direction,
            encoding=encoding, mass=mass, k_max=k_max, bundle_bytes=bundle_bytes, **init, **kwargs,
        )
        self.role = first
        self._ready = True
        self._relink()
        if report is None:
            self.pending = list(self.roles)
            self._scored: set[str] = set()
            self._feed = ScoreFeed(scorer, list(self.roles), first, self._on_scores, chunk=chunk,
                                   on_error=self._on_score_error)
            self._feed.first_batch()
            if not self._scored:
                raise InputError("None of these roles applies to this text: pass other roles= (e.g. the defaults), "
                                 "or a text they apply to (block needs a pair, sep a [SEP]).")
            self._feed.start(background=background)
        self.on_msg(self._on_custom_msg)
        if selected is not None:
            self.selected = selected
        self._thumbs = ThumbnailJob(self, att, L, H)
        self._thumbs.start(background=background)

    # ------------------------------------------------------------ progressive scores
    def _on_scores(self, scores: dict, settled: list[str]) -> None:
        with self._score_lock:
            roles, grid = list(self.roles), np.array(self.grid)
            for r, v in scores.items():
                if v.shape != (self._L, self._H):
                    raise InputError(f"the scorer gave role {r!r} shape {v.shape}, expected ({self._L}, {self._H}); "
                                     "fix the scorer to return one float [n_layers, n_heads] array per role")
                grid[roles.index(r), 0] = v
                self._scored.add(r)
            gone = [r for r in settled if r not in self._scored]           # asked, not answered: does not apply
            keep = [i for i, r in enumerate(roles) if r not in gone]
            with self.hold_sync():
                if gone:
                    self.roles = [roles[i] for i in keep]
                    if self.role in gone:
                        self.role = next((r for r in self.roles if r in self._scored), self.roles[0] if self.roles else "")
                self.grid = grid[keep]
                self.pending = [r for r in self.pending if r not in settled]
                self._relink()

    def _on_score_error(self, exc: BaseException) -> None:
        with self._score_lock, self.hold_sync():
            self.notice = f"Scoring stopped: {exc}. The roles not yet scored stay empty; re-run to try again."
            self.pending = []

    def wait(self, timeout: float | None = None) -> "Explorer":
        """Block until every role is scored (re-raising a scorer's error); returns the Explorer."""
        if self._feed is not None and not self._feed.wait(timeout):
            raise TimeoutError(f"roles still being scored after {timeout} s: {', '.join(self.pending)}")
        return self

    def _wait_background(self, timeout: float | None = None) -> bool:
        thumbs = self._thumbs.wait(timeout)
        if self._feed is None:
            return thumbs
        try:
            return self._feed.wait(timeout) and thumbs
        except Exception:   # noqa: BLE001 - the notice says what happened; the output shows the rest
            return True

    def _deferred(self) -> bool:
        return (bool(self._feed is not None and not self._feed.done.is_set()) or not self._thumbs.done.is_set()
                or AttentionState._deferred(self))

    # ------------------------------------------------------------ catalogue
    def _relink(self) -> None:
        entries = list(self._catalog_all.values())
        heads = payload.catalog_heads(entries, self.roles, np.asarray(self.grid), self.has_stats, self._L, self._H,
                                      self.fields)
        if heads != self.catalog_heads:
            self.catalog_heads = heads

    def _on_other_msg(self, content: dict) -> None:
        if content.get("kind") != "entry":
            return
        e = self._catalog_all.get(str(content.get("id")))
        if e is None:
            raise InputError(f"no catalogue entry {content.get('id')!r} in this view; pass it in catalog= "
                             "(hl.explore passes the whole catalogue)")
        self.send({"kind": "entry", "rid": content.get("rid"), "entry": e})

    @traitlets.observe("catalog")
    def _take_entries(self, change):
        """Entries set from Python join the ones the view knows (and can link to heads)."""
        if getattr(self, "_ready", False):
            self._catalog_all.update({e["id"]: e for e in change["new"] if isinstance(e, dict) and "id" in e})
            with self._score_lock:
                self._relink()

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
        self.highlight_label = {i: n for i, n, *_ in self.catalog_index}.get(change["new"], "")

    # ------------------------------------------------------------ saved outputs
    def _payload_heads(self) -> list[tuple[int, int]]:
        """Heads on display, then by the shown role's score (strongest first), then the rest."""
        first = self._shown_heads()
        try:
            s = np.nan_to_num(self.scores(), nan=-np.inf).ravel()
            order = [(int(i // self._H), int(i % self._H)) for i in np.argsort(-s, kind="stable")]
        except (ValueError, TypeError):
            order = self._all_heads()
        return first + [hd for hd in order if hd not in first]

    def _summary(self) -> str:
        return f"Explorer({self._grid_summary()}; {self._attention_summary()})"

    def _svg(self, doc: dict, final: bool = True) -> str:
        parts = [p for p in (self._grid_picture(), self._arcs_picture(final)) if p is not None]
        if self.pending:
            parts.append(svg.lines_part([f"{len(self.pending)} role(s) were still being scored: "
                                         + ", ".join(self.pending[:8])]))
        return svg.document(parts)


class _Narrowed:
    """A report seen through a subset of its roles (the Explorer's ``roles=``)."""

    def __init__(self, report, roles):
        self._r = report
        self.roles = list(roles) if roles else getattr(report, "roles", None)

    def __getattr__(self, name):
        return getattr(self._r, name)


def explore(m, text, report=None, roles=None, **kwargs) -> Explorer:
    """Explorer widget for model ``m`` on ``text`` (a string, a pair, or an ``Attention``).

    With ``report`` the grid shows the report's scores and significance; without one it shows
    per-text role scores from ``scorer`` (default ``headlab.views.scoring.quick_scores``),
    the shown role first and the rest filled in the background. ``roles`` limits the roles.
    Extra keywords go to :class:`Explorer` (``scorer``, ``role``, ``catalog``, ``selected``,
    ``mode``, ``level``, ``top_k``, ``threshold``, ``title``, ``bundle_bytes``) or, as
    ``truncate``, to ``m.attention``. ``hl.explore`` is this function with the catalogue
    summaries of the model filled in.
    """
    truncate = kwargs.pop("truncate", None)
    if hasattr(text, "tokens") and callable(getattr(text, "top_k", None)):
        att = text
    else:
        att = m.attention(text) if truncate is None else m.attention(text, truncate=truncate)
        if isinstance(att, list):
            raise InputError("explore() shows one text at a time; pass a single string or pair")
    name = getattr(m, "name", None) or getattr(att, "model_name", None)
    return Explorer(att, report=report, roles=roles, model_name=name, **kwargs)

