"""``hl.scan(engine="ray")`` on a local 2-CPU Ray cluster: throughput with 2 workers against 1,
and the driver's peak memory as the corpus grows.

Throughput.  The default model (all-MiniLM-L6-v2, CPU-bound) scores the built-in corpus's
first ``--texts`` texts for the non-syntactic roles, with 1 and with 2 one-CPU workers
(each worker's torch uses the one CPU Ray gives it), the two alternating in every repetition;
medians are printed.  Wall time is the score pass (first shard handed out to last result
merged; each worker's start-up -- Python, torch, the model -- comes before it and is printed
on its own); CPU time is the workers' user + system time in the score pass, read from their
processes with psutil, so the two runs are compared on the same work.  Because the machine
may be shared, two more columns say how far the wall time can be trusted: CPU/wall (below the
number of workers: they waited for a core) and the balance of the split (total CPU over the
busiest worker's: the speed-up the split allows when each worker has a core).  In-process
``m.roles`` on the same texts (torch with 1 thread, like one worker; its row is the whole
call, tokenising and statistics included) is shown as a baseline.

Memory.  A tiny random GPT-2 (3 layers x 4 heads, saved to a temporary folder) is scanned
with 2 workers on 1k to 16k texts; the driver's peak is measured with ``tracemalloc``
(everything Python and numpy allocate in the driver, reset before each scan) and as the
growth of its resident set size (sampled every 10 ms).  ``keep_samples=True`` gathers the
per-sample scores (float32, 0.3 KB per text here; plus the report's
copy, and ``Report.from_samples`` works on float64 copies with the bootstrap's exact-sum
parts: about 2.4 KB per text in all); ``keep_samples=False`` keeps merged moments and Poisson
accumulators: flat (the driver holds a few int64 per text: token counts and the shard plan).
A warm-up scan runs first, so one-time imports and caches are not counted.

Run: ``python benchmarks/ray_scan.py [--repeat 3] [--texts 656] [--sizes 1000,4000,16000]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import tracemalloc

import psutil
import torch

import headlab as hl
from headlab import corpus
from headlab.engines import scan

SURFACE = ["local", "previous", "next", "self", "cls", "sep", "block", "punctuation"]
TINY_ROLES = ["local", "previous", "self", "bos", "block", "punctuation"]


class Clock:
    """on_progress callback: when the score pass starts and ends, and the CPU time the workers
    spend in it (user + system, read from their processes)."""

    def __init__(self):
        self.start = self.end = self.load_end = None
        self.cpu_start: dict[int, float] = {}
        self.cpu_end: dict[int, float] = {}

    @staticmethod
    def _cpu(pids) -> dict[int, float]:
        out = {}
        for pid in pids:
            try:
                t = psutil.Process(pid).cpu_times()
                out[pid] = t.user + t.system
            except psutil.Error:
                pass
        return out

    def __call__(self, p):
        now = time.perf_counter()
        if p.phase == "measure" and self.load_end is None:
            self.load_end = now
        if p.phase == "score" and p.done == 0:
            self.start, self.cpu_start = now, self._cpu(p.workers.values())
        if p.phase == "score" and p.done == p.total:
            self.end, self.cpu_end = now, self._cpu(p.workers.values())

    @property
    def per_worker(self) -> list[float]:
        return [self.cpu_end[p] - self.cpu_start.get(p, 0.0) for p in self.cpu_end]

    @property
    def cpu(self) -> float:
        return sum(self.per_worker)

    @property
    def balance(self) -> float:
        """Total CPU over the busiest worker's: the speed-up the split allows when every worker
        has a core of its own (2.0 for two equal halves), whatever else runs on the machine."""
        return self.cpu / max(self.per_worker)


def throughput(repeat: int, n_texts: int) -> None:
    texts = (corpus.sentences() + corpus.pairs())[:n_texts]
    m = hl.load()
    m.roles(texts[:16], roles=SURFACE, n_boot=50)          # warm-up
    rows = {1: [], 2: [], "local": []}
    for _ in range(repeat):
        for workers in (1, 2):                             # alternate, so load drifts hit both
            clock = Clock()
            t0 = time.perf_counter()
            scan(None, texts, roles=SURFACE, engine="ray", workers=workers, n_boot=200, shard_batches=2,
                 on_progress=clock)
            total = time.perf_counter() - t0
            rows[workers].append((clock.end - clock.start, clock.cpu, clock.load_end - t0, total, clock.balance))
        threads = torch.get_num_threads()
        torch.set_num_threads(1)                           # the same one CPU a worker has
        t = time.perf_counter()
        c = time.process_time()
        m.roles(texts, roles=SURFACE, n_boot=200)
        torch.set_num_threads(threads)
        rows["local"].append((float("nan"), time.process_time() - c, 0.0, time.perf_counter() - t, 1.0))
    med = {k: [statistics.median(r[i] for r in v) for i in range(5)] for k, v in rows.items()}
    print(f"throughput: {m.name}, {n_texts} texts, {len(SURFACE)} roles, median of {repeat} (interleaved)")
    print(f"  {'':31s} {'score wall s':>12s} {'texts/s':>8s} {'score CPU s':>12s} {'CPU/wall':>9s} "
          f"{'balance':>8s} {'start-up s':>11s} {'total s':>8s}")
    for k, label in ((1, "ray, 1 worker"), (2, "ray, 2 workers"), ("local", "in-process m.roles, 1 thread")):
        wall, cpu, load, total, balance = med[k]
        print(f"  {label:31s} {wall:12.2f} {n_texts / wall:8.1f} {cpu:12.2f} {cpu / wall:9.2f} {balance:8.2f} "
              f"{load:11.2f} {total:8.2f}")
    print(f"  score pass, 2 workers against 1: {med[1][0] / med[2][0]:.2f}x faster (wall); CPU time "
          f"{med[2][1] / med[1][1]:.2f}x (1.00 = the same work); work split allows {med[2][4]:.2f}x "
          f"(total CPU / busiest worker's CPU)")
    print(f"  machine load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(CPU/wall below the number of workers means they waited for a core)")
    print("  (score CPU: the workers' CPU in the score pass; in-process row: CPU and wall of the whole call)")


class RssPeak:
    """Peak resident set size of this process above its value at start, sampled every 10 ms."""

    def __enter__(self):
        self.proc = psutil.Process(os.getpid())
        self.base = self.peak = self.proc.memory_info().rss
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self):
        while not self.stop:
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.01)

    def __exit__(self, *exc):
        self.stop = True
        self.thread.join()

    @property
    def growth(self) -> int:
        return self.peak - self.base


def driver_memory(sizes: list[int]) -> None:
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
    from tiny_models import build
    from transformers import AutoTokenizer

    from headlab.loading import default_model_path

    folder = tempfile.mkdtemp(prefix="headlab-bench-")
    build("gpt2").save_pretrained(folder)
    AutoTokenizer.from_pretrained(default_model_path()).save_pretrained(folder)
    base = corpus.sentences() + corpus.pairs()
    for keep in (True, False):      # warm-up: imports and caches of the first report are not per text
        scan(folder, base[:200], roles=TINY_ROLES, engine="ray", workers=2, keep_samples=keep)
    print(f"driver memory: tiny GPT-2 (3x4 heads), {len(TINY_ROLES)} roles, 2 workers, n_boot 2000")
    print(f"  {'texts':>7s} {'mode':>13s} {'tracemalloc peak MB':>20s} {'RSS growth MB':>14s} {'wall s':>7s}")
    for n in sizes:
        texts = [base[i % len(base)] for i in range(n)]
        for keep in (True, False):
            tracemalloc.start()
            tracemalloc.reset_peak()
            t = time.perf_counter()
            with RssPeak() as rss:
                scan(folder, texts, roles=TINY_ROLES, engine="ray", workers=2, keep_samples=keep, shard_batches=8)
            wall = time.perf_counter() - t
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            mode = "keep_samples" if keep else "streaming"
            print(f"  {n:7d} {mode:>13s} {peak / 2**20:20.1f} {rss.growth / 2**20:14.1f} {wall:7.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--texts", type=int, default=656)
    ap.add_argument("--sizes", default="1000,4000,16000")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    args = ap.parse_args()
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        if not args.skip_throughput:
            throughput(args.repeat, args.texts)
        if not args.skip_memory:
            driver_memory([int(s) for s in args.sizes.split(",")])
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
