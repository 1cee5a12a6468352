"""Peak memory of streaming capture against ``output_attentions=True``, in one run.

A tiny many-layer GPT-2 (random weights, 24 layers × 4 heads) reads one long input. Each mode
runs in a fresh subprocess that loads the model, resets the kernel's peak-RSS counter
(``/proc/self/clear_refs``), runs once and reports ``VmHWM`` minus the RSS before the run:

- ``forward``: the bare eager forward (it materialises each layer's attention and frees it);
- ``stream``: headlab's streaming capture with a reducer that keeps one number per head;
- ``output_attentions``: transformers' own capture, which keeps every layer's block.

The *attention part* of a mode is its peak minus the bare forward's peak plus one layer's
block (the block the forward itself holds at a time), so it estimates how many blocks are
alive at once: about 1 for streaming and ``n_layers`` for ``output_attentions``.

Run: ``python benchmarks/capture_memory.py [--tokens 1536]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

LAYERS, HEADS, WIDTH = 24, 4, 64


def build(tokens: int):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast
    from tokenizers import Tokenizer, models, pre_tokenizers

    torch.manual_seed(0)
    cfg = GPT2Config(n_layer=LAYERS, n_head=HEADS, n_embd=WIDTH, n_positions=tokens + 8, vocab_size=1000)
    cfg._attn_implementation = "eager"
    model = GPT2LMHeadModel(cfg).eval()
    vocab = {f"w{i}": i for i in range(999)}
    vocab["[UNK]"] = 999
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[UNK]")
    text = " ".join(f"w{(i * 7919) % 999}" for i in range(tokens))
    return model, tokenizer, text


def rss_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def child(mode: str, tokens: int) -> None:
    import torch

    import headlab as hl

    torch.set_num_threads(1)
    model, tokenizer, text = build(tokens)
    m = hl.load(model=model, tokenizer=tokenizer)
    samples = m.tokenize(text)
    ids = torch.tensor([samples[0].input_ids])
    kept = {}

    def reducer(layer, rows, q0, batch):
        # one number per head, summed over the chunks of query rows the capture hands over
        kept[layer] = kept.get(layer, 0) + rows.sum(dim=(-1, -2))

    # warm-up on a short input so one-off allocations are not counted
    m.stream(m.tokenize("w1 w2 w3"), reducer)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak-RSS counter (VmHWM)
    before = rss_kb("VmRSS")
    with torch.inference_mode():
        if mode == "forward":
            model.transformer(ids, use_cache=False)
        elif mode == "stream":
            m.stream(samples, reducer)
        else:
            out = model.transformer(ids, use_cache=False, output_attentions=True)
            assert len(out.attentions) == LAYERS
    peak = rss_kb("VmHWM")
    print(json.dumps({"peak_mb": (peak - before) / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=1536)
    ap.add_argument("--mode")
    args = ap.parse_args()
    if args.mode:
        child(args.mode, args.tokens)
        return
    block_mb = HEADS * args.tokens**2 * 4 / 2**20
    peaks = {}
    for mode in ("forward", "stream", "output_attentions"):
        res = subprocess.run([sys.executable, __file__, "--mode", mode, "--tokens", str(args.tokens)],
                             capture_output=True, text=True, check=True)
        peaks[mode] = json.loads(res.stdout.strip().splitlines()[-1])["peak_mb"]
    part = {k: peaks[k] - peaks["forward"] + block_mb for k in ("stream", "output_attentions")}
    print(f"capture memory: GPT-2 (random) {LAYERS} layers x {HEADS} heads, {args.tokens} tokens; "
          f"one layer's attention = {block_mb:.1f} MB")
    print(f"  {'mode':<20}{'peak MB':>10}{'attention part MB':>20}{'blocks alive':>14}")
    print(f"  {'forward (no capture)':<20}{peaks['forward']:>10.1f}")
    for k in ("stream", "output_attentions"):
        print(f"  {k:<20}{peaks[k]:>10.1f}{part[k]:>20.1f}{part[k] / block_mb:>14.1f}")
    print(f"  ratio stream / output_attentions: total peak {peaks['stream'] / peaks['output_attentions']:.3f}, "
          f"attention part {part['stream'] / part['output_attentions']:.3f} (1/n_layers = {1 / LAYERS:.3f})")


if __name__ == "__main__":
    main()
