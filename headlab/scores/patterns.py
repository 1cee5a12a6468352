"""Decoder head scores on probe data (previous-token, duplicate-token, induction, sink,
copying, retrieval) and a TransformerLens-compatible pattern score, on raw arrays.

Every function takes numpy arrays (torch tensors are converted; inputs are never modified)
shaped like TransformerLens' caches: attention ``weights [..., T, T]`` with rows = queries
(``[batch, n_heads, T, T]``, ``[n_layers, n_heads, T, T]`` or one head's ``[T, T]``), token
ids ``[T]`` or ``[..., T]`` broadcastable to the leading axes, and return one score per
leading index (e.g. ``[batch, n_heads]``). So attention from any tool — a TransformerLens
``cache["pattern", layer]``, nnsight, a saved array — can be scored without a ``HeadModel``.

Attention-share scores (previous-token, duplicate-token, induction) share one recipe: for
each scored query ``i`` with target keys ``S_i`` the *share* is ``Σ_{j∈S_i} A_ij`` (rows
renormalised over the keys that remain when ``exclude_bos`` / ``exclude_current_token``
drop some), and the per-sample score is the mean share over the scored queries — one number
per sample, so samples are the statistical unit (docs/methods.md#methods-unit). :func:`uniform_share`
gives what uniform attention over the visible keys would score on the same targets; ``m.detect``
tests ``score − uniform_share`` (a paired, length-aware null).

Sources: Olsson et al. 2022, *In-context Learning and Induction Heads* (transformer-circuits.pub);
Gu et al. 2024, *When Attention Sink Emerges in Language Models*, arXiv 2410.10781;
Wu et al. 2024, *Retrieval Head Mechanistically Explains Long-Context Factuality*,
arXiv 2404.15574; TransformerLens ``head_detector.py`` (commit 4cd36aae).
"""

from __future__ import annotations

import numpy as np

from headlab.errors import InputError

__all__ = [
    "target_share",
    "uniform_share",
    "previous_token_targets",
    "duplicate_token_targets",
    "induction_targets",
    "previous_token_score",
    "duplicate_token_score",
    "induction_score",
    "sink_score",
    "copying_score",
    "retrieval_score",
    "pattern_score",
]


# ----------------------------------------------------------------------------- helpers
def _array(x, dtype=None) -> np.ndarray:
    """numpy view of ``x`` (torch tensors are detached and moved to the CPU)."""
    try:
        import torch

        if isinstance(x, torch.Tensor):
            x = x.detach().cpu()
            x = x.float() if x.is_floating_point() and x.dtype != torch.float64 else x
            x = x.numpy()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return np.asarray(x, dtype=dtype)


def _weights(weights) -> np.ndarray:
    A = _array(weights)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise InputError(
            f"weights must be attention of shape [..., T, T] (rows = queries), got {A.shape}. "
            "Pass e.g. a cache's [batch, heads, T, T] pattern."
        )
    if not np.issubdtype(A.dtype, np.floating):
        A = A.astype(np.float32)
    return A


def _tokens(token_ids, T: int) -> np.ndarray:
    ids = _array(token_ids)
    if ids.ndim < 1 or ids.shape[-1] != T:
        raise InputError(f"token_ids must be [..., T] with T={T} (the attention's length), got {ids.shape}. "
                         "Pass the ids the attention was computed on.")
    if not np.issubdtype(ids.dtype, np.integer):
        raise InputError("token_ids must be integer token ids; pass the tokenizer's input_ids.")
    return ids


def _keep_mask(T: int, exclude_bos: bool, exclude_current_token: bool) -> np.ndarray | None:
    """bool [T, T]: keys that stay in each row after the exclusions (None = all)."""
    if not (exclude_bos or exclude_current_token):
        return None
    keep = np.ones((T, T), dtype=bool)
    if exclude_bos:
        keep[:, 0] = False
    if exclude_current_token:
        np.fill_diagonal(keep, False)
    return keep


def previous_token_targets(T: int) -> np.ndarray:
    """bool ``[T, T]``: ``S[i, i-1] = True`` for ``i >= 1`` (TransformerLens' pattern)."""
    return np.eye(T, k=-1, dtype=bool)


def duplicate_token_targets(token_ids) -> np.ndarray:
    """bool ``[..., T, T]``: ``S[i, j] = True`` iff ``j < i`` and ``tok_j == tok_i``."""
    ids = _array(token_ids)
    T = ids.shape[-1]
    same = ids[..., :, None] == ids[..., None, :]
    return same & np.tri(T, k=-1, dtype=bool)


def induction_targets(token_ids) -> np.ndarray:
    """bool ``[..., T, T]``: ``S[i, j] = True`` iff ``1 <= j <= i`` and ``tok_{j-1} == tok_i``:
    the token that *followed* an earlier occurrence of the current token (Olsson et al.'s
    prefix matching; the duplicate-token pattern shifted one key to the right, as in
    TransformerLens)."""
    ids = _array(token_ids)
    T = ids.shape[-1]
    same = ids[..., :, None] == ids[..., None, :]           # [.., i, j]: tok_i == tok_j
    out = np.zeros(same.shape, dtype=bool)
    out[..., :, 1:] = same[..., :, :-1]                       # key j matches when tok_{j-1} == tok_i
    return out & np.tri(T, dtype=bool)


def _align(x: np.ndarray, lead: int, ndim: int, tail: int) -> np.ndarray:
    """Insert axes after the ``lead`` leading axes of ``x`` so it has ``ndim`` axes.

    Token ids ``[batch, T]`` scored against weights ``[batch, n_heads, T, T]``: the ids'
    leading axes line up with the *first* leading axes of the weights (TransformerLens'
    ``tokens [batch, pos]`` against ``pattern [batch, head, q, k]``).
    """
    missing = ndim - x.ndim
    if lead == 0 or missing <= 0:
        return x
    return x.reshape(x.shape[:lead] + (1,) * missing + x.shape[lead:lead + tail])


# ----------------------------------------------------------------------------- core
def target_share(weights, targets, *, queries=None, exclude_bos: bool = False,
                 exclude_current_token: bool = False) -> np.ndarray:
    """Mean share of attention on ``targets`` over the scored queries.

    Args:
        weights: attention ``[..., T, T]`` (rows = queries, each row summing to 1 over the
            keys it sees).
        targets: bool ``[T, T]`` or ``[..., T, T]`` (broadcast): the keys each query should
            attend to.
        queries: bool ``[T]`` or ``[..., T]``: rows to average over. Default: rows with at
            least one target left after the exclusions.
        exclude_bos: drop key 0 from every row and renormalise the row over the keys left.
        exclude_current_token: drop the diagonal and renormalise likewise.

    Returns:
        float ``[...]``: per leading index, ``mean_i Σ_{j∈S_i} A'_ij`` with ``A'`` the
        renormalised rows; NaN when no query is scored.
    """
    A = _weights(weights)
    T = A.shape[-1]
    S = _array(targets, dtype=bool)
    keep = _keep_mask(T, exclude_bos, exclude_current_token)
    if keep is not None:
        S = S & keep
        kept = np.where(keep, A, 0).sum(-1)                   # [..., T]
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(S, A, 0).sum(-1) / kept
    else:
        share = np.where(S, A, 0).sum(-1)
    q = S.any(-1) if queries is None else _array(queries, dtype=bool) & S.any(-1)
    q = np.broadcast_to(q, share.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.where(q, share, 0).sum(-1) / q.sum(-1)).astype(np.float64)


def uniform_share(targets, *, queries=None, visible=None, exclude_bos: bool = False,
                  exclude_current_token: bool = False) -> np.ndarray:
    """What :func:`target_share` gives for *uniform* attention over the visible keys.

    ``visible`` is bool ``[T, T]`` / ``[..., T, T]``; default causal (``j <= i``). For query
    ``i`` the uniform share is ``|S_i ∩ V_i| / |V_i|`` after the exclusions (``1/(i+1)`` for
    one target under a causal mask with BOS kept). Returns float ``[...]`` like ``target_share``
    (the leading shape of ``targets``).
    """
    S = _array(targets, dtype=bool)
    T = S.shape[-1]
    V = np.tri(T, dtype=bool) if visible is None else _array(visible, dtype=bool)
    keep = _keep_mask(T, exclude_bos, exclude_current_token)
    if keep is not None:
        V = V & keep
    S = S & V
    with np.errstate(invalid="ignore", divide="ignore"):
        u = S.sum(-1) / V.sum(-1)
    q = S.any(-1) if queries is None else _array(queries, dtype=bool) & S.any(-1)
    q = np.broadcast_to(q, u.shape)
    u = np.broadcast_to(u, q.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.where(q, u, 0).sum(-1) / q.sum(-1)).astype(np.float64)


# ----------------------------------------------------------------------------- role scores
def previous_token_score(weights, *, exclude_bos: bool = False, exclude_current_token: bool = False,
                         queries=None) -> np.ndarray:
    """Previous-token score: mean over queries ``i >= 1`` of ``A[i, i-1]``.

    Definition: Olsson et al. 2022 ("Head activation evaluators": average attention from
    token ``i`` to token ``i-1``); TransformerLens' ``previous_token_head`` pattern. With
    ``exclude_bos`` the query whose previous token is BOS (``i = 1``) is not scored and rows are
    renormalised without key 0; ``exclude_current_token`` renormalises rows without the
    diagonal. Unlike TransformerLens' ``mul`` score, queries without a target (query 0) do not
    dilute the mean.

    Args:
        weights: ``[..., T, T]``.
    Returns:
        float ``[...]``.
    """
    A = _weights(weights)
    T = A.shape[-1]
    return target_share(A, previous_token_targets(T), queries=queries, exclude_bos=exclude_bos,
                        exclude_current_token=exclude_current_token)


def _share_on_token_targets(targets, weights, token_ids, queries, exclude_bos, exclude_current_token):
    """``target_share`` of ``weights`` on ``targets(token_ids)`` (a token-defined pattern)."""
    A = _weights(weights)
    ids = _tokens(token_ids, A.shape[-1])
    S = _align(targets(ids), ids.ndim - 1, A.ndim, 2)
    return target_share(A, S, queries=queries, exclude_bos=exclude_bos,
                        exclude_current_token=exclude_current_token)


def duplicate_token_score(weights, token_ids, *, exclude_bos: bool = False,
                          exclude_current_token: bool = False, queries=None) -> np.ndarray:
    """Duplicate-token score: mean over queries that have an earlier copy of their own token
    of the attention share on those earlier copies (``j < i``, ``tok_j == tok_i``).

    Definition: TransformerLens ``duplicate_token_head`` pattern; on repeated random tokens
    ``[x_1..x_T, x_1..x_T]`` this is the mean of ``A.diagonal(-T)`` used in the ARENA IOI
    exercises (docs/methods.md#methods-duplicate-token). Queries without an earlier copy are not scored.

    Args:
        weights: ``[..., T, T]``; token_ids: ``[T]`` or ``[..., T]``.
    Returns:
        float ``[...]`` (NaN if no token repeats).
    """
    return _share_on_token_targets(duplicate_token_targets, weights, token_ids, queries,
                                   exclude_bos, exclude_current_token)


def induction_score(weights, token_ids, *, exclude_bos: bool = False,
                    exclude_current_token: bool = False, queries=None) -> np.ndarray:
    """Induction (prefix-matching) score of Olsson et al. 2022.

    On repeated random tokens, the attention a query puts on the tokens that *followed*
    earlier occurrences of the query's own token (``1 <= j <= i``, ``tok_{j-1} == tok_i``),
    averaged over the queries that have such a token. Olsson et al. ("Head activation
    evaluators") average the attention *entries* to these targets; we sum over a query's
    targets first (its share on them), which is the same with one earlier repeat and keeps the
    score in [0, 1] with several. The targets are TransformerLens' ``induction_head``
    pattern; unlike its ``mul`` score, queries without targets do not dilute the mean.

    Args:
        weights: ``[..., T, T]``; token_ids: ``[T]`` or ``[..., T]``.
    Returns:
        float ``[...]`` (NaN if no token repeats).
    """
    return _share_on_token_targets(induction_targets, weights, token_ids, queries,
                                   exclude_bos, exclude_current_token)


def sink_score(weights, *, position: int = 0, causal: bool = True) -> np.ndarray:
    """Attention-sink score ``α_k`` of Gu et al. 2024 (arXiv 2410.10781, §3):

    ``α_k = 1/(T−k) · Σ_{i=k}^{T−1} A[i, k]`` (0-indexed), the mean attention that token ``k``
    receives from the queries that can see it (``i >= k`` under a causal mask; every query
    when ``causal=False``). ``position=0`` (the first token, usually BOS) is the per-head
    BOS-sink score; Gu et al. flag a head as a sink when ``α > 0.3`` (ε = 0.3, chosen as strict
    and insensitive to T). As published, the sum includes query ``k`` itself, which under a
    causal mask attends only to itself when ``k = 0``.

    Args:
        weights: ``[..., T, T]``.
    Returns:
        float ``[...]``.
    """
    A = _weights(weights)
    T = A.shape[-1]
    if not -T <= position < T:
        raise InputError(f"position {position} is outside a sequence of {T} tokens; pass a position from 0 to {T - 1}.")
    k = position % T
    col = A[..., :, k]
    if causal:
        col = col[..., k:]
    return col.mean(-1).astype(np.float64)


def copying_score(logits, attended_ids, *, among=None, queries=None) -> np.ndarray:
    """Copying score of Olsson et al. 2022 ("Head activation evaluators"), in [−1, 1].

    For each query, take the head's *direct* contribution to the logits (its output through
    W_O, the final norm's frozen scale and W_U) on "all tokens in the sample" (``among``: the
    distinct tokens of the probe), subtract its mean over them and apply ReLU; the raw score is
    the increase on the attended token's logit divided by the total absolute change,
    ``ReLU(l_t) / Σ_v |l_v|``, which lies in [0, 0.5] because a mean-centred vector has as much
    positive as negative mass; it is rescaled to [−1, 1]:
    ``4·ratio − 1 = 2·ReLU(l_t)/Σ_v ReLU(l_v) − 1``. 1 = every raised logit is the attended
    token; 0 = half of the raised mass; −1 = the attended token is not raised at all.

    ``among=None`` compares against the whole vocabulary instead: a stricter variant (thousands
    of competitors instead of ~25) under which heads of narrow models score near −1 even when
    the attended token is their top logit.

    Args:
        logits: float ``[..., Q, V]``: one head's direct logit contribution at ``Q`` queries.
        attended_ids: int ``[..., Q]``: the token each query attends to (``m.detect`` uses the
            token at the head's argmax key, BOS excluded).
        among: optional int ``[..., K]`` token ids to compare over (the sample's distinct
            tokens; broadcast against the leading dimensions of ``logits``). Each attended
            token must be one of them.
        queries: optional bool ``[..., Q]`` of queries to average over.
    Returns:
        float ``[...]``: mean over queries.
    """
    L = _array(logits)
    if L.ndim < 2:
        raise InputError(f"logits must be [..., Q, V], got {L.shape}; pass one row of logits per scored query.")
    t = _array(attended_ids)
    if t.shape != L.shape[:-1]:
        t = np.broadcast_to(t, L.shape[:-1])
    t = t.astype(np.int64)
    if among is not None:
        ids = np.asarray(among, dtype=np.int64)
        ids = np.broadcast_to(ids[..., None, :], L.shape[:-1] + ids.shape[-1:])   # [..., Q, K]
        match = ids == t[..., None]
        if not match.any(-1).all():
            raise InputError("every attended token must be one of `among` (the sample's tokens); pass among=None to compare "
                             "over the whole vocabulary.")
        L = np.take_along_axis(L, ids, -1)
        t = match.argmax(-1)                         # position of the attended token in `among`
    centred = L - L.mean(-1, keepdims=True)
    pos = np.maximum(centred, 0)
    total = pos.sum(-1)
    on_t = np.take_along_axis(pos, t[..., None], -1)[..., 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(total > 0, 2 * on_t / total - 1, np.nan)
    if queries is not None:
        score = np.where(np.broadcast_to(_array(queries, dtype=bool), score.shape), score, np.nan)
    with np.errstate(invalid="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(score, -1).astype(np.float64)


def retrieval_score(argmax_keys, generated_ids, input_ids, needle: tuple[int, int]) -> np.ndarray:
    """Retrieval score of Wu et al. 2024 (arXiv 2404.15574, Eq. 1), one number per trial.

    During greedy decoding of the answer to a needle-in-a-haystack prompt, a head
    *copy-pastes* at a step when its top-1 attention key ``j`` (from the current query) lies
    in the needle span and the token there equals the token generated at that step. The score
    is token-level recall over the needle, ``|g_h ∩ k| / |k|``, with ``g_h`` the needle tokens
    the head copy-pasted (counted once each; the authors' code adds ``1/|k|`` per step, which
    is the same when each needle token is generated once). Wu et al. mark a retrieval head at
    score > 0.1 and only keep trials whose answer recalls > 50% of the needle (``m.detect``
    leaves the other trials out as NaN).

    Args:
        argmax_keys: int ``[..., S]``: the head's argmax key position at each of ``S`` decoding
            steps (e.g. ``[batch, n_heads, S]``).
        generated_ids: int ``[S]`` or ``[..., S]``: the token generated at each step.
        input_ids: int ``[T]`` or ``[..., T]``: the prompt.
        needle: ``(start, end)`` positions of the needle in the prompt (end exclusive).
    Returns:
        float ``[...]`` in [0, 1].
    """
    j = _array(argmax_keys).astype(np.int64)
    gen = _array(generated_ids).astype(np.int64)
    ids = _array(input_ids).astype(np.int64)
    start, end = int(needle[0]), int(needle[1])
    if not 0 <= start < end <= ids.shape[-1]:
        raise InputError(f"needle span {needle} does not fit a prompt of {ids.shape[-1]} tokens; pass the (start, end) of the needle in it.")
    T = ids.shape[-1]
    ids = np.broadcast_to(_align(ids, ids.ndim - 1, j.ndim, 1), j.shape[:-1] + (T,))
    gen = np.broadcast_to(_align(gen, gen.ndim - 1, j.ndim, 1), j.shape)
    tok_at = np.take_along_axis(ids, np.clip(j, 0, T - 1), -1)
    hit = (j >= start) & (j < end) & (tok_at == gen)                     # [..., S]
    k = end - start
    at = (j[..., :, None] - start) == np.arange(k)                        # [..., S, k]
    copied = (at & hit[..., :, None]).any(-2)                             # [..., k]: the set g_h
    return copied.sum(-1) / float(k)


def pattern_score(weights, pattern, exclude_bos: bool = False, exclude_current_token: bool = False,
                  error_measure: str = "mul") -> np.ndarray:
    """TransformerLens-compatible ``detect_head`` score of attention against a 0/1 pattern.

    ``"mul"``: ``Σ(A ⊙ P) / Σ A`` — the mean over all query rows of the mass on ``P`` (rows
    with an empty pattern count as 0, as in TransformerLens; use the role scores above for
    scores that leave such rows out). ``"abs"``: ``1 − mean over rows of Σ_j |A_ij − P_ij|``.

    Differences from TransformerLens (docs/methods.md#methods-pattern-score), on purpose:

    * the input is never modified (TransformerLens zeroes the BOS column and diagonal of the
      cached pattern in place);
    * with ``exclude_bos`` / ``exclude_current_token`` each row is renormalised over the keys
      left (TransformerLens divides by the remaining global sum for ``"mul"`` and not at all
      for ``"abs"``); rows with no key left are skipped; the excluded cells are also removed
      from ``P``;
    * no rounding of ``"abs"`` to 3 decimals; no lower-triangular requirement (encoders
      work); any leading shape ``[..., T, T]`` is scored at once (a batch gives one score per
      prompt, never only the first prompt).

    Without exclusions ``"mul"`` equals TransformerLens' value exactly (and ``"abs"`` up to its
    rounding).

    Args:
        weights: ``[..., T, T]``; pattern: ``[T, T]`` or ``[..., T, T]`` (0/1).
    Returns:
        float ``[...]``.
    """
    if error_measure not in ("mul", "abs"):
        raise InputError(f"error_measure must be 'mul' or 'abs', got {error_measure!r}; pass error_measure='mul'.")
    A = _weights(weights).astype(np.float64)
    T = A.shape[-1]
    P = _array(pattern).astype(np.float64)
    if P.shape[-2:] != (T, T):
        raise InputError(f"pattern must be [T, T] with T={T} (the attention's length), got {P.shape}; "
                         "pass a pattern as long as the attention.")
    keep = _keep_mask(T, exclude_bos, exclude_current_token)
    if keep is not None:
        A = np.where(keep, A, 0.0)
        P = np.where(keep, P, 0.0)
        mass = A.sum(-1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            A = np.where(mass > 0, A / mass, 0.0)
        rows = mass[..., 0] > 0
    else:
        rows = np.ones(A.shape[:-1], dtype=bool)
    if error_measure == "mul":
        per_row = (A * P).sum(-1)
    else:
        D = np.abs(A - P)
        if keep is not None:
            D = np.where(keep, D, 0.0)
        per_row = 1.0 - D.sum(-1)
    rows = np.broadcast_to(rows, per_row.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rows, per_row, 0).sum(-1) / rows.sum(-1)

