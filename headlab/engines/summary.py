"""A ``Report`` from merged sufficient statistics, when the per-sample scores are not kept.

``Report.from_samples`` needs every per-sample score.  With ``keep_samples=False`` the
workers send moments and Poisson-bootstrap accumulators instead
(:mod:`headlab.stats.streaming`), and this module builds the same table from them: the mean
score, the one-sample t test from the merged moments (equal to ``from_samples``' t test up
to float rounding), the Poisson-bootstrap percentile CI (close to, not equal to, the
multinomial bootstrap's), and the same multiple-testing correction over all heads x roles.

The report's per-sample arrays are read-only NaN placeholders of the right shape ``[N, L, H]``
that take no memory (``np.broadcast_to``); ``provenance["per_sample"]`` says they were not
kept, so ``retest`` and ``compare``, which need them, cannot give results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from headlab import stats
from headlab.catalog import heads_of, types_for_role
from headlab.report import Report
from headlab.report.table import FORMAT, FORMAT_VERSION, _json_safe, _normalise_table, _now_iso, _version

__all__ = ["report_from_statistics"]


def report_from_statistics(acc: dict, *, n_samples: int, shape: tuple[int, int], method: str, null: float,
                           alternative: str, alpha: float, correction: str, ci_level: float, n_boot: int,
                           seed: int, model_name: str, params: dict, catalog: bool = True) -> Report:
    """Report from ``{role: (Moments, PoissonBootstrap)}`` merged over the whole corpus (roles
    in report order); ``shape`` is ``(L, H)``."""
    roles = list(acc)
    L, H = shape
    tests = {r: acc[r][0].t_test(null=null, alternative=alternative) for r in roles}
    cis = {r: acc[r][1].ci(ci_level) for r in roles}
    p_all = np.stack([tests[r].p_value for r in roles])
    q_all = stats.adjust(p_all, correction)
    by_role = {r: types_for_role(r) if catalog else [] for r in roles}
    by_head = heads_of(model_name, L, H) if catalog and model_name else {}
    layer_idx, head_idx = np.meshgrid(np.arange(L), np.arange(H), indexing="ij")
    heads = list(zip(layer_idx.ravel().tolist(), head_idx.ravel().tolist()))
    parts = []
    for i, r in enumerate(roles):
        res, ci, q = tests[r], cis[r], q_all[i]
        sig = np.where(np.isnan(q), False, q < alpha).ravel()
        parts.append(pd.DataFrame({
            "role": r, "layer": layer_idx.ravel(), "head": head_idx.ravel(),
            "score": res.mean.ravel(), "ci_low": ci.low.ravel(), "ci_high": ci.high.ravel(),
            "p_value": res.p_value.ravel(), "q_value": q.ravel(), "significant": sig,
            "n": res.n.ravel().astype(np.int64), "effect_size": res.effect_size.ravel(), "sd": res.sd.ravel(),
            "statistic": res.statistic.ravel().astype(np.float64), "null": float(null), "method": method,
            "test": res.test, "catalog": [list(by_role[r]) if s else [] for s in sig],
            "published": [list(by_head.get(h, [])) for h in heads],
        }))
    table = _normalise_table(pd.concat(parts, ignore_index=True))
    n_tests = int(np.count_nonzero(~np.isnan(p_all)))
    provenance = {
        "format": FORMAT, "version": FORMAT_VERSION, "model": model_name, "headlab_version": _version(),
        "method": method, "test": tests[roles[0]].test, "test_id": "t", "zero_variance": "nan",
        "alternative": alternative, "null": float(null), "correction": correction,
        "family": f"all {L}x{H} heads x {len(roles)} roles in this report ({n_tests} tests with a p-value)",
        "alpha": float(alpha),
        "ci": {"level": float(ci_level), "n_boot": int(n_boot), "method": "poisson-percentile"},
        "n_perm": None, "parameters": _json_safe(dict(params)), "seed": int(seed), "n_samples": int(n_samples),
        "n_samples_per_role": {r: int(_rows_with_role(acc[r][0])) for r in roles},
        "shape": [int(n_samples), int(L), int(H)], "catalog": bool(catalog), "created": _now_iso(),
        "per_sample": "not kept: merged moments and Poisson-bootstrap accumulators (docs/scale.md)",
    }
    placeholder = np.broadcast_to(np.float32(np.nan), (int(n_samples), L, H))
    return Report(table, {r: placeholder for r in roles}, provenance, None, by_role)


def _rows_with_role(moments) -> int:
    """Samples a role applies to: every head of a role sees the same samples, so the largest n."""
    return int(moments.n.max()) if moments.n.size else 0
