"""Seeded probe generators: structure, seeds, vocabulary pool, BOS and length handling."""

import numpy as np
import pytest

from headlab import probes as P
from headlab.errors import InputError, TooLongError


@pytest.fixture(scope="module")
def toy_tok():
    """The zoo's word-level tokenizer (has [BOS]); built from the shipped vocabulary, no weights."""
    from headlab.zoo.train_toy import build_tokenizer

    return build_tokenizer()


def test_repeated_tokens_follow_olsson(toy_tok):
    ps = P.repeated_tokens(toy_tok, n=5, seed=3)
    assert ps.kind == "repeated" and len(ps) == 5 and ps.has_bos
    assert ps.input_ids.shape == (5, 1 + 25 * 4)
    assert (ps.input_ids[:, 0] == toy_tok.bos_token_id).all()
    for row in ps.input_ids:
        run = row[1:26]
        assert len(set(run.tolist())) == 25                          # distinct tokens in a run
        assert np.array_equal(row[1:], np.tile(run, 4))
        assert not set(run.tolist()) & set(toy_tok.all_special_ids)
    s = ps.samples[0]
    assert s.input_ids == ps.input_ids[0].tolist() and len(s.tokens) == 101
    assert s.special_mask[0] and not s.special_mask[1:].any() and s.word_ids[0] is None and s.word_ids[5] == 5
    # the loss mask covers every token after the first run except the first of the second run
    assert ps.loss_mask[0, :27].sum() == 0 and ps.loss_mask[0, 27:].all()
    assert np.array_equal(ps.lm_ids, ps.input_ids)


def test_same_seed_same_probes_other_seed_differs(toy_tok):
    a = P.repeated_tokens(toy_tok, n=4, seed=1)
    b = P.repeated_tokens(toy_tok, n=4, seed=1)
    c = P.repeated_tokens(toy_tok, n=4, seed=2)
    assert np.array_equal(a.input_ids, b.input_ids)
    assert not np.array_equal(a.input_ids, c.input_ids)
    n1 = P.needle_haystack(toy_tok, n=3, seed=5)
    n2 = P.needle_haystack(toy_tok, n=3, seed=5)
    assert np.array_equal(n1.input_ids, n2.input_ids) and np.array_equal(n1.needle, n2.needle)


def test_token_pool_skips_specials_and_extremes(toy_tok):
    pool = P.token_pool(toy_tok, skip=0.05)
    ordinary = len(toy_tok) - len(toy_tok.all_special_ids)
    cut = int(ordinary * 0.05)
    assert len(pool) == ordinary - 2 * cut
    assert pool.min() > max(toy_tok.all_special_ids)
    assert len(P.token_pool(toy_tok, skip=0)) == ordinary
    ps = P.repeated_tokens(toy_tok, n=2, length=4, repeats=2, vocab=[10, 11, 12, 13])
    assert set(ps.input_ids[:, 1:].ravel().tolist()) == {10, 11, 12, 13}
    with pytest.raises(InputError, match="distinct"):
        P.repeated_tokens(toy_tok, n=2, length=5, vocab=[10, 11, 12, 13])
    with pytest.raises(InputError):
        P.token_pool(toy_tok, skip=0.7)


def test_needle_haystack_layout(toy_tok):
    ps = P.needle_haystack(toy_tok, n=6, haystack=30, needle=5, seed=0)
    assert ps.kind == "needle" and ps.input_ids.shape == (6, 1 + 30 + 1 + 5 + 1)
    for row, (a, e), ans, lm, mask in zip(ps.input_ids, ps.needle, ps.answer, ps.lm_ids, ps.loss_mask):
        assert e - a == 5 and np.array_equal(row[a:e], ans)
        assert row[a - 1] == row[-1]                                 # marker before the needle = cue
        assert len(set(row[1:-1].tolist())) == len(row) - 2           # all different except the cue
        assert np.array_equal(lm, np.concatenate([row, ans])) and mask.sum() == 5 and mask[-5:].all()
    depths = (ps.needle[:, 0] - 2) / 30
    assert depths.min() >= 0.1 - 1e-9 and depths.max() <= 0.9 + 1e-9 and len(set(ps.needle[:, 0])) > 1


def test_too_long_refused_or_fitted(toy_tok):
    # the toy tokenizer allows 256 positions
    with pytest.raises(TooLongError, match="fit=True"):
        P.repeated_tokens(toy_tok, n=2, length=80, repeats=4)
    ps = P.repeated_tokens(toy_tok, n=2, length=80, repeats=4, fit=True)
    assert ps.params["fitted"] and ps.params["length"] == (256 - 1) // 4 and ps.length <= 256
    with pytest.raises(TooLongError):
        P.needle_haystack(toy_tok, n=2, haystack=300)
    nd = P.needle_haystack(toy_tok, n=2, haystack=300, fit=True)
    assert nd.params["fitted"] and nd.lm_ids.shape[1] == 256


def test_tokenizer_without_bos(bert_tokenizer):
    # BERT's tokenizer has no BOS: causal probes start with a random token, encoders with [CLS]
    assert bert_tokenizer.bos_token_id is None
    ps = P.repeated_tokens(bert_tokenizer, n=2, length=6, repeats=2)
    assert not ps.has_bos and ps.input_ids.shape == (2, 12) and not ps.samples[0].special_mask.any()
    assert ps.loss_mask[0, :7].sum() == 0 and ps.loss_mask[0, 7:].all()
    with pytest.raises(InputError, match="no BOS"):
        P.repeated_tokens(bert_tokenizer, n=2, bos=True)
    assert P.start_token(bert_tokenizer, causal=False) == bert_tokenizer.cls_token_id


def test_bad_arguments(toy_tok):
    with pytest.raises(InputError):
        P.repeated_tokens(toy_tok, n=0)
    with pytest.raises(InputError):
        P.repeated_tokens(toy_tok, length=1)
    with pytest.raises(InputError):
        P.needle_haystack(toy_tok, depth=(0.8, 0.2))
    with pytest.raises(InputError):
        P.repeated_tokens(object())
    assert "repeated" in repr(P.random_tokens(toy_tok, n=2, length=8))
