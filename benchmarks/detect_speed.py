"""How much does ``m.detect`` cost on top of the forward passes it needs?

Prints, from one run on the same 100 probes (Olsson et al.'s 25 random tokens x 4 + BOS):

* ``detect``   -- ``m.detect(roles=["previous_token", "induction"], n=100)``: probe generation,
  the streamed forward pass with scoring, and the report (tests, bootstrap CIs, FDR);
* ``forward``  -- the bare eager forward passes over the same probes (``forward_only`` of an
  eager copy of the model), the baseline; ``m`` keeps its own attention (SDPA for the zoo);
* ``tl_loop``  -- a per-prompt loop in the style of TransformerLens' ``detect_head``
  (``transformer_lens/head_detector.py``): for a list of prompts and a named pattern it
  recurses prompt by prompt, runs the model with every layer's attention cached, builds the
  detection pattern from the tokens and scores each head with the ``mul`` measure in a Python
  loop over layers and heads; once per pattern name (previous-token, induction). No
  statistics.

Each timing is the median of ``--repeats`` interleaved runs. Both wall-clock time and this
process's CPU time (``time.process_time``, all threads) are reported: on a machine shared with
other jobs the wall clock mostly measures waiting for a core, while the CPU-time ratio stays
a fair measure of the work ``m.detect`` adds.

    python benchmarks/detect_speed.py                      # toy-induction, then a random 12 x 12, d=768 GPT-2
    python benchmarks/detect_speed.py --toy-only           # toy-induction only
    python benchmarks/detect_speed.py --model path/to/model --repeats 5
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import numpy as np
import torch

import headlab as hl
from headlab import probes as P


# ----------------------------------------------------------------------------- TransformerLens-style loop
def _previous_token_pattern(tokens: torch.Tensor) -> torch.Tensor:
    """``get_previous_token_head_detection_pattern``: ones on the first sub-diagonal."""
    n = tokens.shape[-1]
    p = torch.zeros(n, n)
    p[1:, :-1] = torch.eye(n - 1)
    return p


def _duplicate_pattern(tokens: torch.Tensor) -> torch.Tensor:
    t = tokens[0] if tokens.dim() == 2 else tokens
    eq = (t[:, None] == t[None, :]).float()
    return torch.tril(eq, diagonal=-1)


def _induction_pattern(tokens: torch.Tensor) -> torch.Tensor:
    """``get_induction_head_detection_pattern``: the duplicate pattern rolled one column right."""
    dup = _duplicate_pattern(tokens)
    shifted = torch.roll(dup, shifts=1, dims=1)
    shifted[:, 0] = 0
    return torch.tril(shifted)


def tl_style_detect(m, prompts: list[list[int]], name: str) -> torch.Tensor:
    """Mean over prompts of per-prompt ``detect_head`` scores ``[n_layers, n_heads]``."""
    make = {"previous_token_head": _previous_token_pattern, "induction_head": _induction_pattern}[name]
    per_prompt = []
    for ids in prompts:                                    # detect_head recurses prompt by prompt
        tokens = torch.tensor([ids])
        with torch.no_grad():                              # run_with_cache: every layer's pattern kept
            out = m._core(input_ids=tokens, output_attentions=True, use_cache=False)
        cache = out.attentions
        pattern = make(tokens)
        matches = -torch.ones(m.n_layers, m.n_heads)
        for layer in range(m.n_layers):
            for head in range(m.n_heads):
                A = cache[layer][0, head].clone()
                matches[layer, head] = (A * pattern).sum() / A.sum()
        per_prompt.append(matches)
    return torch.stack(per_prompt).mean(0)


# ----------------------------------------------------------------------------- timing
def _time(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process)."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def eager_copy(m):
    """The same weights with eager attention: the baseline forward, and what a TransformerLens-
    style cache needs (SDPA returns no weights). ``m`` itself keeps the attention it came with."""
    model = copy.deepcopy(m.model)
    model.set_attn_implementation("eager")
    return hl.load(model=model, tokenizer=m.tokenizer, name=f"{m.name} (eager copy)")


def bench(m, n: int = 100, repeats: int = 3, seed: int = 0) -> dict:
    eager = eager_copy(m)
    probes = P.repeated_tokens(m, n=n, seed=seed, fit=True)
    prompts = [list(map(int, row)) for row in probes.input_ids]
    roles = ["previous_token", "induction"]

    # warm up every path once (allocator, lazy imports, catalogue)
    rep = m.detect(roles=roles, n=n, seed=seed)
    assert rep.sample_ids is not None and rep.n_samples == n
    eager.forward_only(probes.samples)
    tl_style_detect(eager, prompts[:2], "induction_head")

    t_fwd, t_det, t_tl = [], [], []
    for _ in range(repeats):                               # interleaved, so load changes hit all three
        t_fwd.append(_time(lambda: eager.forward_only(probes.samples)))
        t_det.append(_time(lambda: m.detect(roles=roles, n=n, seed=seed)))
        t_tl.append(_time(lambda: [tl_style_detect(eager, prompts, p) for p in ("previous_token_head", "induction_head")]))
    f, d, t = (statistics.median(x[0] for x in xs) for xs in (t_fwd, t_det, t_tl))
    fc, dc, tc = (statistics.median(x[1] for x in xs) for xs in (t_fwd, t_det, t_tl))

    # the two agree where they should: TL's mul score on the previous-token pattern
    # equals headlab's score up to the row TL counts without a target (query 0)
    tl_prev = tl_style_detect(eager, prompts[:5], "previous_token_head").numpy()
    ours = rep.samples("previous_token")[:5].mean(0)
    T = probes.length
    agree = float(np.abs(tl_prev - ours * (T - 1) / T).max())
    return dict(model=m.name, n=n, T=T, forward=f, detect=d, tl_loop=t, ratio=d / f, tl_ratio=t / f,
                speedup_vs_tl=t / d, forward_cpu=fc, detect_cpu=dc, tl_cpu=tc, ratio_cpu=dc / fc,
                tl_ratio_cpu=tc / fc, max_abs_diff_prev=agree, attn=m.model.config._attn_implementation, threads=torch.get_num_threads())


def report(r: dict) -> None:
    print(f"model {r['model']} ({r['attn']} attention; the baseline and the TL-style loop run an eager copy): "
          f"{r['n']} probes x {r['T']} tokens, torch threads {r['threads']}")
    print("                           wall s   ratio   | CPU s   ratio")
    print(f"  bare eager forward     {r['forward']:8.3f}    1.00   | {r['forward_cpu']:7.3f}   1.00")
    print(f"  m.detect (prev+ind)    {r['detect']:8.3f}  {r['ratio']:6.2f}   | {r['detect_cpu']:7.3f} {r['ratio_cpu']:6.2f}   (target <= 1.5)")
    print(f"  TL-style detect loop   {r['tl_loop']:8.3f}  {r['tl_ratio']:6.2f}   | {r['tl_cpu']:7.3f} {r['tl_ratio_cpu']:6.2f}   "
          f"(m.detect is {r['speedup_vs_tl']:.1f}x faster by wall clock)")
    print(f"  check: TL mul previous-token vs headlab, max |diff| after TL's dilution = {r['max_abs_diff_prev']:.2e}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="toy-induction")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads (default: torch's choice); 1 gives steadier numbers on a busy machine")
    ap.add_argument("--toy-only", action="store_true",
                    help="skip the random-weight GPT-2-small-shaped model (12 layers x 12 heads, d=768)")
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    m = hl.load(a.model)
    report(bench(m, n=a.n, repeats=a.repeats))
    if not a.toy_only:
        from transformers import GPT2Config, GPT2LMHeadModel

        tok = m.tokenizer
        cfg = GPT2Config(vocab_size=len(tok), n_layer=12, n_head=12, n_embd=768, n_positions=256,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.bos_token_id)
        big = hl.load(model=GPT2LMHeadModel(cfg).eval(), tokenizer=tok, name="random GPT-2-small shape")
        report(bench(big, n=a.n, repeats=a.repeats))


if __name__ == "__main__":
    main()
