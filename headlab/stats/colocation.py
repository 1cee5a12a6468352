"""Co-location of two roles over the same heads: Fisher's exact test and the Jaccard index
(docs/methods.md, 'Co-location of roles': the hypergeometric / Fisher test of the
overlap, compared with the overlap expected by chance from each role's margin)."""

from __future__ import annotations

import numpy as np
from scipy import stats as _sps

from headlab.errors import InputError
from headlab.stats.results import FisherResult

__all__ = ["fisher_exact_2x2", "jaccard"]


def _two_masks(a_mask, b_mask) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a_mask)
    b = np.asarray(b_mask)
    if a.shape != b.shape:
        raise InputError(f"The two masks must have the same shape; got {a.shape} and {b.shape}. "
                         "Pass two [layers, heads] masks of one model.")
    if a.dtype != bool or b.dtype != bool:
        raise InputError("Co-location needs boolean masks (True = head has the role); pass e.g. "
                         "rep.matrix(role, 'significant').")
    return a.ravel(), b.ravel()


def fisher_exact_2x2(a_mask, b_mask) -> FisherResult:
    """Fisher's exact test of whether heads with role A are more often heads with role B than
    chance predicts (the hypergeometric test of the overlap, Fisher 1922; docs/methods.md,
    'Co-location of roles').

    Args:
        a_mask, b_mask: bool arrays of the same shape (e.g. ``[L, H]``), True = head has the role.

    Returns:
        :class:`FisherResult` with the sample odds ratio, the one-sided ("greater") and the
        two-sided p-value (both from ``scipy.stats.fisher_exact``), the table
        ``[[both, a_only], [b_only, neither]]`` and the overlap expected by chance.
    """
    a, b = _two_masks(a_mask, b_mask)
    table = np.array([[int(np.sum(a & b)), int(np.sum(a & ~b))],
                      [int(np.sum(~a & b)), int(np.sum(~a & ~b))]])
    odds, p_greater = _sps.fisher_exact(table, alternative="greater")
    _, p_two = _sps.fisher_exact(table, alternative="two-sided")
    total = a.size
    expected = float(a.sum()) * float(b.sum()) / total if total else float("nan")
    return FisherResult(float(odds), float(p_greater), float(p_two), table, expected)


def jaccard(a_mask, b_mask) -> float:
    """Jaccard index ``|A and B| / |A or B|`` of two boolean masks of the same shape (Jaccard
    1912; docs/methods.md, 'Co-location of roles'); NaN when both are empty (no
    heads of either role, overlap undefined)."""
    a, b = _two_masks(a_mask, b_mask)
    union = int(np.sum(a | b))
    return float(np.sum(a & b)) / union if union else float("nan")
