"""Peak memory of ``m.roles`` as the corpus grows: flat, not proportional to the number of texts.

Texts of 512 tokens each (built-in sentences joined and cut to the model's length, so every batch is
the same size and only the corpus grows), on the default model with every default
role (the syntactic ones included). Each measurement runs in a fresh process; the peak is the
kernel's high-water mark (``VmHWM``, reset through ``/proc/self/clear_refs`` just before
``m.roles``) minus the resident size at that moment, i.e. what the call itself adds. Targets
(issue #11): peak at 200 texts <= 1.15 x the peak at 25 texts; 10,000 texts fit in 4 GB
(``--big``: about 90 minutes on 2 cores; ``--big 2000`` for a shorter run).

    python benchmarks/corpus_memory.py [--reps 2] [--big [N]]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent("""
    import json, sys, time, warnings
    warnings.simplefilter("ignore")
    import headlab as hl

    n = int(sys.argv[1])
    m = hl.load()
    sentences = hl.corpus.sentences()
    texts, i = [], 0
    while len(texts) < n:                        # texts of 512 tokens: runs of 40 corpus sentences, cut
        texts.append(" ".join(sentences[(i + k) % len(sentences)] for k in range(40)))
        i += 7
    m.roles(texts[:4], n_boot=10, truncate=True)  # warm up: imports, spaCy's pipeline

    def status(field):
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError(field)

    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    before = status("VmRSS")
    t = time.process_time()
    rep = m.roles(texts, truncate=True)
    print(json.dumps({"n": n, "added": status("VmHWM") - before, "total": status("VmHWM"),
                      "cpu": time.process_time() - t, "roles": len(rep.roles),
                      "tokens": sum(len(s) for s in m.tokenize(texts[:20], truncate=True)) / 20}))
""")


def run(n: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(n)], capture_output=True, text=True, check=True,
                         env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--big", nargs="?", type=int, const=10_000, default=None, metavar="N",
                    help="also N texts, 10,000 if N is left out (about 90 minutes of CPU)")
    args = ap.parse_args()
    sizes = [25, 200]
    res: dict[int, list[dict]] = {n: [] for n in sizes}
    for _ in range(args.reps):                    # interleaved
        for n in sizes:
            res[n].append(run(n))
    mb = 1024 * 1024
    med = {n: statistics.median(r["added"] for r in rs) for n, rs in res.items()}
    tok = res[25][0]["tokens"]
    print(f"corpus memory: all-MiniLM-L6-v2, {res[25][0]['roles']} roles, texts of ~{tok:.0f} tokens, "
          f"median of {args.reps} (fresh process each):")
    for n in sizes:
        runs = ", ".join(f"{r['added'] / mb:.0f}" for r in res[n])
        print(f"  {n:6d} texts: m.roles adds {med[n] / mb:8.1f} MB at its peak (runs: {runs}; "
              f"process peak {statistics.median(r['total'] for r in res[n]) / mb:.0f} MB)")
    ratio = med[200] / med[25]
    print(f"  peak(200) / peak(25) = {ratio:.2f} (target <= 1.15)")
    if args.big:
        big = run(args.big)
        print(f"  {args.big} texts: process peak {big['total'] / mb / 1024:.2f} GB (target <= 4 GB; m.roles adds "
              f"{big['added'] / mb:.0f} MB), "
              f"{big['cpu'] / 60:.1f} min CPU")


if __name__ == "__main__":
    main()
