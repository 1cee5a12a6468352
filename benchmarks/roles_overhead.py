"""CPU time of ``m.roles`` over the built-in corpus against the bare eager forward pass.

All on the default model (all-MiniLM-L6-v2) over the same 656 texts, batches of 16. CPU time
(``time.process_time``), so other processes on the machine do not count; the measurements are
interleaved (one of each per round) and the median over ``--reps`` rounds is printed, with its
ratio to the bare forward pass of an eager copy of the model:

* the model's own forward (SDPA by default: headlab keeps it);
* ``m.roles`` with the 9 non-syntactic roles (target <= 1.15 x);
* ``m.roles`` with all 25 default roles on a first call (the parse cache emptied first:
  spaCy parses every text; target <= 1.5 x) and on a repeated call over the same texts
  (parses reused; target <= 1.3 x).

``m.roles`` includes everything a user waits for: tokenising, building every sieve, the
forward pass with streaming reduction and the statistics (t-tests, 2,000-resample bootstrap
CIs, FDR). Run: ``python benchmarks/roles_overhead.py [--reps 5]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import headlab as hl
from headlab import corpus
from headlab.loading import default_model_path
from headlab.roles import resolve, syntax

BATCH = 16


def cpu(fn) -> float:
    t = time.process_time()
    fn()
    return time.process_time() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    m = hl.load()
    from transformers import AutoModel

    eager = hl.load(model=AutoModel.from_pretrained(default_model_path(), attn_implementation="eager"),
                    tokenizer=m.tokenizer, name="eager copy")
    texts = corpus.sentences() + corpus.pairs()
    samples = m.tokenize(texts)
    surface = [r.id for r in resolve(None, "text") if "spacy" not in r.requires and hl.roles.applicable(r, samples[0], False)]
    every = [r.id for r in resolve(None, "text") if hl.roles.applicable(r, samples[0], False) or "pair" in r.requires]
    m.roles(texts[:16], n_boot=10)                       # warm-up: imports, spaCy's pipeline, kernels
    eager.forward_only(samples[:16])

    def first_call():
        syntax.clear_cache()
        m.roles(texts, roles=every, batch_size=BATCH)

    runs = {"eager forward": lambda: eager.forward_only(samples, batch_size=BATCH),
            f"model forward ({m.attn_implementation})": lambda: m.forward_only(samples, batch_size=BATCH),
            f"m.roles, {len(surface)} non-syntactic roles": lambda: m.roles(texts, roles=surface, batch_size=BATCH),
            f"m.roles, all {len(every)} roles, first call": first_call,
            f"m.roles, all {len(every)} roles, repeated": lambda: m.roles(texts, roles=every, batch_size=BATCH)}
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(args.reps):                           # interleaved rounds
        for name, fn in runs.items():
            times[name].append(cpu(fn))
    med = {k: statistics.median(v) for k, v in times.items()}
    base = med["eager forward"]
    targets = {2: "(target <= 1.15)", 3: "(target <= 1.5)", 4: "(target <= 1.3)"}
    print(f"roles overhead: {m.name}, {len(texts)} texts ({sum(len(s) for s in samples)} tokens), batch {BATCH}, "
          f"CPU time, median of {args.reps} interleaved rounds")
    for i, (name, t) in enumerate(med.items()):
        print(f"  {name:42s} {t:7.2f} s   {t / base:5.2f} x eager forward  {targets.get(i, '')}")


if __name__ == "__main__":
    main()
