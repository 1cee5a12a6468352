"""Foundation: loading, tokenisation, attention capture and bad input."""

import inspect

import numpy as np
import pytest
import torch

import headlab as hl
from headlab.errors import (ModelLoadError, UnsupportedModelError)
from tiny_models import FAMILIES, build

TEXTS = [
    "The cat sat on the mat.",
    "A much longer sentence, with commas, numbers like 42, and unbelievably long words.",
    "Short one.",
]


def reference(model, tokenizer, text):
    """The model's own eager output_attentions for one unpadded input: [L, H, T, T]."""
    args = (text,) if isinstance(text, str) else text
    enc = tokenizer(*args, return_tensors="pt")
    accepted = inspect.signature(model.base_model.forward).parameters
    enc = {k: v for k, v in enc.items() if k in accepted and k in tokenizer.model_input_names}
    with torch.no_grad():
        out = model.base_model(**enc, output_attentions=True)
    return np.stack([a[0].numpy() for a in out.attentions])


def assert_matches_reference(m, texts):
    single = [m.attention(t) for t in texts]
    batched = m.attention(texts, batch_size=len(texts))  # padded to the longest
    for t, s, b in zip(texts, single, batched):
        ref = reference(m.model, m.tokenizer, t)
        assert s.weights.dtype == np.float32
        assert s.weights.shape == ref.shape == (m.n_layers, m.n_heads, len(s.tokens), len(s.tokens))
        np.testing.assert_allclose(s.weights, ref, atol=1e-5, rtol=0)
        np.testing.assert_allclose(b.weights, ref, atol=1e-5, rtol=0)


@pytest.mark.parametrize("family", FAMILIES)
def test_families_equal_eager_output_attentions(family, bert_tokenizer):
    m = hl.load(model=build(family), tokenizer=bert_tokenizer)
    assert_matches_reference(m, TEXTS)
    assert m.is_causal == (family in {"gpt2", "gpt_neox", "llama", "qwen2"})
    if m.is_causal:  # nothing above the diagonal
        w = m.attention(TEXTS[0]).weights
        assert np.abs(np.triu(w, k=1)).max() == 0


def test_gqa_reports_one_pattern_per_query_head(bert_tokenizer):
    m = hl.load(model=build("qwen2"), tokenizer=bert_tokenizer)
    assert (m.n_heads, m.n_kv_heads) == (4, 2)
    att = m.attention("Grouped queries share keys.")
    assert att.weights.shape[1] == 4
    # query heads that share a KV head still differ (different queries)
    assert not np.allclose(att.weights[:, 0], att.weights[:, 1])


def test_sdpa_model_is_switched_to_eager(bert_tokenizer):
    model = build("llama", attn_implementation="sdpa")
    assert model.config._attn_implementation == "sdpa"
    m = hl.load(model=model, tokenizer=bert_tokenizer)
    assert model.config._attn_implementation == "eager"
    assert_matches_reference(m, TEXTS[:2])


def test_model_that_cannot_switch_raises(bert_tokenizer, monkeypatch):
    model = build("llama", attn_implementation="sdpa")

    def refuse(*_a, **_k):
        raise ValueError("not supported")

    monkeypatch.setattr(model, "set_attn_implementation", refuse)
    with pytest.raises(UnsupportedModelError, match="eager"):
        hl.load(model=model, tokenizer=bert_tokenizer)


def test_attention_module_returning_no_weights_raises(bert_tokenizer):
    m = hl.load(model=build("gpt2"), tokenizer=bert_tokenizer)
    m.model.config._attn_implementation = "sdpa"  # behind headlab's back
    with pytest.raises(UnsupportedModelError, match="no attention weights"):
        m.attention("hello world")


def test_model_without_attention_modules(bert_tokenizer):
    from transformers import ResNetConfig, ResNetModel

    net = ResNetModel(ResNetConfig(embedding_size=8, hidden_sizes=[8], depths=[1]))
    with pytest.raises(UnsupportedModelError, match="No attention modules"):
        hl.load(model=net, tokenizer=bert_tokenizer)
    with pytest.raises(UnsupportedModelError):
        hl.load(model=torch.nn.Linear(2, 2), tokenizer=bert_tokenizer)


def test_hub_name_offline_is_one_clear_sentence():
    with pytest.raises(ModelLoadError) as info:
        hl.load("some-org/some-model-that-is-not-here")
    msg = str(info.value)
    assert "offline" in msg and "local folder" in msg
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_missing_local_folder():
    with pytest.raises(ModelLoadError, match="No model folder"):
        hl.load("./no/such/folder")


def test_catalog_and_stats_import_without_torch():
    import subprocess
    import sys

    code = ("import sys, headlab as hl; hl.catalog.get('induction'); hl.stats.adjust([0.01, 0.2]); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
