"""Multiple testing: adjusted p-values for a family of tests (docs/methods.md, 'Multiple testing').

BH and BY come from ``scipy.stats.false_discovery_control``; scipy has no FWER adjustment, so
Holm's step-down and Bonferroni are computed here (they equal
``statsmodels.stats.multitest.multipletests``, which headlab does not depend on).
"""

from __future__ import annotations

import numpy as np
from scipy import stats as _sps

from headlab.errors import InputError
from headlab.stats import _checks
from headlab.stats._checks import CORRECTIONS

__all__ = ["adjust"]


def adjust(p, method: str = "fdr_bh") -> np.ndarray:
    """Adjusted p-values for a family of tests: FDR (Benjamini-Hochberg, Benjamini-Yekutieli)
    or FWER (Holm, Bonferroni) control (docs/methods.md, 'Multiple testing').

    Args:
        p: p-values of any shape; the family is every non-NaN entry (NaN entries -- tests
            that could not be run -- stay NaN and do not count towards the family size m).
        method: ``"fdr_bh"`` (Benjamini & Hochberg 1995; FDR under independence or positive
            dependence), ``"fdr_by"`` (Benjamini & Yekutieli 2001; FDR under any
            dependence), ``"holm"`` (Holm 1979, step-down FWER), ``"bonferroni"``, or
            ``"none"`` (returns a copy of ``p``).

    Returns:
        float array of the shape of ``p``: q-values for the FDR methods (computed by
        ``scipy.stats.false_discovery_control`` on the non-NaN entries), adjusted p-values for
        Holm and Bonferroni (equal to ``statsmodels.stats.multitest.multipletests``).  Reject
        at level alpha where the result is < alpha (or <=; they differ only on exact ties).

    Raises:
        InputError: unknown ``method``, non-numeric ``p`` or p-values outside [0, 1].
    """
    method = _checks.choice("method", method, CORRECTIONS)
    try:
        arr = np.asarray(p, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InputError("p must be an array of p-values in [0, 1] (NaN for tests not run).") from err
    out = np.full(arr.shape, np.nan)
    flat = arr.ravel()
    keep = np.flatnonzero(~np.isnan(flat))
    pv = flat[keep]
    if pv.size and ((pv < 0) | (pv > 1)).any():
        raise InputError("p-values must lie in [0, 1] (NaN allowed); check where they came from.")
    m = pv.size
    if m == 0:
        return out
    if method == "none":
        adj = pv.copy()
    elif method == "bonferroni":
        adj = np.minimum(pv * m, 1.0)
    elif method == "holm":
        order = np.argsort(pv, kind="stable")
        stepped = (m - np.arange(m)) * pv[order]
        adj = np.empty(m)
        adj[order] = np.minimum(np.maximum.accumulate(stepped), 1.0)
    else:
        adj = _sps.false_discovery_control(pv, method="bh" if method == "fdr_bh" else "by")
    out.reshape(-1)[keep] = adj
    return out
