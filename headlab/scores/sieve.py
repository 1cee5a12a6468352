"""Sieve scores: how much of a head's attention lands where a role says it should.

Notation (one head, one sample). ``A`` is the attention matrix (rows = queries), ``S_i`` the
sieve of query ``i`` (keys it should attend to under the role), ``V_i`` the keys it can see
(all real tokens for an encoder, ``j <= i`` for a causal model), ``n_i = |V_i|`` and
``s_i = |S_i ∩ V_i|``.

``sieve_bias`` — Pande et al. (2021), *The Heads Hypothesis*, AAAI, arXiv 2101.09115, as
reconstructed from the authors' code (github.com/iitmnlp/heads-hypothesis), generalised to
causal masks::

    b_i = (1/s_i · Σ_{j∈S_i} A_ij) / (1/n_i · Σ_{j∈V_i} A_ij)     # 1 under uniform attention
    B   = mean of b_i over queries with s_i > 0

Its scale grows with ``n_i / s_i``: a perfect previous-token head scores ≈ n/5 on the ±2
local sieve (2.8 at n = 12, 26 at n = 128), so a fixed threshold means different things for
short and long sentences.

``sieve_lift`` — headlab's default, a length-free normalisation of the same quantities. With
the share of visible attention on the sieve ``m_i = Σ_{S_i} A_ij / Σ_{V_i} A_ij`` and the share
uniform attention would give ``u_i = s_i / n_i``::

    k_i = (m_i − u_i) / (1 − u_i)        # 0 under uniform attention, 1 when all mass is on S_i
    K   = weighted mean of k_i over queries with 0 < s_i < n_i

``k_i`` is the fraction of the attention *not already expected on the sieve by chance* that
moves onto it (the same chance correction as Cohen's kappa). Its null value is 0 at every
length — when attention is independent of the sieve and exchangeable over visible keys,
``E[m_i] = u_i`` exactly — and its maximum is 1 at every length, so one threshold means the
same thing for a 6-token and a 120-token sentence. Queries whose sieve is empty or covers
everything they see carry no information and are left out.

``sieve_mass`` — the plain mean share ``m_i`` (Clark et al. 2019's "average attention" when
the sieve is a token type), for reference.

All three take ``weights [..., T, T]``, ``sieve`` bool broadcastable to it, optional
``visible`` (default: all keys) and optional ``query_weights [..., T]`` (default: 1 for
every eligible query), and return one score per leading index (e.g. ``[L, H]``); NaN where no
query is eligible. Vectorised: no Python loop over heads or tokens.
"""

from __future__ import annotations

import numpy as np

__all__ = ["sieve_bias", "sieve_lift", "sieve_mass"]


def _prepare(weights, sieve, visible, query_weights):
    A = np.asarray(weights, dtype=np.float64)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        from headlab.errors import InputError

        raise InputError(f"weights must be [..., T, T] with square last axes, got {A.shape}. "
                         "Pass rows = queries, columns = keys.")
    T = A.shape[-1]
    V = np.ones((T, T), dtype=bool) if visible is None else np.asarray(visible, dtype=bool)
    S = np.asarray(sieve, dtype=bool) & V
    n = V.sum(-1)                       # [..., T]
    s = S.sum(-1)
    on_sieve = (A * S).sum(-1)          # [..., T]
    on_visible = (A * V).sum(-1)
    qw = None if query_weights is None else np.asarray(query_weights, dtype=np.float64)
    return A, S, V, n, s, on_sieve, on_visible, qw


def _weighted_mean(values, eligible, qw):
    w = eligible.astype(np.float64)
    if qw is not None:
        w = w * qw
    w = np.broadcast_to(w, values.shape)
    total = w.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (np.where(w > 0, values, 0.0) * w).sum(-1) / total
    return np.where(total > 0, out, np.nan)


def sieve_bias(weights, sieve, visible=None, query_weights=None) -> np.ndarray:
    """Pande et al.'s sieve bias score ``B`` (see module docstring); 1 = uniform attention.

    Args:
        weights: attention ``[..., T, T]``, rows = queries.
        sieve: bool ``[T, T]`` or broadcastable to ``weights``.
        visible: bool ``[T, T]`` keys each query can see (default: all; causal models pass
            their lower-triangular mask).
        query_weights: float ``[..., T]`` weights of queries in the mean (default: 1).
    Returns:
        float64 ``weights.shape[:-2]`` (e.g. ``[L, H]``); NaN if no query has a sieve.
    """
    A, S, V, n, s, on_sieve, on_visible, qw = _prepare(weights, sieve, visible, query_weights)
    with np.errstate(invalid="ignore", divide="ignore"):
        b = (on_sieve / s) / (on_visible / n)
    return _weighted_mean(b, s > 0, qw)


def sieve_lift(weights, sieve, visible=None, query_weights=None) -> np.ndarray:
    """headlab's length-free lift ``K`` (see module docstring); 0 = uniform, 1 = all on sieve.

    Same arguments and return shape as :func:`sieve_bias`.
    """
    A, S, V, n, s, on_sieve, on_visible, qw = _prepare(weights, sieve, visible, query_weights)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = on_sieve / on_visible
        u = s / n
        k = (m - u) / (1.0 - u)
    return _weighted_mean(k, (s > 0) & (s < n), qw)


def sieve_mass(weights, sieve, visible=None, query_weights=None) -> np.ndarray:
    """Mean share of visible attention on the sieve, ``mean_i m_i``, in [0, 1]."""
    A, S, V, n, s, on_sieve, on_visible, qw = _prepare(weights, sieve, visible, query_weights)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = on_sieve / on_visible
    return _weighted_mean(m, s > 0, qw)
