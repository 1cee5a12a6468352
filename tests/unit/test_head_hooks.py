"""Head-output hooks on tiny random-weight models of five families."""

import pytest
import torch

import headlab as hl
from headlab.capture import make_batches
from headlab.errors import InputError
from headlab.analyses.head_hooks import ablation, head_contributions, head_hook, head_means, output_projections
from headlab.head_names import parse_heads

from tiny_models import build

FAMILIES = ["gpt2", "gpt_neox", "llama", "qwen2", "bert"]


@pytest.fixture(scope="module", params=FAMILIES)
def tiny(request, bert_tokenizer):
    return hl.load(model=build(request.param), tokenizer=bert_tokenizer)


def _batch(m, texts=("the cat sat on the mat", "a dog barked twice at night and slept")):
    return next(make_batches(m.tokenize(list(texts)), 8, m._pad_id, m.is_causal))


def _hidden(m, batch):
    inputs = dict(input_ids=batch.input_ids, attention_mask=batch.attention_mask)
    with torch.inference_mode():
        out = m._core(**inputs)
    return out.last_hidden_state if hasattr(out, "last_hidden_state") else out[0]


def test_projection_found_and_split_per_query_head(tiny):
    projs = output_projections(tiny)
    assert len(projs) == tiny.n_layers == 3
    for p in projs:
        assert p.n_heads == tiny.n_heads == 4 and p.d_head == 8
        assert tuple(p.weight_per_head().shape) == (4, 8, 32)
    if tiny.n_kv_heads != tiny.n_heads:          # Qwen2: GQA, hooks stay per query head
        assert tiny.n_kv_heads == 2


def test_per_head_outputs_sum_to_block_output(tiny):
    batch = _batch(tiny)
    zs, outs = {}, {}
    projs = output_projections(tiny)
    handles = [p.module.register_forward_hook(lambda mod, i, o, L=p.layer: outs.__setitem__(L, o.detach().clone()))
               for p in projs]
    try:
        with head_hook(tiny, lambda layer, z: zs.__setitem__(layer, z.detach().clone())):
            _hidden(tiny, batch)
    finally:
        for h in handles:
            h.remove()
    for p in projs:
        z = zs[p.layer]
        assert z.shape[-2:] == (4, 8)
        per_head = head_contributions(p, z)                      # [B, H, T, d_model]
        total = per_head.sum(-3) + (p.bias if p.bias is not None else 0)
        torch.testing.assert_close(total, outs[p.layer], atol=1e-5, rtol=1e-5)


def test_zero_ablating_all_heads_equals_zeroing_projection_input(tiny):
    batch = _batch(tiny)
    clean = _hidden(tiny, batch)
    layer = 1
    with ablation(tiny, [(layer, h) for h in range(tiny.n_heads)], mode="zero"):
        ours = _hidden(tiny, batch)
    proj = output_projections(tiny)[layer].module
    handle = proj.register_forward_pre_hook(lambda mod, args: (torch.zeros_like(args[0]),) + tuple(args[1:]))
    try:
        ref = _hidden(tiny, batch)
    finally:
        handle.remove()
    torch.testing.assert_close(ours, ref, atol=1e-6, rtol=1e-6)
    assert (ours - clean).abs().max() > 1e-4
    # hooks are gone afterwards
    torch.testing.assert_close(_hidden(tiny, batch), clean)


def test_single_head_ablation_changes_only_that_slice(tiny):
    batch = _batch(tiny)
    seen = {}
    with ablation(tiny, [(0, 2)], mode="zero"):
        with head_hook(tiny, lambda layer, z: seen.__setitem__(layer, z.clone()), layers=[0]):
            pass
    # the ablation hook runs before an observer registered later on the same module
    with ablation(tiny, [(0, 2)], mode="zero"):
        h = output_projections(tiny)[0].module.register_forward_pre_hook(
            lambda mod, args: seen.__setitem__("after", args[0].reshape(*args[0].shape[:-1], 4, 8).clone()))
        try:
            _hidden(tiny, batch)
        finally:
            h.remove()
    z = seen["after"]
    assert torch.all(z[..., 2, :] == 0)
    assert z[..., [0, 1, 3], :].abs().sum() > 0


def test_mean_ablation_with_own_mean_on_one_sample_is_identity(tiny):
    batch = _batch(tiny, ["the cat sat on the mat"])
    clean = _hidden(tiny, batch)
    means = head_means(tiny, lambda: _hidden(tiny, batch))
    assert means[0].shape == (batch.input_ids.shape[1], 4, 8)
    with ablation(tiny, [(0, 1), (2, 3)], mode="mean", means=means):
        same = _hidden(tiny, batch)
    torch.testing.assert_close(same, clean, atol=1e-5, rtol=1e-5)


def test_parse_heads_forms_and_errors():
    assert parse_heads((1, 2), 3, 4) == [(1, 2)]
    assert parse_heads(["L1H2", "0.3", (1, 2)], 3, 4) == [(0, 3), (1, 2)]
    with pytest.raises(InputError, match="does not exist"):
        parse_heads((3, 0), 3, 4)
    with pytest.raises(InputError, match="Cannot read"):
        parse_heads("x", 3, 4)
    with pytest.raises(InputError):
        parse_heads([], 3, 4)
