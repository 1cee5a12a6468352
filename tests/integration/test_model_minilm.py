"""Loading and capture on the real default model (all-MiniLM-L6-v2): equality with eager, tokens, bad input."""


import numpy as np
import pytest

from headlab.errors import (HeadlabError, InputError, TooLongError)
from tiny_models import assert_matches_reference

TEXTS = [
    "The cat sat on the mat.",
    "A much longer sentence, with commas, numbers like 42, and unbelievably long words.",
    "Short one.",
]


def test_default_model_real_weights(minilm):
    assert (minilm.n_layers, minilm.n_heads, minilm.n_kv_heads) == (6, 12, 12)
    assert not minilm.is_causal and minilm.max_length == 512
    assert minilm.name == "all-MiniLM-L6-v2"
    assert_matches_reference(minilm, TEXTS + [("Is it raining?", "Yes, it is.")])


@pytest.mark.parametrize("bad", ["", "   ", ("", "b"), 42, None, ["ok", 3], []])
def test_bad_text_raises_input_error(minilm, bad):
    with pytest.raises(InputError):
        minilm.attention(bad)


def test_too_long_raises_with_limit_and_truncate_opt_in(minilm):
    text = "word " * 600
    with pytest.raises(TooLongError, match="at most 512") as info:
        minilm.attention(text)
    assert isinstance(info.value, HeadlabError) and "truncate=True" in str(info.value)
    att = minilm.attention(text, truncate=True)
    assert len(att.tokens) == 512 and att.sample.truncated
    assert att.tokens[-1] == "[SEP]"


def test_tokens_words_spans_and_segments(minilm):
    text = "The photosynthesis of the plant, the plant!"
    att = minilm.attention(text)
    s = att.sample
    assert att.tokens[0] == "[CLS]" and att.tokens[-1] == "[SEP]"
    assert att.special_mask.tolist() == [True] + [False] * (len(s) - 2) + [True]
    # every piece's span slices its own text out of the input, repeated words included
    for tok, span in zip(att.tokens, att.spans):
        if span is not None:
            assert text[span[0]:span[1]].lower() == tok.replace("##", "")
    assert att.words == ["The", "photosynthesis", "of", "the", "plant", ",", "the", "plant", "!"]
    pieces = [t for t, w in zip(att.tokens, att.word_ids) if w == 1]
    assert len(pieces) > 1  # a word split into several pieces keeps one word id
    # the repeated "plant" gets two different word ids
    plant = sorted({w for t, w in zip(att.tokens, att.word_ids) if t == "plant"})
    assert plant == [4, 7]

    pair = minilm.attention(("Is it raining?", "Yes, it is."))
    assert pair.segment_ids.tolist() == [0] * 6 + [1] * 6
    assert pair.words == ["Is", "it", "raining", "?", "Yes", ",", "it", "is", "."]


def test_word_level_follows_clark(minilm):
    att = minilm.attention("Unbelievably, photosynthesis works.")
    ww = att.word_level(2, 3)
    W = len(att.words)
    assert ww.shape == (W, W)
    # rows keep the mass that stayed on real words (specials dropped)
    real = ~att.special_mask
    expected_first = att.weights[2, 3][np.array(att.word_ids) == 0][:, real].sum(-1).mean()
    assert ww[0].sum() == pytest.approx(expected_first, abs=1e-5)
    assert att.word_level().shape == (6, 12, W, W)


def test_streaming_hands_each_layer_once_and_keeps_nothing(minilm):
    samples = minilm.tokenize(TEXTS)
    seen = []

    def reducer(layer, rows, q0, batch):
        seen.append((layer, tuple(rows.shape), len(batch.index)))
        assert q0 == 0 and rows.shape[2] == rows.shape[3] == batch.T     # short inputs: one chunk
        # padding keys get no attention from real queries
        for b, n in enumerate(batch.lengths):
            assert float(rows[b, :, :n, n:].abs().max() if n < rows.shape[-1] else 0) < 1e-6

    minilm.stream(samples, reducer, batch_size=2)
    layers = [s[0] for s in seen]
    assert layers == list(range(6)) * 2
    assert sum(s[2] for s in seen) == 6 * len(TEXTS)


def test_loading_the_default_model_imports_neither_scipy_stats_nor_pandas():
    """``import headlab`` and ``hl.load()`` pay only for what loading needs (issue #14: 0.6 s of
    CPU less); statistics and reports bring scipy.stats and pandas in when first used."""
    import os
    import subprocess
    import sys

    code = ("import sys, headlab as hl; m = hl.load(); "
            "assert not {'scipy.stats', 'pandas'} & set(sys.modules), 'scipy.stats or pandas imported'; "
            "hl.Report, hl.compare, hl.stats.adjust; "
            "assert {'scipy.stats', 'pandas'} <= set(sys.modules), 'the lazy names did not load'")
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
