"""Structured sieves equal their dense form; chunked capture equals one block; the engine equals numpy."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from headlab.analyses.role_scoring import BatchRoles
from headlab.capture import attention_rows
from headlab.roles import SieveResult, get
from headlab.scores import sieve_bias, sieve_lift
from headlab.scores.shapes import Band, Blocks, Dense, Keys, Pairs
from headlab.scores.structured import fuse, stack, visible_counts


def rows_for(lengths, T, causal, H=3, seed=0):
    """Softmax rows over the visible keys: [B, H, T, T], padding and the future at exactly 0."""
    g = torch.Generator().manual_seed(seed)
    B = len(lengths)
    x = torch.randn((B, H, T, T), generator=g) * 2
    keys = torch.arange(T)
    vis = keys[None, None, :] < torch.as_tensor(lengths)[:, None, None]
    if causal:
        vis = vis & (keys[None, None, :] <= keys[None, :, None])
    x = x.masked_fill(~vis[:, None], float("-inf"))
    return torch.softmax(x, -1).nan_to_num(0.0)


def dense_mass(A, S):
    return (A * torch.as_tensor(S, dtype=A.dtype)).sum(-1)


shapes = st.sampled_from([
    Band(-2, 2), Band(-1, -1), Band(0, 0), Band(1, 1),
    Keys((0,)), Keys((0, 3, 5)), Keys((2,)),
    Blocks((0, 0, 0, 1, 1, 1, 2, 2), (False, True, True, True, True, False, True, True)),
    Pairs((1, 2, 2, 5), (0, 0, 4, 3)), Pairs((0, 3, 3, 7, 7), (6, 1, 3, 2, 7)),
    Dense(np.random.default_rng(1).random((8, 8)) > 0.6),
])


@settings(max_examples=60, deadline=None)
@given(shape=shapes, other=shapes, causal=st.booleans(), chunk=st.integers(1, 8),
       lengths=st.lists(st.integers(3, 8), min_size=1, max_size=3))
def test_every_shape_matches_its_dense_form_in_any_chunking(shape, other, causal, chunk, lengths):
    T = 8
    A = rows_for(lengths, T, causal)
    stacked = stack([shape] * len(lengths), torch.as_tensor(lengths), T, causal)
    for b, n in enumerate(lengths):
        S = shape.dense(T).copy()
        S[:, n:] = False
        S[n:, :] = False
        if causal:
            S &= np.tri(T, dtype=bool)
        assert stacked.sizes()[b].tolist() == S.sum(-1).tolist()
    got = torch.cat([stacked.mass(A[:, :, q0:q0 + chunk], q0) for q0 in range(0, T, chunk)], dim=2)
    if causal:          # a causal chunk may come with only the keys it can see (prefix_keys)
        prefix = torch.cat([stacked.mass(A[:, :, q0:q0 + chunk, :q0 + chunk], q0) for q0 in range(0, T, chunk)], 2)
        np.testing.assert_allclose(prefix.numpy(), got.numpy(), atol=1e-6)
    for b, n in enumerate(lengths):        # real queries (a padding query's row is never scored)
        S = shape.dense(T)
        np.testing.assert_allclose(got[b, :, :n].numpy(), dense_mass(A[b], S)[:, :n].numpy(), atol=1e-6)
    # fused with a band and a second shape (two Pairs roles share one gather and scatter-add)
    second = stack([other] * len(lengths), torch.as_tensor(lengths), T, causal)
    fused = fuse([stacked, stack([Band(-1, 1)] * len(lengths), torch.as_tensor(lengths), T, causal), second])
    both = torch.cat([fused.mass(A[:, :, q0:q0 + chunk], q0) for q0 in range(0, T, chunk)], dim=3)
    alone = torch.cat([second.mass(A[:, :, q0:q0 + chunk], q0) for q0 in range(0, T, chunk)], dim=2)
    for b, n in enumerate(lengths):
        np.testing.assert_allclose(both[b, :, 0, :n].numpy(), got[b, :, :n].numpy(), atol=1e-6)
        np.testing.assert_allclose(both[b, :, 2, :n].numpy(), alone[b, :, :n].numpy(), atol=1e-6)
    if causal:
        both_prefix = torch.cat([fused.mass(A[:, :, q0:q0 + chunk, :q0 + chunk], q0) for q0 in range(0, T, chunk)], 3)
        np.testing.assert_allclose(both_prefix.numpy(), both.numpy(), atol=1e-6)


@pytest.mark.parametrize("matmul_blocks", [0, 96])     # 0: every batch takes the scatter path
@settings(max_examples=40, deadline=None)
@given(data=st.data(), causal=st.booleans(), chunk=st.integers(1, 12))
def test_blocks_by_product_or_by_bins_equal_the_dense_form(matmul_blocks, data, causal, chunk):
    """Any block ids (not only contiguous runs) and key masks, few blocks or many, any chunking."""
    import headlab.scores.structured as structured

    T = 12
    lengths = data.draw(st.lists(st.integers(2, T), min_size=1, max_size=3))
    blocks = [Blocks(tuple(data.draw(st.lists(st.integers(0, 5), min_size=T, max_size=T))),
                     tuple(data.draw(st.lists(st.booleans(), min_size=T, max_size=T)))) for _ in lengths]
    A = rows_for(lengths, T, causal, seed=len(lengths))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(structured, "MATMUL_BLOCKS", matmul_blocks)
        stacked = stack(blocks, torch.as_tensor(lengths), T, causal)
    assert (stacked.onehot is None) == (matmul_blocks == 0)
    fused = fuse([stacked, stack([Keys((0,))] * len(lengths), torch.as_tensor(lengths), T, causal)])
    keys_seen = (lambda q0: q0 + chunk) if causal else (lambda q0: T)     # prefix_keys in causal layers
    got = torch.cat([fused.mass(A[:, :, q0:q0 + chunk, :keys_seen(q0)], q0) for q0 in range(0, T, chunk)], 3)[:, :, 0]
    for b, n in enumerate(lengths):
        S = blocks[b].dense(T).copy()
        S[:, n:] = False
        if causal:
            S &= np.tri(T, dtype=bool)
        assert stacked.sizes()[b, :n].tolist() == S[:n].sum(-1).tolist()
        np.testing.assert_allclose(got[b, :, :n].numpy(), dense_mass(A[b], S)[:, :n].numpy(), atol=1e-6)


def test_visible_counts_encoder_and_causal():
    lengths = torch.tensor([3, 5])
    assert visible_counts(lengths, 5, False).tolist() == [[3, 3, 3, 0, 0], [5, 5, 5, 5, 5]]
    assert visible_counts(lengths, 5, True).tolist() == [[1, 2, 3, 0, 0], [1, 2, 3, 4, 5]]


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("method,fn", [("lift", sieve_lift), ("pande", sieve_bias)])
def test_engine_equals_the_numpy_scores_in_chunks(method, fn, causal):
    """BatchRoles on chunks of 3 rows = hl.scores on the whole array, for every shape kind."""
    T, lengths = 9, [9, 6]
    A = rows_for(lengths, T, causal, H=4, seed=3)
    sieves = {
        "band": [SieveResult(Band(-2, 2)), SieveResult(Band(-2, 2))],
        "keys": [SieveResult(Keys((0, 4))), SieveResult(Keys((1,)))],
        "blocks": [SieveResult(Blocks((0,) * 4 + (1,) * 5, (True,) * 9)), SieveResult(Blocks((0,) * 3 + (1,) * 6, (True,) * 9))],
        "pairs": [SieveResult(Pairs((2, 3, 3), (1, 0, 2)), np.array([0, 0, 1, .5, 0, 0, 0, 0, 0.])), None],
    }
    roles = [get("local")] * len(sieves)             # the role objects are not used when sieves are given
    engine = BatchRoles(roles, [None, None], lengths, T, causal, method, sieves=list(sieves.values()))
    for q0 in range(0, T, 3):
        engine.add(A[:, :, q0:q0 + 3], q0)
    got = engine.finish()                            # [B, H, R]
    for r, results in enumerate(sieves.values()):
        for b, n in enumerate(lengths):
            res = results[b]
            if res is None:
                assert np.isnan(got[b, :, r]).all()
                continue
            vis = np.tri(n, dtype=bool) if causal else None
            ref = fn(A[b, :, :n, :n].double().numpy(), res.sieve.dense(n), vis,
                     None if res.query_weights is None else res.query_weights[:n])
            np.testing.assert_allclose(got[b, :, r], ref, atol=2e-6, rtol=1e-5, equal_nan=True)


def test_attention_rows_follow_the_mask_gqa_and_window():
    g = torch.Generator().manual_seed(0)
    B, H, Hkv, T, d = 2, 4, 2, 7, 5
    q, k = torch.randn((B, H, T, d), generator=g), torch.randn((B, Hkv, T, d), generator=g)
    kr = k.repeat_interleave(H // Hkv, dim=1)
    scores = q @ kr.transpose(-1, -2) * d ** -0.5
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    expect = torch.softmax(scores.masked_fill(~causal, float("-inf")), -1)
    got = torch.cat([attention_rows(None, q, k, None, a, min(T, a + 3), is_causal=True) for a in range(0, T, 3)], 2)
    np.testing.assert_allclose(got.numpy(), expect.numpy(), atol=1e-6)
    window = causal & ~torch.tril(torch.ones(T, T, dtype=torch.bool), diagonal=-3)
    expect_w = torch.softmax(scores.masked_fill(~window, float("-inf")), -1)
    got_w = attention_rows(None, q, k, None, 0, T, is_causal=True, sliding_window=3)
    np.testing.assert_allclose(got_w.numpy(), expect_w.numpy(), atol=1e-6)
    pad = torch.tensor([[1] * T, [1] * 4 + [0] * 3])                  # flash-style 2-D padding mask
    got_p = attention_rows(None, q, k, pad, 0, T, is_causal=False)
    assert float(got_p[1, :, :, 4:].abs().max()) == 0.0
    np.testing.assert_allclose(got_p[1].sum(-1).numpy(), 1.0, atol=1e-6)
    prefix = torch.cat([torch.nn.functional.pad(attention_rows(None, q, k, None, a, min(T, a + 3), keys_upto=min(T, a + 3),
                                                               is_causal=True), (0, T - min(T, a + 3)))
                        for a in range(0, T, 3)], 2)                   # only the keys a causal chunk sees
    np.testing.assert_allclose(prefix.numpy(), expect.numpy(), atol=1e-6)
    bool_mask = torch.zeros((B, 1, T, T), dtype=torch.bool)            # a row that sees nothing is 0, not NaN
    assert float(attention_rows(None, q, k, bool_mask, 0, T).abs().max()) == 0.0
