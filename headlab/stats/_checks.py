"""Option checks and input conversion shared by the statistics modules.

Every public function of :mod:`headlab.stats` checks its options here, once, where the call
enters the library, with :mod:`headlab.validate`: wrong types (``"2000"``, ``2000.0``,
``True``, NaN) raise :class:`~headlab.errors.InputError` naming the option and what to pass.
"""

from __future__ import annotations

import numpy as np

from headlab import validate
from headlab.errors import InputError

TESTS = ("t", "wilcoxon", "signflip")
ALTERNATIVES = ("greater", "less", "two-sided")
CORRECTIONS = ("fdr_bh", "fdr_by", "holm", "bonferroni", "none")
CI_METHODS = ("percentile", "bca")
ZERO_VARIANCE = ("nan", "sign")

#: largest n_boot / n_perm accepted: beyond this the Monte-Carlo error is far below anything
#: a report can show, and the run time is hours.
MAX_RESAMPLES = 1_000_000


def choice(name: str, value, allowed: tuple) -> str:
    """``value`` if it is one of ``allowed``; else InputError listing them."""
    return validate.choice(name, value, allowed)


def n_boot(value) -> int:
    return validate.integer("n_boot", value, min=2, max=MAX_RESAMPLES, example=2000)


def n_perm(value) -> int:
    return validate.integer("n_perm", value, min=1, max=MAX_RESAMPLES, example=9999)


def level(value) -> float:
    return validate.number("level", value, lo=0.0, hi=1.0, lo_open=True, hi_open=True, example=0.95)


def null(value) -> float:
    return validate.number("null", value, example=0.0)


def ddof(value) -> int:
    return validate.integer("ddof", value, min=0, example=1)


def seed(value) -> int:
    return validate.seed(value)


def samples(x, name: str = "x") -> np.ndarray:
    """``x`` as float64 ``[N, ...]`` (samples first); InputError for scalars, non-numbers
    and infinities (NaN is allowed: it marks a sample a column does not use)."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InputError(f"{name} must be an array of numbers shaped [N, ...] (samples first); "
                         f"got {validate.describe(x)}. Pass a numeric array.") from err
    if arr.ndim == 0:
        raise InputError(f"{name} must have a samples axis first, shape [N, ...]; got a scalar. "
                         "Pass one score per sample.")
    if np.isinf(arr).any():
        raise InputError(f"{name} contains infinite values; use NaN for 'not applicable' samples.")
    return arr


def sided_name(alternative: str) -> str:
    """``"two-sided"`` or ``"one-sided, greater"`` / ``"one-sided, less"`` for test names."""
    return "two-sided" if alternative == "two-sided" else f"one-sided, {alternative}"
