"""CPU cost of the report's bootstrap CIs: 25 per-role calls against one shared call, and the
peak memory of ``bootstrap_ci`` as the number of samples grows.

``Report.from_samples`` computes a bootstrap CI per role, each call seeded alike.
``headlab.stats.bootstrap_ci_many`` returns the same intervals bit for bit but draws the
resamples once for all roles whose columns have the same sequence of sample counts, and
applies them in one matrix product.  Measured on synthetic scores shaped like the default
report (25 roles x [656 samples, 6 layers, 12 heads]; 15 roles on every sample, 5 on the 210
pair samples, 5 on subsets of their own size) and on a small case (N = 40).  CPU time is
``time.process_time`` (all threads, so BLAS threads count), the two variants alternate in
every repetition and the median is printed with the ratio.

Memory: ``tracemalloc`` peak of one ``bootstrap_ci`` call on [N, 25] columns, and
"resampling": the peak while the resamples are drawn and applied (``resampled_means``) above
the memory in use when it starts -- the part that grew with N before; it stays at the block
budget (about 24 bytes per cell) however large N is.  The rest of the peak is a few copies of
the data (float64 columns and their exact-sum parts).  The same is shown with the block budget
before this change (4,000,000 cells).

Run: ``python benchmarks/bootstrap_cost.py [--repeat 5] [--n-boot 2000]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import numpy as np

from headlab import stats
from headlab.stats import _resample
from headlab.stats import bootstrap as _bootstrap_module

ROLES, LAYERS, HEADS = 25, 6, 12
OLD_BLOCK_CELLS = 4_000_000


def role_scores(n_samples: int, seed: int = 0) -> list[np.ndarray]:
    """25 float32 [N, 6, 12] arrays; NaN rows where a role does not apply to a sample."""
    rng = np.random.default_rng(seed)
    n_pairs = max(2, round(n_samples * 210 / 656))
    out = []
    for r in range(ROLES):
        x = rng.normal(0.05 * (r % 4), 0.3, size=(n_samples, LAYERS, HEADS)).astype(np.float32)
        if 15 <= r < 20:            # pair-only roles: the last n_pairs samples
            x[: n_samples - n_pairs] = np.nan
        elif r >= 20:               # e.g. a syntactic relation present in some sentences
            x[rng.random(n_samples) < 0.15 + 0.1 * (r - 20)] = np.nan
        out.append(x)
    return out


def cpu_seconds(fn) -> float:
    t = time.process_time()
    fn()
    return time.process_time() - t


def compare_calls(label: str, arrays: list[np.ndarray], n_boot: int, repeat: int) -> None:
    per_role = lambda: [stats.bootstrap_ci(x, n_boot=n_boot, seed=0) for x in arrays]  # noqa: E731
    shared = lambda: stats.bootstrap_ci_many(arrays, n_boot=n_boot, seed=0)  # noqa: E731
    for a, b in zip(per_role(), shared()):  # warm-up, and the promise the comparison rests on
        assert np.array_equal(a.low, b.low, equal_nan=True) and np.array_equal(a.high, b.high, equal_nan=True)
    t_roles, t_many = [], []
    for _ in range(repeat):  # alternate, so drifts in machine load hit both alike
        t_roles.append(cpu_seconds(per_role))
        t_many.append(cpu_seconds(shared))
    mr, mm = statistics.median(t_roles), statistics.median(t_many)
    print(f"{label}: {len(arrays)} per-role bootstrap_ci calls {mr * 1e3:8.1f} ms CPU, "
          f"one bootstrap_ci_many {mm * 1e3:8.1f} ms CPU, ratio {mr / mm:.2f}x "
          f"(median of {repeat}, n_boot={n_boot}, identical intervals)")


def peaks(x: np.ndarray, n_boot: int) -> tuple[int, int]:
    """(peak of the whole call, largest peak of a resampling stage above its start)."""
    stage = [0]
    inner = _bootstrap_module.resampled_means

    def traced(*args):
        start = tracemalloc.get_traced_memory()[0]
        outer_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        try:
            return inner(*args)
        finally:
            now_peak = tracemalloc.get_traced_memory()[1]
            stage[0] = max(stage[0], now_peak - start)
            tracemalloc.reset_peak()
            call_peak[0] = max(call_peak[0], outer_peak, now_peak)

    call_peak = [0]
    _bootstrap_module.resampled_means = traced
    tracemalloc.start()
    try:
        stats.bootstrap_ci(x, n_boot=n_boot, seed=0)
        call_peak[0] = max(call_peak[0], tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()
        _bootstrap_module.resampled_means = inner
    return call_peak[0], stage[0]


def memory(n_samples: int, n_boot: int) -> None:
    x = np.random.default_rng(1).normal(size=(n_samples, 25))
    row = []
    for cells in (_resample.BLOCK_CELLS, OLD_BLOCK_CELLS):
        saved = _resample.BLOCK_CELLS
        _resample.BLOCK_CELLS = cells
        try:
            row.append(peaks(x, n_boot))
        finally:
            _resample.BLOCK_CELLS = saved
    (peak, res), (old_peak, old_res) = row
    print(f"memory: bootstrap_ci on [{n_samples:,}, 25] ({x.nbytes / 1e6:.2f} MB of data), n_boot={n_boot}: "
          f"peak {peak / 1e6:6.1f} MB, resampling {res / 1e6:5.1f} MB "
          f"(budget {_resample.BLOCK_CELLS:,} cells); with the old 4,000,000-cell budget: "
          f"peak {old_peak / 1e6:6.1f} MB, resampling {old_res / 1e6:5.1f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--n-boot", type=int, default=2000)
    args = ap.parse_args()
    compare_calls("default report [656, 6, 12] x 25 roles", role_scores(656), args.n_boot, args.repeat)
    compare_calls("small case     [40, 6, 12] x 25 roles", role_scores(40), args.n_boot, args.repeat)
    for n in (25, 10_000, 100_000):
        memory(n, args.n_boot)


if __name__ == "__main__":
    main()
