"""Golden values of ``headlab.stats``: the seeded inputs and the calls whose outputs are frozen.

``stats_golden.npz`` (next to this file) holds the inputs (``in__<name>``) and, for every call
listed by :func:`cases`, its outputs (``<case>__<field>``).  The outputs were written by the
single-module ``headlab/stats.py`` as it was before it became the ``headlab.stats`` package
(git history: the version of ``headlab/stats.py`` in commit ace3e3b), so the tests in
``test_stats.py`` check that the package reproduces the numbers the library gave before.

To regenerate (only when a change of the numbers is intended and explained)::

    python3 tests/unit/data/stats_golden_cases.py path/to/stats_module.py

The file is written without pickle (plain numeric and unicode arrays) and read with
``np.load(..., allow_pickle=False)``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

GOLDEN_PATH = Path(__file__).with_name("stats_golden.npz")
ALTS = ("greater", "less", "two-sided")
RESULT_FIELDS = ("statistic", "p_value", "n", "mean", "sd", "effect_size")


def make_inputs() -> dict[str, np.ndarray]:
    """Seeded inputs covering NaN patterns (different n per column), ties, zeros, constant
    columns, n <= 50 (exact Wilcoxon) and n > 50 (normal approximation)."""
    rng = np.random.default_rng(20240601)

    small = rng.normal(0.2, 1.0, size=(30, 24))
    small[:5, 1] = np.nan                      # n = 25
    small[::3, 2] = np.nan                     # n = 20
    small[1:, 3] = np.nan                      # n = 1
    small[:, 4] = np.nan                       # n = 0
    small[2:, 5] = np.nan                      # n = 2
    small[3:, 6] = np.nan                      # n = 3
    small[:, 7:10] = np.round(small[:, 7:10], 1)   # ties
    small[[0, 4, 9], 8] = 0.0                  # zeros against null 0
    small[[1, 5, 11], 9] = 0.1                 # zeros against null 0.1
    small[:, 10] = 2.5                         # constant above the nulls
    small[:, 11] = -1.0                        # constant below
    small[:, 12] = 0.0                         # constant on null 0
    small[:, 13] = 0.1                         # constant on null 0.1 ...
    small[::4, 13] = np.nan                    # ... with NaN rows
    small[:, 14] = np.nan
    small[:2, 14] = 0.7                        # constant, n = 2
    small[:, 15] = np.abs(small[:, 15]) + 0.5  # all above: tiny exact p
    small[:, 16] = -np.abs(small[:, 16]) - 0.5
    small[:, 17] = rng.standard_t(2, size=30)
    small[:, 18] = rng.exponential(size=30)    # skewed: BCa != percentile
    small[:, 19] = rng.integers(0, 2, size=30).astype(float)  # 0/1 data
    small[rng.random(30) < 0.5, 20] = np.nan
    small[28:, 21] = np.nan                    # n = 28
    small[:5, 22] = np.nan                     # n = 25, shares n with column 1
    small[20:, 23] = np.nan                    # n = 20, shares n with column 2

    large = rng.normal(0.15, 1.0, size=(80, 24))
    large[:30, 1] = np.nan                     # n = 50: exact Wilcoxon inside an n > 50 call
    large[:20, 2] = np.nan                     # n = 60
    large[::2, 3] = np.nan                     # n = 40
    large[:, 4:8] = np.round(large[:, 4:8], 1)  # ties (and some zeros)
    large[:10, 5] = 0.0
    large[:, 8] = 3.0
    large[:, 9] = 0.0
    large[:, 10] = np.abs(large[:, 10])
    large[:, 11] = rng.exponential(size=80)
    large[:, 12] = rng.integers(0, 3, size=80).astype(float)
    large[rng.random(80) < 0.3, 13] = np.nan
    large[:29, 14] = np.nan                    # n = 51
    large[:, 15] = rng.standard_t(3, size=80)

    pa = rng.normal(0.0, 1.0, size=(40, 12))
    pb = pa + rng.normal(0.2, 1.0, size=(40, 12))
    pa[:6, 1] = np.nan
    pb[::5, 2] = np.nan
    pb[:, 3] = pa[:, 3]                        # no difference at all
    pb[:, 4] = pa[:, 4] - 0.25                 # constant difference
    pb[:, 5] = np.round(pb[:, 5], 1)
    pa[:, 5] = np.round(pa[:, 5], 1)           # tied differences

    # several bootstrap blocks at the default n_boot (4,000,000-cell blocks before the split)
    big = rng.normal(0.3, 1.0, size=(4200, 2))
    big[:1200, 1] = np.nan

    p = np.concatenate([rng.uniform(size=40), rng.uniform(0, 0.003, size=16), [0.0, 1.0, 0.5, 0.5]])
    p[[3, 17]] = p[8]                          # ties
    p[[5, 22, 41]] = np.nan
    pvals = p.reshape(6, 10)

    masks = rng.random((3, 6, 12)) < np.array([0.3, 0.3, 0.1])[:, None, None]
    masks[1] |= masks[0] & (rng.random((6, 12)) < 0.6)

    return {"small": small, "large": large, "pa": pa, "pb": pb, "big": big, "pvals": pvals,
            "masks": masks}


def cases(stats, inputs) -> dict:
    """``{case name: zero-argument callable}``; a callable returns a TestResult, a
    ConfidenceInterval, an array or a FisherResult."""
    out = {}
    x = {"small": inputs["small"], "large": inputs["large"]}
    for data in ("small", "large"):
        for null in (0.0, 0.1):
            for alt in ALTS:
                for zv in ("nan", "sign"):
                    out[f"one_sample-t-{data}-{null}-{alt}-{zv}"] = (
                        lambda d=data, nu=null, a=alt, z=zv: stats.one_sample(
                            x[d], null=nu, test="t", alternative=a, zero_variance=z))
                out[f"one_sample-wilcoxon-{data}-{null}-{alt}"] = (
                    lambda d=data, nu=null, a=alt: stats.one_sample(x[d], null=nu, test="wilcoxon", alternative=a))
                out[f"one_sample-signflip-{data}-{null}-{alt}"] = (
                    lambda d=data, nu=null, a=alt: stats.one_sample(
                        x[d], null=nu, test="signflip", alternative=a, seed=3, n_perm=2500))
        out[f"one_sample-t-{data}-ddof0"] = lambda d=data: stats.one_sample(x[d], null=0.1, ddof=0)
        out[f"one_sample-signflip-{data}-default"] = lambda d=data: stats.one_sample(x[d], test="signflip")
    out["one_sample-t-3d"] = lambda: stats.one_sample(x["small"].reshape(30, 4, 6), null=0.1)

    for test in ("t", "wilcoxon", "signflip"):
        for alt in ALTS:
            out[f"paired-{test}-{alt}"] = (lambda t=test, a=alt: stats.paired(
                inputs["pa"], inputs["pb"], test=t, alternative=a, seed=5, n_perm=1500))
    out["paired-t-sign"] = lambda: stats.paired(inputs["pa"], inputs["pb"], zero_variance="sign")

    boot = {"small": inputs["small"], "large": inputs["large"], "big": inputs["big"]}
    for data in ("small", "large", "big"):
        for method in ("percentile", "bca"):
            out[f"bootstrap-{data}-{method}-default"] = (
                lambda d=data, m=method: stats.bootstrap_ci(boot[d], method=m))
            if data != "big":
                out[f"bootstrap-{data}-{method}-0.9-999-7"] = (
                    lambda d=data, m=method: stats.bootstrap_ci(boot[d], level=0.9, n_boot=999, seed=7, method=m))
    out["bootstrap-3d-bca"] = lambda: stats.bootstrap_ci(inputs["small"].reshape(30, 4, 6), method="bca", seed=2)

    for method in ("fdr_bh", "fdr_by", "holm", "bonferroni", "none"):
        out[f"adjust-{method}"] = lambda m=method: stats.adjust(inputs["pvals"], m)

    masks = inputs["masks"]
    for i, j in ((0, 1), (0, 2), (1, 2)):
        out[f"fisher-{i}{j}"] = lambda i=i, j=j: stats.fisher_exact_2x2(masks[i], masks[j])
        out[f"jaccard-{i}{j}"] = lambda i=i, j=j: np.float64(stats.jaccard(masks[i], masks[j]))
    out["constant_sign_p"] = lambda: np.stack([
        stats.constant_sign_p(np.array([1, 3, 10, 30]), np.array([0.5, -0.5, 0.1, 0.0]), 0.1, a) for a in ALTS])
    return out


def flatten(result) -> dict[str, np.ndarray]:
    """Named arrays of a result (the ``test`` name as a unicode array)."""
    if hasattr(result, "p_value"):
        d = {f: np.asarray(getattr(result, f)) for f in RESULT_FIELDS}
        d["test"] = np.array(result.test)
        return d
    if hasattr(result, "low"):
        return {"low": np.asarray(result.low), "high": np.asarray(result.high)}
    if hasattr(result, "p_greater"):
        return {"odds_ratio": np.float64(result.odds_ratio), "p_greater": np.float64(result.p_greater),
                "p_two_sided": np.float64(result.p_two_sided), "table": np.asarray(result.table),
                "expected": np.float64(result.expected), "test": np.array(result.test)}
    return {"value": np.asarray(result)}


def write(stats, path: Path = GOLDEN_PATH) -> None:
    inputs = make_inputs()
    arrays = {f"in__{k}": v for k, v in inputs.items()}
    for name, call in cases(stats, inputs).items():
        for field, value in flatten(call()).items():
            arrays[f"{name}__{field}"] = value
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)


if __name__ == "__main__":  # python3 stats_golden_cases.py path/to/stats.py
    import importlib.util

    spec = importlib.util.spec_from_file_location("stats_under_test", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    write(module)
    print(f"wrote {GOLDEN_PATH}")
