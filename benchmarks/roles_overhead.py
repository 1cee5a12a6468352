"""Time of ``m.roles`` over the built-in corpus divided by the bare eager forward pass.

Both run on the default model (all-MiniLM-L6-v2) over the same batches (same samples, same
length-sorted padding, same batch size), alternately, best of ``--repeat`` runs each, so
machine load hits both alike. ``m.roles`` includes everything a user waits for: tokenising,
building every sieve, the forward pass with streaming reduction, and the statistics
(t-tests, 2,000-resample bootstrap CIs, FDR). Target: at most 1.3 for the non-syntactic
roles. The syntactic roles add spaCy parsing, reported on its own line.

Run: ``python benchmarks/roles_overhead.py [--repeat 2]``.
"""

from __future__ import annotations

import argparse
import time

import torch

import headlab as hl
from headlab import corpus
from headlab.roles import resolve

BATCH = 16


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    m = hl.load()
    texts = corpus.sentences() + corpus.pairs()
    samples = m.tokenize(texts)
    surface = [r.id for r in resolve(None, "text") if "spacy" not in r.requires and hl.roles.applicable(r, samples[0], False)]
    syntactic = [r.id for r in resolve(None, "text") if "spacy" in r.requires]
    m.roles(texts[:8], roles=surface, n_boot=10)        # warm-up (imports, spaCy load)
    m.roles(texts[:8], roles=syntactic, n_boot=10)

    forward = roles = 0.0
    for _ in range(args.repeat):                         # alternate so load drifts hit both
        forward = min(forward or 1e9, best_of(lambda: m.forward_only(samples, batch_size=BATCH), 1))
        roles = min(roles or 1e9, best_of(lambda: m.roles(texts, roles=surface, batch_size=BATCH), 1))
    syn = best_of(lambda: m.roles(texts, roles=syntactic, batch_size=BATCH), args.repeat)
    print(f"roles overhead: {m.name}, {len(texts)} texts ({sum(len(s) for s in samples)} tokens), batch {BATCH}")
    print(f"  bare eager forward                      {forward:8.2f} s   1.00")
    print(f"  m.roles, {len(surface)} non-syntactic roles          {roles:8.2f} s   {roles / forward:.2f}  (target <= 1.3)")
    print(f"  m.roles, {len(syntactic)} syntactic roles (spaCy)     {syn:8.2f} s   {syn / forward:.2f}")


if __name__ == "__main__":
    main()
