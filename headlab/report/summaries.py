"""Summaries of a report over heads: co-location of roles, layers, layer distribution tests.

Each takes a :class:`headlab.Report`; the report's methods of the same names call them
(docs/methods.md#methods-colocation, #methods-layers).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import special
from scipy.stats import chi2 as chi2_dist

from headlab import stats

__all__ = ["colocation", "by_layer", "layer_test"]


def colocation(rep) -> pd.DataFrame:
    """Co-location of every unordered pair of roles among the heads (docs/methods.md#methods-colocation).

    Returns:
        DataFrame, one row per pair ``(role_a, role_b)`` in role order, columns
        ``n_a, n_b`` (significant heads of each role), ``n_both``, ``expected``
        (``n_a * n_b / (L * H)``, the overlap expected by chance), ``jaccard``,
        ``odds_ratio``, ``p_value`` (Fisher exact, one-sided "more overlap than chance"),
        ``q_value`` (BH over the pairs), ``test``.  The universe is all L x H heads.
    """
    cols = ["role_a", "role_b", "n_a", "n_b", "n_both", "expected", "jaccard",
            "odds_ratio", "p_value", "q_value", "test"]
    masks = {r: rep.matrix(r, "significant") for r in rep.roles}
    rows = []
    for i, a in enumerate(rep.roles):
        for b in rep.roles[i + 1 :]:
            fr = stats.fisher_exact_2x2(masks[a], masks[b])
            rows.append({
                "role_a": a, "role_b": b,
                "n_a": int(masks[a].sum()), "n_b": int(masks[b].sum()),
                "n_both": int(fr.table[0, 0]), "expected": fr.expected,
                "jaccard": stats.jaccard(masks[a], masks[b]),
                "odds_ratio": fr.odds_ratio, "p_value": fr.p_greater, "test": fr.test + ", one-sided greater",
            })
    out = pd.DataFrame(rows, columns=cols)
    if len(out):
        out["q_value"] = stats.adjust(out["p_value"].to_numpy(dtype=float), "fdr_bh")
    return out


def by_layer(rep) -> pd.DataFrame:
    """Counts of significant heads per layer (rows, ``0..L-1``) and role (columns)."""
    data = {r: rep.matrix(r, "significant").sum(axis=1).astype(int) for r in rep.roles}
    out = pd.DataFrame(data, index=pd.RangeIndex(rep.n_layers, name="layer"), columns=rep.roles)
    out.columns.name = "role"
    return out


def layer_test(rep, role: str, n_perm: int = 9999, seed: int = 0) -> dict:
    """Is membership of ``role`` spread evenly over layers?  (docs/methods.md#methods-layers)

    Pearson's chi-squared statistic of the ``L x 2`` table layer x (significant or not),
    with a permutation p-value (membership labels shuffled over all L x H heads; valid
    for the small expected counts typical here) and the asymptotic chi-squared p-value,
    plus the Cochran-Armitage trend test z for "more members in later layers".

    Returns:
        dict with ``statistic``, ``p_value`` (permutation), ``p_chi2`` (asymptotic),
        ``df``, ``trend_z``, ``p_trend`` (one-sided, increasing with layer), ``counts``
        (per layer), ``test``.
    """
    mask = rep.matrix(role, "significant")
    L, H = mask.shape
    k = int(mask.sum())
    counts = mask.sum(axis=1).astype(float)
    nan_result = {"statistic": float("nan"), "p_value": float("nan"), "p_chi2": float("nan"),
                  "df": L - 1, "trend_z": float("nan"), "p_trend": float("nan"),
                  "counts": counts.astype(int).tolist(),
                  "test": "chi-squared layer x membership (permutation); Cochran-Armitage trend"}
    if k == 0 or k == L * H or L < 2:
        return nan_result

    def chi2(c):  # c [..., L] members per layer; every layer has H heads
        e = H * k / (L * H)
        return (((c - e) ** 2) / e + ((H - c - (H - e)) ** 2) / (H - e)).sum(axis=-1)

    obs = chi2(counts)
    rng = np.random.default_rng(seed)
    flat = mask.ravel()
    perm_counts = np.empty((n_perm, L))
    for start in range(0, n_perm, 2048):  # blocks of shuffles, each a [b, L*H] argsort
        b = min(2048, n_perm - start)
        order = np.argsort(rng.random((b, L * H)), axis=1)
        perm_counts[start : start + b] = flat[order].reshape(b, L, H).sum(axis=2)
    p_perm = (1 + np.sum(chi2(perm_counts) >= obs - 1e-9 * obs)) / (1 + n_perm)
    # Cochran-Armitage trend with scores 0..L-1 and equal group sizes H
    t = np.arange(L, dtype=float)
    pbar = k / (L * H)
    num = np.sum(t * (counts - H * pbar))
    var = pbar * (1 - pbar) * (H * np.sum(t**2) - H**2 * np.sum(t) ** 2 / (L * H))
    z = num / math.sqrt(var) if var > 0 else float("nan")
    return {**nan_result, "statistic": float(obs), "p_value": float(p_perm),
            "p_chi2": float(chi2_dist.sf(obs, L - 1)), "trend_z": float(z),
            "p_trend": float(special.ndtr(-z)) if math.isfinite(z) else float("nan")}
