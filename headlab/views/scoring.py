"""Per-text role scores for the Explorer, fast enough to draw the grid before the model is idle.

``quick_scores`` is headlab's default lift (``headlab.scores.sieve.sieve_lift``, see
docs/methods.md) on one ``Attention``, for every role at once: the sieves are sparse (a band,
a column, a few dependency arcs), so the attention each role needs is *gathered* at its sieve's
non-zero cells, one gather per layer for all roles together, instead of multiplying a float64
copy of ``[L, H, T, T]`` by a dense sieve per role. The values equal ``sieve_lift``'s (only the
order of the float64 sums differs; tested to 1e-9).

``ScoreFeed`` runs any *scorer* - a callable ``role ids -> {role: float [L, H]}`` (or one that
returns an iterator of such dicts, to report progress as it goes) - for the role on display
first and the rest in a background thread, so a view can paint at once and fill in.
"""

from __future__ import annotations

import threading
from typing import Callable, Iterable, Iterator, Mapping

import numpy as np

from headlab.errors import InputError, MissingExtraError
from headlab.roles import resolve, sieve_for
from headlab.views.thumbnails import held_weights

__all__ = ["quick_scores", "lift_many", "role_ids", "ScoreFeed", "QUICK_MAX_TOKENS"]

#: longest input scored without a scorer (the sieves are dense bool [T, T]; longer inputs need
#: the streaming scorer ``hl.explore`` passes, or a report)
QUICK_MAX_TOKENS = 2048

Scorer = Callable[[list], "Mapping[str, np.ndarray] | Iterable[Mapping[str, np.ndarray]]"]


def _shape(att) -> tuple[int, int]:
    w = held_weights(att)
    if w is not None:
        return int(w.shape[0]), int(w.shape[1])
    return int(att.n_layers), int(att.n_heads)


def _layer(att, l: int) -> np.ndarray:
    """float32 ``[H, T, T]`` of layer ``l``: a view of ``.weights`` when the input is held in memory."""
    w = held_weights(att)
    return w[l] if w is not None else np.asarray(att.layer(l), dtype=np.float32)


def _dense_sieve(res, T: int) -> np.ndarray:
    """bool ``[T, T]`` of a sieve result: structured shapes (``Band``, ``Keys``, ...) are expanded,
    a bare matrix is taken as it is (the quick scores only run up to ``QUICK_MAX_TOKENS``)."""
    sieve = getattr(res, "sieve", res)
    if callable(getattr(sieve, "dense", None)):
        return np.asarray(sieve.dense(T), dtype=bool)
    return np.asarray(sieve, dtype=bool)


def lift_many(att, sieves: Mapping, causal: bool) -> dict[str, np.ndarray]:
    """``sieve_lift`` of every head for several roles: role -> float64 ``[L, H]`` (NaN: no eligible query).

    ``sieves``: role id -> ``headlab.roles.SieveResult`` (bool ``[T, T]`` sieve, optional float
    ``[T]`` query weights) on ``att``'s sample. With ``m_i`` the share of query ``i``'s visible
    attention on its sieve and ``u_i = s_i / n_i`` the share uniform attention would put there,
    ``k_i = (m_i - u_i) / (1 - u_i)``, averaged over queries with ``0 < s_i < n_i`` (weighted).
    """
    T = len(att.tokens)
    L, H = _shape(att)
    ids = list(sieves)
    if not ids:
        return {}
    V = np.tri(T, dtype=bool) if causal else np.ones((T, T), dtype=bool)
    n = V.sum(-1).astype(np.float64)                                   # [T]
    # One list of (role, query, key) cells for all roles, grouped by (role, query).
    seg_role, seg_query, starts, q_all, k_all, s, elig_w = [], [], [], [], [], [], []
    offset = 0
    for r, rid in enumerate(ids):
        S = _dense_sieve(sieves[rid], T) & V
        q, k = np.nonzero(S)                                           # row-major: grouped by query
        s_r = S.sum(-1).astype(np.float64)
        rows, first = np.unique(q, return_index=True)
        seg_role.append(np.full(rows.size, r))
        seg_query.append(rows)
        starts.append(first + offset)
        q_all.append(q)
        k_all.append(k)
        offset += q.size
        qw = sieves[rid].query_weights
        w = ((s_r > 0) & (s_r < n)).astype(np.float64)
        s.append(s_r)
        elig_w.append(w if qw is None else w * np.asarray(qw, dtype=np.float64))
    seg_role, seg_query = np.concatenate(seg_role), np.concatenate(seg_query)
    starts, q_all, k_all = np.concatenate(starts), np.concatenate(q_all), np.concatenate(k_all)
    s, elig_w = np.stack(s), np.stack(elig_w)                          # [R, T]
    on_sieve = np.zeros((len(ids), L, H, T))
    on_visible = np.empty((L, H, T))
    for l in range(L):
        A = _layer(att, l)                                             # [H, T, T]
        on_visible[l] = (A.sum(-1, dtype=np.float64) if not causal else
                         np.where(V, A, 0).sum(-1, dtype=np.float64))
        if starts.size:
            vals = A[:, q_all, k_all].astype(np.float64)               # [H, cells]
            on_sieve[seg_role, l, :, seg_query] = np.add.reduceat(vals, starts, axis=1).T
    with np.errstate(invalid="ignore", divide="ignore"):
        m = on_sieve / on_visible[None]                                # [R, L, H, T]
        u = (s / n[None])[:, None, None, :]
        k_i = (m - u) / (1.0 - u)
        w = np.broadcast_to(elig_w[:, None, None, :], k_i.shape)
        total = w.sum(-1)
        out = (np.where(w > 0, k_i, 0.0) * w).sum(-1) / total
    out = np.where(total > 0, out, np.nan)
    return {rid: out[r] for r, rid in enumerate(ids)}


def role_ids(roles=None) -> list[str]:
    """The text roles a grid offers (``None``: the defaults), in registry order."""
    return [r.id for r in resolve(roles, "text")]


def quick_scores(att, roles=None, *, strict: bool | None = None) -> dict[str, np.ndarray]:
    """Per-head role scores on one ``Attention`` (no statistics): role id -> float32 ``[L, H]``.

    The default (length-free lift) score. Roles that do not apply to this text are left out,
    and so are the syntactic roles when spaCy is missing, unless ``strict`` (default: when
    roles were named). The Explorer shows these when it is given no report and no scorer.
    """
    strict = roles is not None if strict is None else strict
    causal = bool(getattr(att, "is_causal", False))
    if len(att.tokens) > QUICK_MAX_TOKENS:
        raise InputError(f"{len(att.tokens)} tokens is too long for the quick per-text scores (at most "
                         f"{QUICK_MAX_TOKENS}): pass scorer= (hl.explore does) or a report.")
    sieves = {}
    for role in resolve(roles, "text"):
        try:
            res = sieve_for(role, att.sample, causal)
        except MissingExtraError:
            if strict:
                raise
            continue
        if res is not None:
            sieves[role.id] = res
    out = {}
    for rid, score in lift_many(att, sieves, causal).items():
        if np.all(np.isfinite(score)):
            out[rid] = score.astype(np.float32)
    return out


def _partials(result) -> Iterator[Mapping]:
    if isinstance(result, Mapping):
        yield result
    elif result is not None:
        yield from result


class ScoreFeed:
    """Scores for ``roles``: the one on display now, the others from a background thread.

    ``on_scores(scores, settled)`` is called with each new ``{role: float32 [L, H]}`` (possibly
    empty) and the role ids now settled (scored, or found not to apply: asked for, but missing
    from the scorer's answer); it runs in the calling thread for the first role and in the
    background thread afterwards. ``chunk``: roles per background call (``None``: all remaining
    roles in one call, for scorers that pay a forward pass per call). ``error`` holds what
    stopped the background, if anything; ``on_error(exc)`` is told too.
    """

    def __init__(self, scorer: Scorer, roles: list[str], first: str, on_scores, *, chunk: int | None = None,
                 on_error=None):
        self.scorer, self.on_scores, self.on_error, self.chunk = scorer, on_scores, on_error, chunk
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.rest = [first] + [r for r in roles if r != first]
        self._thread: threading.Thread | None = None

    def _call(self, ask: list[str]) -> set[str]:
        scored: set[str] = set()
        for part in _partials(self.scorer(list(ask))):
            part = {r: np.asarray(v, dtype=np.float32) for r, v in part.items() if r in ask}
            scored |= set(part)
            self.on_scores(part, [r for r in ask if r in scored])
        self.on_scores({}, list(ask))
        return scored

    def first_batch(self) -> list[str]:
        """Score roles in order, here and now, until one applies; returns the roles still to do."""
        while self.rest:
            role = self.rest.pop(0)
            if role in self._call([role]):
                break
        return list(self.rest)

    def start(self, background: bool = True) -> None:
        """Score the remaining roles, in a daemon thread (``background``) or right here."""
        if not self.rest:
            self.done.set()
            return
        if not background:
            self._run()
            return
        self._thread = threading.Thread(target=self._run, name="headlab-scores", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            size = self.chunk or len(self.rest)
            while self.rest:
                ask, self.rest = self.rest[:size], self.rest[size:]
                self._call(ask)
        except BaseException as exc:   # noqa: BLE001 - shown in the view, re-raised by wait()
            self.error = exc
            if self.on_error is not None:
                self.on_error(exc)
        finally:
            self.done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every role is settled; re-raise the background's error. False on timeout."""
        ok = self.done.wait(timeout)
        if self.error is not None:
            raise self.error
        return ok
