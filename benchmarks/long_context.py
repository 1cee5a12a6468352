"""Long inputs: m.roles at 8,192 tokens against the bare SDPA forward pass, in one run.

Model: a random-weight GPT-2 with 8 layers x 4 heads (d_model 256) and 8,194 positions, running
SDPA (transformers' default), as in the long-input issue. Input: one text of 8,192 tokens
(built-in corpus sentences, repeated). Each measurement runs in its own fresh Python process
(so peak memory is that measurement's own), repetitions of the two are interleaved, and the
median is printed:

* CPU time (``time.process_time``) of the operation, and its ratio to the bare forward;
* peak resident memory *added* by the operation (the kernel's high-water mark ``VmHWM``, reset
  just before the operation through ``/proc/self/clear_refs``, minus the resident size at that
  moment), and its ratio to the bare forward's;
* that the model still runs SDPA afterwards (headlab never changes the implementation).

Measured: ``m.roles`` over six roles; ``attention``, ``m.attention`` (lazy at this length) and
one head's top 8 keys; ``click``, one head's top 64 keys from an existing lazy attention (what a
view's click costs on a head it has not computed yet; causal, so each chunk of queries needs
only the keys before it); ``early``, the first reply to that click: the 256 queries around a
focused token in the middle of the text, packed as the view sends them.

Targets (issue #13): roles memory <= 1.5 x forward + 200 MB, roles CPU time <= 3 x forward.

    python benchmarks/long_context.py [--tokens 8192] [--reps 3]
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
    import torch
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel
    import headlab as hl
    from headlab.loading import default_model_path

    what, T = sys.argv[1], int(sys.argv[2])
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(default_model_path(), model_max_length=T + 2)
    cfg = GPT2Config(n_layer=8, n_head=4, n_embd=256, n_positions=T + 2, vocab_size=tok.vocab_size)
    model = GPT2LMHeadModel(cfg).eval()            # SDPA by default
    m = hl.load(model=model, tokenizer=tok, name="gpt2-8x4-long")
    words = " ".join(hl.corpus.sentences()).split()
    ids = tok(" ".join(words * 8), add_special_tokens=True)["input_ids"][: T]
    text = tok.decode(ids[1:-1]) if len(ids) > 2 else "x"
    sample = m.tokenize(text, truncate=True)[0]
    roles = ["local", "previous", "self", "bos", "punctuation", "block"]
    m.forward_only([sample], batch_size=1)         # warm up kernels and allocator

    def status(field):
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError(field)

    if what in ("click", "early"):                 # the lazy attention exists before the click
        att = m.attention(text, truncate=True)
        import headlab.views as W
        view = W.AttentionView(att, heads=(0, 0))
    with open("/proc/self/clear_refs", "w") as fh:   # reset the peak-RSS high-water mark
        fh.write("5")
    before = status("VmRSS")
    t0 = time.process_time()
    if what == "forward":
        m.forward_only([sample], batch_size=1)
    elif what == "roles":
        m.roles([text], roles=roles, n_boot=2, truncate=True)
    elif what == "attention":
        att = m.attention(text, truncate=True)
        att.top_k(3, 1, k=8)
    elif what == "click":
        att.top_k(3, 1, k=64)                      # what a view's click on a head not yet computed costs
    elif what == "early":
        assert view._early_reply(3, 1, len(sample) // 2) is not None
    cpu = time.process_time() - t0
    print(json.dumps({"what": what, "tokens": len(sample), "cpu": cpu, "peak_over_start": status("VmHWM") - before,
                      "impl": model.config._attn_implementation}))
""")


def run(what: str, tokens: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, what, str(tokens)], capture_output=True, text=True,
                         check=True, env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                                          "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "2"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tokens", type=int, default=8192)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    results: dict[str, list[dict]] = {"forward": [], "roles": [], "attention": [], "click": [], "early": []}
    for _ in range(args.reps):                      # interleaved repetitions
        for what in results:
            results[what].append(run(what, args.tokens))
    med = {w: {k: statistics.median(r[k] for r in rs) for k in ("cpu", "peak_over_start")} for w, rs in results.items()}
    fwd = med["forward"]
    mb = 1024 * 1024
    print(f"long context, {results['forward'][0]['tokens']} tokens, GPT-2 8 layers x 4 heads, SDPA, "
          f"median of {args.reps} (fresh process each):")
    for w in results:
        cpu, mem = med[w]["cpu"], med[w]["peak_over_start"]
        print(f"  {w:9s} CPU {cpu:7.2f} s ({cpu / fwd['cpu']:.2f} x forward)   peak memory added "
              f"{mem / mb:8.1f} MB ({mem / max(fwd['peak_over_start'], 1):.2f} x forward)")
    roles_mem_ok = med["roles"]["peak_over_start"] <= 1.5 * fwd["peak_over_start"] + 200 * mb
    print(f"  targets: roles memory <= 1.5 x forward + 200 MB: {'yes' if roles_mem_ok else 'NO'}; "
          f"roles time <= 3 x forward: {'yes' if med['roles']['cpu'] <= 3 * fwd['cpu'] else 'NO'}; "
          f"attention implementation afterwards: {results['roles'][-1]['impl']!r}")


if __name__ == "__main__":
    main()
