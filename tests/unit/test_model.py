"""Foundation: loading, tokenisation, attention capture and bad input."""


import numpy as np
import pytest
import torch

import headlab as hl
from headlab.attention import LazyAttention
from headlab.errors import ModelLoadError, UnsupportedModelError
from tiny_models import FAMILIES, assert_matches_reference, build

TEXTS = [
    "The cat sat on the mat.",
    "A much longer sentence, with commas, numbers like 42, and unbelievably long words.",
    "Short one.",
]


@pytest.mark.parametrize("impl", ["eager", "sdpa"])
@pytest.mark.parametrize("family", FAMILIES)
def test_families_equal_eager_output_attentions(family, impl, bert_tokenizer):
    """Captured weights equal eager's to 1e-5, whatever attention the model runs; the model keeps it."""
    model = build(family, attn_implementation=impl)
    m = hl.load(model=model, tokenizer=bert_tokenizer)
    assert_matches_reference(m, TEXTS)
    assert model.config._attn_implementation == impl and m.attn_implementation == impl
    assert m.is_causal == (family in {"gpt2", "gpt_neox", "llama", "qwen2"})
    if m.is_causal:  # nothing above the diagonal
        w = m.attention(TEXTS[0]).weights
        assert np.abs(np.triu(w, k=1)).max() == 0


@pytest.mark.parametrize("impl", ["eager", "sdpa"])
def test_gqa_reports_one_pattern_per_query_head(impl, bert_tokenizer):
    m = hl.load(model=build("qwen2", attn_implementation=impl), tokenizer=bert_tokenizer)
    assert (m.n_heads, m.n_kv_heads) == (4, 2)
    att = m.attention("Grouped queries share keys.")
    assert att.weights.shape[1] == 4
    # query heads that share a KV head still differ (different queries)
    assert not np.allclose(att.weights[:, 0], att.weights[:, 1])


def test_sdpa_model_keeps_its_attention_through_every_analysis(bert_tokenizer):
    model = build("llama", attn_implementation="sdpa")
    m = hl.load(model=model, tokenizer=bert_tokenizer)
    m.roles(TEXTS, roles=["local", "previous"], n_boot=20)
    m.detect(roles=["previous_token"], n=3, n_boot=20)
    assert model.config._attn_implementation == "sdpa"
    assert_matches_reference(m, TEXTS[:2])


def test_attention_that_bypasses_the_interface_is_refused(bert_tokenizer, monkeypatch):
    """A model whose attention never reaches transformers' AttentionInterface cannot be seen: say so."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward
    from transformers.models.gpt2 import modeling_gpt2

    class Bypass:                    # a modeling file with its own attention dispatch
        def get_interface(self, impl, default):
            return sdpa_attention_forward

    m = hl.load(model=build("gpt2", attn_implementation="sdpa"), tokenizer=bert_tokenizer)
    monkeypatch.setattr(modeling_gpt2, "ALL_ATTENTION_FUNCTIONS", Bypass())
    with pytest.raises(UnsupportedModelError, match="attention interface"):
        m.attention("hello world")


@pytest.mark.parametrize("rows_per_chunk", [None, 3])
def test_long_inputs_come_back_lazy_and_equal_the_dense_weights(bert_tokenizer, monkeypatch, rows_per_chunk):
    m = hl.load(model=build("qwen2", attn_implementation="sdpa"), tokenizer=bert_tokenizer)
    dense = m.attention(TEXTS[1], lazy=False)
    lazy = m.attention(TEXTS[1], lazy=True)
    assert isinstance(lazy, LazyAttention) and not isinstance(dense, LazyAttention)
    if rows_per_chunk:     # causal chunks compute only the keys their queries can see: several of them
        monkeypatch.setattr(LazyAttention, "CHUNK_BYTES", 12 * len(lazy.tokens) * rows_per_chunk)
    for layer in range(m.n_layers):
        np.testing.assert_allclose(lazy.layer(layer), dense.weights[layer], atol=1e-6)
    np.testing.assert_allclose(lazy.rows(1, 3, 2, 5), dense.weights[1, 3, 2:5], atol=1e-6)
    keys, w = lazy.top_k(2, 1, k=3)
    dk, dw = dense.top_k(2, 1, k=3)
    np.testing.assert_allclose(w, dw, atol=1e-6)
    with pytest.raises(hl.InputError, match="computed when asked"):
        lazy.weights


def test_lazy_attention_of_a_sliding_window_model_equals_eager(bert_tokenizer, monkeypatch):
    import transformers as tf

    cfg = tf.Qwen2Config(num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, hidden_size=32,
                         intermediate_size=64, max_position_embeddings=128, vocab_size=30522,
                         use_sliding_window=True, sliding_window=4, max_window_layers=0)
    models = {}
    for impl in ("eager", "sdpa"):
        torch.manual_seed(0)
        cfg._attn_implementation = impl
        models[impl] = hl.load(model=tf.Qwen2ForCausalLM(cfg).eval(), tokenizer=bert_tokenizer)
    dense = models["eager"].attention(TEXTS[1], lazy=False).weights
    lazy = models["sdpa"].attention(TEXTS[1], lazy=True)
    monkeypatch.setattr(LazyAttention, "CHUNK_BYTES", 12 * len(lazy.tokens) * 3)     # 3 queries a chunk
    assert (dense[1, 0, -1] > 0).sum() == 4                                          # the window holds
    for layer in range(2):
        np.testing.assert_allclose(lazy.layer(layer), dense[layer], atol=1e-6)


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


def test_lazy_samples_are_the_tokenised_texts_checked_up_front(gpt2_tiny, monkeypatch):
    """m.roles keeps texts and lengths, not every Sample: each is made again when read, equal to
    m.tokenize's, in make_batches' order (by length, ties in corpus order); a bad text fails at once."""
    monkeypatch.setattr("headlab.text.LENGTH_BATCH", 2)          # lengths measured over several batches
    from headlab.capture import make_batches
    from headlab.errors import InputError, TooLongError
    from headlab.text import LazySamples, tokenize

    texts = TEXTS + [("A pair", "of texts")]
    lazy = LazySamples(gpt2_tiny.tokenizer, texts, gpt2_tiny.max_length)
    eager = gpt2_tiny.tokenize(texts)
    assert len(lazy) == 4 and lazy.lengths.tolist() == [len(s) for s in eager]
    for got, want in zip(lazy, eager):
        assert (got.input_ids, got.tokens, got.spans, got.word_ids) == (want.input_ids, want.tokens, want.spans,
                                                                        want.word_ids)
    assert lazy.by_length() == sorted(range(4), key=lambda i: len(eager[i]))
    assert [b.index for b in make_batches(lazy, 2, 0, True)] == [b.index for b in make_batches(eager, 2, 0, True)]
    with pytest.raises(InputError, match="Empty text"):
        LazySamples(gpt2_tiny.tokenizer, ["fine", "  "], gpt2_tiny.max_length)
    # lengths come from one batched call; too long texts go through tokenize (error or truncation)
    long = ["w " * 40, ("a " * 30, "b " * 30)]
    with pytest.raises(TooLongError, match="truncate=True"):
        LazySamples(gpt2_tiny.tokenizer, TEXTS + long, 32)
    cut = LazySamples(gpt2_tiny.tokenizer, TEXTS + long, 32, truncate=True)
    assert cut.lengths.tolist() == [len(s) for s in
                                    (tokenize(gpt2_tiny.tokenizer, t, 32, True) for t in TEXTS + long)]
    assert cut.lengths[-2:].tolist() == [32, 32]


@pytest.mark.parametrize("impl", ["eager", "sdpa"])
def test_causal_role_scores_equal_the_numpy_scores(impl, bert_tokenizer):
    """m.roles on a causal model (chunks that see only their visible keys, prefix_keys) gives
    the scores hl.scores.sieve_lift computes on the whole attention, for every sieve shape."""
    from headlab.analyses.text_roles import role_samples
    from headlab.roles import get, sieve_for
    from headlab.scores import sieve_lift

    m = hl.load(model=build("gpt2", attn_implementation=impl), tokenizer=bert_tokenizer)
    m.budget = 4096          # chunks of a few query rows (hl.load allows 1 MB at least)
    texts = TEXTS + ["Two sentences here. And a second one, with more words, and a comma."]
    roles = ["local", "previous", "self", "bos", "punctuation", "block"]
    per_role, _ = role_samples(m, texts, roles=roles, batch_size=2)
    checked = 0
    for role_id, scores in per_role.items():
        for i, att in enumerate(m.attention(texts)):
            res = sieve_for(get(role_id), att.sample, True)
            if res is None:
                assert np.isnan(scores[i]).all()
                continue
            T = len(att.tokens)
            ref = sieve_lift(att.weights, res.sieve.dense(T), np.tri(T, dtype=bool), res.query_weights)
            np.testing.assert_allclose(scores[i], ref, atol=2e-5, rtol=1e-4)
            checked += 1
    assert checked >= 16
