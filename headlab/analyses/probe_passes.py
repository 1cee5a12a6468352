"""Probe passes: the forward passes that turn probe data into per-probe head scores.

``score_repeated`` reads the previous-token, duplicate-token, induction, sink and copying scores
of every head from one streamed forward pass over repeated random tokens; ``score_retrieval``
decodes needle-in-a-haystack probes greedily and records each head's argmax key per step
(Wu et al. 2024). ``m.detect`` tests these scores across probes; ``m.ablate`` uses the same
passes as metrics (docs/methods.md#methods-probe-roles).
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from headlab import probes as P
from headlab import scores as S
from headlab.analyses import head_hooks
from headlab.capture import Capture
from headlab.roles.probe_specs import SPECS

__all__ = ["score_repeated", "score_retrieval", "REPEATED_ROLES", "SHARE_ROLES"]

#: roles read from the repeated-token pass, and those among them that are attention shares
REPEATED_ROLES = tuple(r for r, s in SPECS.items() if s.probe == "repeated")
SHARE_ROLES = tuple(r for r, s in SPECS.items() if s.share)


def score_repeated(m, probes: P.ProbeSet, roles, *, exclude_bos: bool = False,
                   exclude_current_token: bool = False, batch_size: int = 16, progress: bool = False):
    """Per-probe scores of the repeated-token roles in one streamed forward pass.

    Returns ``(scores, baselines)``: ``{role: float [N, L, H]}`` and, for the share roles,
    ``{role: float [N]}`` — the uniform-attention share on the same targets per probe.
    """
    N, T = probes.input_ids.shape
    L, H = m.n_layers, m.n_heads
    roles = [r for r in roles if r in REPEATED_ROLES]
    out = {r: np.full((N, L, H), np.nan) for r in roles}
    excl = dict(exclude_bos=exclude_bos and probes.has_bos, exclude_current_token=exclude_current_token)
    visible = np.tri(T, dtype=bool) if m.is_causal else np.ones((T, T), dtype=bool)
    ids = probes.input_ids
    targets = {}
    if "previous_token" in roles:
        q = np.ones(T, dtype=bool)
        if excl["exclude_bos"]:
            q[:2] = False                         # query 1's previous token is BOS
        targets["previous_token"] = (np.broadcast_to(S.previous_token_targets(T), (N, T, T)), q)
    if "duplicate_token" in roles:
        targets["duplicate_token"] = (S.duplicate_token_targets(ids), None)
    if "induction" in roles:
        targets["induction"] = (S.induction_targets(ids), None)
    baselines = {r: S.uniform_share(t, queries=q, visible=visible, **excl) for r, (t, q) in targets.items()}

    # Shares are accumulated over the chunks of query rows and divided by the number of
    # scored queries at the end; which queries count does not depend on attention.
    eligible = {r: _eligible(t, q, **excl) for r, (t, q) in targets.items()}        # bool [N, T]
    copy_state = _CopyingState(m, probes, exclude_bos=probes.has_bos) if "copying" in roles else None

    def reducer(layer, rows, q0, batch):
        A = rows.detach().float().cpu().numpy()                 # [B, H, c, T]
        idx = np.asarray(batch.index)
        c = A.shape[2]
        for r, (t, _q) in targets.items():
            out[r][idx, layer] += _share_sums(A, t[idx, q0:q0 + c], eligible[r][idx, q0:q0 + c], q0, **excl)
        if "sink" in out:                       # Gu et al.'s alpha_0: mean of column 0 over all queries
            out["sink"][idx, layer] += A[:, :, :, 0].sum(-1)
        if copy_state is not None:
            copy_state.attention(layer, A, q0, batch)

    for r in targets:
        out[r][:] = 0.0
    if "sink" in out:
        out["sink"][:] = 0.0
    if copy_state is None:
        m.stream(probes.samples, reducer, batch_size=batch_size, progress=progress, desc="detect")
    else:
        with copy_state.hooks():
            m.stream(probes.samples, reducer, batch_size=batch_size, progress=progress, desc="detect")
        out["copying"] = copy_state.scores
    with np.errstate(invalid="ignore", divide="ignore"):
        for r in targets:
            out[r] /= eligible[r].sum(-1)[:, None, None]
        if "sink" in out:
            out["sink"] /= T
    return out, baselines


def _eligible(targets: np.ndarray, queries, exclude_bos: bool, exclude_current_token: bool) -> np.ndarray:
    """bool ``[N, T]``: queries with at least one target left after the exclusions (and allowed)."""
    S = _excluded(targets, exclude_bos, exclude_current_token)
    q = S.any(-1)
    if queries is not None:
        q = q & np.asarray(queries, dtype=bool)
    return q


def _excluded(S: np.ndarray, exclude_bos: bool, exclude_current_token: bool) -> np.ndarray:
    if not (exclude_bos or exclude_current_token):
        return S
    T = S.shape[-1]
    keep = np.ones((T, T), dtype=bool)
    if exclude_bos:
        keep[:, 0] = False
    if exclude_current_token:
        np.fill_diagonal(keep, False)
    return S & keep


def _share_sums(A: np.ndarray, S: np.ndarray, eligible: np.ndarray, q0: int, exclude_bos: bool,
                exclude_current_token: bool) -> np.ndarray:
    """Sum over the eligible queries of a chunk of each query's share of attention on its targets.

    ``A`` float ``[B, H, c, T]`` (queries ``q0 .. q0 + c``), ``S`` bool ``[B, c, T]`` targets,
    ``eligible`` bool ``[B, c]`` -> float ``[B, H]``. Gathers only the target entries (``O(nnz H)``),
    and renormalises each row over the keys left after ``exclude_bos`` / ``exclude_current_token``
    (TransformerLens' options, done row-wise); equal to ``hl.scores.target_share`` (tested).
    """
    B, H, c, T = A.shape
    if exclude_bos or exclude_current_token:
        keep = np.ones((c, T), dtype=bool)
        if exclude_bos:
            keep[:, 0] = False
        if exclude_current_token:
            keep[np.arange(c), np.arange(q0, q0 + c)] = False
        S = S & keep
    bb, ii, jj = np.nonzero(S)
    share = np.zeros((B, c, H), dtype=np.float64)
    np.add.at(share, (bb, ii), A[bb, :, ii, jj])               # [nnz, H] summed per (sample, query)
    if exclude_bos or exclude_current_token:
        kept = np.ones((B, H, c), dtype=np.float64)
        rows = np.arange(c)
        if exclude_bos:
            kept -= A[:, :, :, 0]
        if exclude_current_token:
            kept -= A[:, :, rows, rows + q0]
        if exclude_bos and exclude_current_token and q0 == 0:
            kept[:, :, 0] += A[:, :, 0, 0]                      # (0, 0) was removed twice
        with np.errstate(invalid="ignore", divide="ignore"):
            share = share / np.transpose(kept, (0, 2, 1))
    return np.where(eligible[..., None], share, 0.0).sum(1)


class _CopyingState:
    """Collects per-head outputs, argmax keys and the final residual of each batch, and turns
    them into Olsson et al.'s copying score on the queries after the first run."""

    def __init__(self, m, probes: P.ProbeSet, exclude_bos: bool):
        self.m = m
        self.projs = head_hooks.output_projections(m)
        self.norm = head_hooks.final_norm(m)
        self.W_U = head_hooks.unembedding(m)
        off = int(probes.has_bos)
        length = int(probes.params.get("length", probes.length - off))
        # queries after the first run, where a head with a QK role attends decisively (on the
        # first run an induction head has nothing to match and its "attended token" is arbitrary)
        first = off + length if probes.params.get("repeats", 1) > 1 else off
        self.q = np.arange(first, probes.length)
        self.off = off if exclude_bos else 0
        N = len(probes)
        self.scores = np.full((N, m.n_layers, m.n_heads), np.nan)
        self.z: dict[int, torch.Tensor] = {}
        self.att: dict[int, np.ndarray] = {}
        self.batch = None

    def attention(self, layer, A, q0, batch):
        """Argmax key of each scored query in a chunk of rows ``A [B, H, c, T]`` from query ``q0``."""
        self.batch = batch
        c = A.shape[2]
        wanted = self.q[(self.q >= q0) & (self.q < q0 + c)]
        if q0 == 0:
            self.att[layer] = np.zeros((A.shape[0], A.shape[1], len(self.q)), dtype=np.int64)
        if len(wanted):
            sub = A[:, :, wanted - q0, self.off:]              # [B, H, Q', T - off]
            self.att[layer][:, :, np.searchsorted(self.q, wanted)] = sub.argmax(-1) + self.off

    def _z(self, layer, z):
        self.z[layer] = z[:, self.q].detach().float().clone()  # [B, Q, H, d_head]
        return None

    def _final(self, _module, args):
        resid = args[0][:, self.q].detach().float()            # [B, Q, d_model]
        batch = self.batch
        ids = batch.input_ids.numpy()
        for layer, p in enumerate(self.projs):
            contrib = head_hooks.head_contributions(p, self.z[layer])   # [B, H, Q, d_model]
            am = self.att[layer]                                           # [B, H, Q]
            tok = np.take_along_axis(ids, am.reshape(len(ids), -1), -1).reshape(am.shape)
            for b, i in enumerate(batch.index):
                # Olsson et al. compare over "all tokens in the sample": the probe's distinct
                # tokens (BOS excluded), which include every token a query can attend to here.
                # Only their rows of W_U are needed (~25 instead of the whole vocabulary).
                sample = np.unique(ids[b, self.off:])
                W = self.W_U[torch.as_tensor(sample, device=self.W_U.device)]
                logits = head_hooks.direct_logits(self.norm, W, contrib[b], resid[b])   # [H, Q, K]
                self.scores[i, layer] = S.copying_score(logits.numpy(), np.searchsorted(sample, tok[b]))
        self.z.clear()
        self.att.clear()
        return None

    def hooks(self):
        state = self

        @contextlib.contextmanager
        def cm():
            handle = state.norm.register_forward_pre_hook(state._final)
            try:
                with head_hooks.head_hook(state.m, state._z):
                    yield
            finally:
                handle.remove()

        return cm()


# ----------------------------------------------------------------------------- retrieval
def score_retrieval(m, probes: P.ProbeSet, *, batch_size: int = 16, min_recall: float = 0.5):
    """Wu et al.'s retrieval score per needle probe and head, from greedy decoding.

    Decodes ``k`` (needle length) tokens greedily with the KV cache; at each step every head's
    argmax key of the current query is recorded (the attention hooks see ``[B, H, 1, T]``
    blocks). Trials whose answer recalls at most ``min_recall`` of the needle tokens are NaN.

    Returns ``(scores [N, L, H], recall [N], generated [N, k])``.
    """
    head_hooks.unembedding(m)                                  # needs an LM head
    N, T = probes.input_ids.shape
    k = probes.answer.shape[1]
    L, H = m.n_layers, m.n_heads
    scores = np.full((N, L, H), np.nan)
    recall = np.zeros(N)
    generated = np.zeros((N, k), dtype=np.int64)
    for start in range(0, N, batch_size):
        ids = torch.as_tensor(probes.input_ids[start:start + batch_size])
        B = ids.shape[0]
        argmax = np.zeros((L, B, H, k), dtype=np.int64)
        step = {"s": 0}

        def keep(layer, rows, q0, _batch):
            # chunks arrive in order, so the last one written holds the newest query's row
            argmax[layer, :, :, step["s"]] = rows[:, :, -1, :].argmax(-1).cpu().numpy()

        past = None
        cur = ids
        gen = np.zeros((B, k), dtype=np.int64)
        cap = Capture(m.model, m._modules, keep, budget=m.budget, tail=1)   # the newest query only
        with torch.inference_mode(), cap:
            for s in range(k):
                step["s"] = s
                cap.set_batch(None)
                out = m.model(input_ids=cur.to(m.device), past_key_values=past, use_cache=True)
                cap.check_all_reported()
                past = out.past_key_values
                nxt = out.logits[:, -1].argmax(-1)
                gen[:, s] = nxt.cpu().numpy()
                cur = nxt[:, None]
        for b in range(B):
            i = start + b
            generated[i] = gen[b]
            ans = probes.answer[i]
            recall[i] = len(set(gen[b].tolist()) & set(ans.tolist())) / k
            if recall[i] > min_recall:
                a, e = probes.needle[i]
                scores[i] = S.retrieval_score(argmax[:, b], gen[b], probes.input_ids[i], (a, e))
    return scores, recall, generated


