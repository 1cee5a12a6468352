"""Probe scores on raw arrays: hand-computed values, uniform nulls, TransformerLens compatibility."""

import numpy as np
import pytest
import torch

from headlab import scores as S
from headlab.errors import InputError


def uniform_causal(T):
    A = np.tril(np.ones((T, T)))
    return A / A.sum(-1, keepdims=True)


def test_exports():
    for name in ("previous_token_score", "duplicate_token_score", "induction_score", "sink_score",
                 "copying_score", "retrieval_score", "pattern_score", "uniform_share"):
        assert name in S.__all__ and callable(getattr(S, name))


def test_previous_token_hand_value():
    A = np.array([[1.0, 0, 0, 0],
                  [0.5, 0.5, 0, 0],
                  [0.2, 0.6, 0.2, 0],
                  [0.1, 0.1, 0.7, 0.1]])
    # queries 1..3: A[1,0]=0.5, A[2,1]=0.6, A[3,2]=0.7
    assert S.previous_token_score(A) == pytest.approx(0.6)
    # exclude_bos: query 1 not scored; rows renormalised without key 0: 0.6/0.8, 0.7/0.9
    assert S.previous_token_score(A, exclude_bos=True) == pytest.approx((0.75 + 0.7 / 0.9) / 2)
    # exclude_current_token: 0.5/0.5, 0.6/0.8, 0.7/0.9
    assert S.previous_token_score(A, exclude_current_token=True) == pytest.approx((1 + 0.75 + 0.7 / 0.9) / 3)


@pytest.mark.parametrize("T", [3, 10, 57])
def test_uniform_attention_scores_its_uniform_share(T):
    rng = np.random.default_rng(T)
    ids = np.concatenate([[0], np.tile(rng.permutation(np.arange(5, 5 + T // 2)), 2)])[:T]
    A = uniform_causal(T)
    for kw in ({}, {"exclude_bos": True}, {"exclude_current_token": True}):
        assert S.previous_token_score(A, **kw) == pytest.approx(
            S.uniform_share(S.previous_token_targets(T), **kw, queries=None if not kw.get("exclude_bos") else np.arange(T) >= 2))
        if T > 3:
            assert S.induction_score(A, ids, **kw) == pytest.approx(S.uniform_share(S.induction_targets(ids), **kw))
            assert S.duplicate_token_score(A, ids, **kw) == pytest.approx(S.uniform_share(S.duplicate_token_targets(ids), **kw))
    # one target per query under a causal mask with BOS kept: mean of 1/(i+1), i >= 1
    assert S.uniform_share(S.previous_token_targets(T)) == pytest.approx(np.mean(1 / np.arange(2, T + 1)))


def test_perfect_induction_and_duplicate_heads_score_one():
    run = np.array([7, 3, 9, 4])
    ids = np.concatenate([[0], run, run, run])               # BOS + 3 repeats, T = 13
    T = len(ids)
    ind = np.zeros((T, T))
    dup = np.zeros((T, T))
    for i in range(T):
        if i >= 5:                                         # second run onwards
            ind[i, i - 4 + 1] = 1.0                        # token after the previous copy
            dup[i, i - 4] = 1.0                            # the previous copy itself
        else:
            ind[i, 0] = dup[i, 0] = 1.0                    # nothing to match: BOS
    assert S.induction_score(ind, ids) == pytest.approx(1.0)
    assert S.duplicate_token_score(dup, ids) == pytest.approx(1.0)
    assert S.induction_score(dup, ids) == pytest.approx(0.0)
    assert S.previous_token_score(ind) < 0.2
    # targets are TransformerLens' patterns: induction = duplicate shifted one key right
    D, I = S.duplicate_token_targets(ids), S.induction_targets(ids)
    assert I[9, 6] and I[12, 5] and I[12, 9] and I.sum() == 4 * 1 + 4 * 2    # run 2: one target, run 3: two
    assert D[9, 5] and D[12, 4] and D[12, 8] and D.sum() == 12


def test_batched_ids_align_with_leading_axes():
    rng = np.random.default_rng(0)
    B, H, T = 3, 2, 9
    W = rng.random((B, H, T, T)) * np.tri(T)
    W /= W.sum(-1, keepdims=True)
    ids = np.stack([np.concatenate([[0], np.tile(rng.permutation(20)[:4], 2)]) for _ in range(B)])
    got = S.induction_score(W, ids)
    assert got.shape == (B, H)
    for b in range(B):
        for h in range(H):
            assert got[b, h] == pytest.approx(S.induction_score(W[b, h], ids[b]))
    # the same ids for every sample broadcast too
    assert S.duplicate_token_score(W, ids[0]).shape == (B, H)


def test_sink_score_follows_gu_et_al():
    A = np.array([[1.0, 0, 0],
                  [0.6, 0.4, 0],
                  [0.2, 0.3, 0.5]])
    assert S.sink_score(A) == pytest.approx((1.0 + 0.6 + 0.2) / 3)
    assert S.sink_score(A, position=1) == pytest.approx((0.4 + 0.3) / 2)
    enc = np.full((3, 3), 1 / 3)
    assert S.sink_score(enc, causal=False) == pytest.approx(1 / 3)
    with pytest.raises(InputError):
        S.sink_score(A, position=5)


def test_copying_score_hand_values():
    V = 4
    # logits raise only token 2: mean-centred [-1,-1,3,-1] -> ReLU mass all on token 2 -> +1
    logits = np.array([[0.0, 0.0, 4.0, 0.0]])
    assert S.copying_score(logits, np.array([2])) == pytest.approx(1.0)
    assert S.copying_score(logits, np.array([0])) == pytest.approx(-1.0)
    # two tokens raised equally: half the positive mass -> 0
    logits = np.array([[2.0, 2.0, 0.0, 0.0]])
    assert S.copying_score(logits, np.array([1])) == pytest.approx(0.0)
    # per query then mean over queries, batched over heads [H, Q, V]
    L = np.stack([np.array([[0, 0, 4.0, 0], [2.0, 2, 0, 0]]), np.array([[4.0, 0, 0, 0], [0, 0, 0, 4.0]])])
    got = S.copying_score(L, np.array([[2, 0], [1, 3]]))
    assert got.shape == (2,) and got[0] == pytest.approx(0.5) and got[1] == pytest.approx(0.0)
    assert V == L.shape[-1]


def test_copying_score_among_the_sample_tokens():
    # tokens 0 and 3 (not in the sample) are raised most: against the whole vocabulary the
    # attended token 2 gets nothing; among the sample's tokens [1, 2, 4] it gets everything
    logits = np.array([[10.0, 0.0, 4.0, 10.0, 0.0, 0.0]])
    assert S.copying_score(logits, np.array([2])) == pytest.approx(-1.0)
    assert S.copying_score(logits, np.array([2]), among=np.array([1, 2, 4])) == pytest.approx(1.0)
    # per head: [H=2, Q=1, V] with one sample for both
    L = np.stack([logits, np.array([[0.0, 3.0, 3.0, 0.0, 0.0, 0.0]])])
    got = S.copying_score(L, np.array([[2], [2]]), among=np.array([1, 2, 4]))
    assert got == pytest.approx([1.0, 0.0])
    with pytest.raises(InputError):
        S.copying_score(logits, np.array([0]), among=np.array([1, 2, 4]))


def test_retrieval_score_is_recall_over_needle():
    ids = np.array([0, 11, 12, 50, 51, 52, 13, 50])         # needle = positions 3..5 (tokens 50, 51, 52)
    gen = np.array([50, 51, 52])
    # head A copies all three; head B copies 50 twice (counted once) and misses; head C looks outside
    argmax = np.array([[3, 4, 5], [3, 3, 1], [7, 1, 2]])
    got = S.retrieval_score(argmax, gen, ids, (3, 6))
    np.testing.assert_allclose(got, [1.0, 1 / 3, 0.0])
    # position 7 holds token 50 too, but it is outside the needle span
    assert S.retrieval_score(np.array([7, 4, 5]), gen, ids, (3, 6)) == pytest.approx(2 / 3)
    # a wrong generated token does not count even if attended inside the needle
    assert S.retrieval_score(np.array([3, 4, 5]), np.array([50, 99, 52]), ids, (3, 6)) == pytest.approx(2 / 3)
    with pytest.raises(InputError):
        S.retrieval_score(argmax, gen, ids, (6, 20))


def tl_mul(A, P):
    """TransformerLens' 'mul' score without exclusions (PEERS.md §5.3)."""
    return (A * P).sum() / A.sum()


def test_pattern_score_matches_transformerlens_without_exclusions():
    rng = np.random.default_rng(1)
    T = 8
    A = rng.random((T, T)) * np.tri(T)
    A /= A.sum(-1, keepdims=True)
    P = np.eye(T, k=-1)
    assert S.pattern_score(A, P) == pytest.approx(tl_mul(A, P))
    tl_abs = 1 - np.abs(A - P).mean() * T
    assert S.pattern_score(A, P, error_measure="abs") == pytest.approx(tl_abs)


def test_pattern_score_never_mutates_and_renormalises_rows():
    A = torch.tensor([[1.0, 0, 0], [0.5, 0.5, 0], [0.5, 0.25, 0.25]])
    before = A.clone()
    P = np.eye(3, k=-1)
    got = S.pattern_score(A, P, exclude_bos=True)
    assert torch.equal(A, before)                           # TransformerLens mutates its cache here
    # row 0 has nothing left and is skipped; row 1 keeps only the diagonal -> 0 on P;
    # row 2 renormalised over keys 1,2: 0.25/0.5 on key 1
    assert float(got) == pytest.approx((0 + 0.5) / 2)
    # exclusions removed cells from P as well: P[1,0] no longer counts
    B = np.array([[1.0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5]])
    assert S.pattern_score(B, np.eye(3), exclude_current_token=True) == pytest.approx(0.0)
    assert np.isnan(S.pattern_score(np.eye(3), np.eye(3), exclude_current_token=True))  # no row left


def test_pattern_score_batched_and_errors():
    rng = np.random.default_rng(2)
    A = rng.random((4, 3, 6, 6))
    A /= A.sum(-1, keepdims=True)
    P = np.eye(6, k=-1)
    got = S.pattern_score(A, P)
    assert got.shape == (4, 3)
    assert got[2, 1] == pytest.approx(tl_mul(A[2, 1], P))
    with pytest.raises(InputError):
        S.pattern_score(A, np.eye(5))
    with pytest.raises(InputError):
        S.pattern_score(A, P, error_measure="l2")
    with pytest.raises(InputError):
        S.previous_token_score(np.ones((3, 4)))
    with pytest.raises(InputError):
        S.induction_score(A, np.arange(5))


def test_transformerlens_style_torch_cache_is_scored_directly():
    """cache["pattern", layer] is torch [batch, head, q, k]; tokens [batch, pos]: no HeadModel needed."""
    g = torch.Generator().manual_seed(0)
    tokens = torch.cat([torch.zeros(2, 1, dtype=torch.long), torch.randint(5, 50, (2, 6), generator=g).repeat(1, 2)], 1)
    pattern = torch.softmax(torch.randn(2, 3, 13, 13, generator=g).masked_fill(~torch.ones(13, 13, dtype=torch.bool).tril(), float("-inf")), -1)
    before = pattern.clone()
    got = S.induction_score(pattern, tokens)
    assert got.shape == (2, 3) and np.isfinite(got).all()
    assert got[1, 2] == pytest.approx(S.induction_score(pattern[1, 2].numpy(), tokens[1].numpy()))
    assert S.previous_token_score(pattern, exclude_bos=True).shape == (2, 3)
    assert torch.equal(pattern, before)
