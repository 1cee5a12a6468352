"""Sparse patterns: each query's strongest keys, as few as carry the asked-for share, packed small."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headlab.attention import top_k_rows
from headlab.errors import InputError
from headlab.views import sparse
from test_widgets import fake_attention


def test_rows_keep_the_fewest_keys_reaching_the_mass_capped_and_skip_zeros():
    rows = np.array([[0.70, 0.20, 0.10, 0.00],     # 0.9 reached with 2 keys
                     [0.25, 0.25, 0.25, 0.25],     # 4 keys needed, cap 3
                     [1.00, 0.00, 0.00, 0.00],     # one key (a causal first query)
                     [0.50, 0.4995, 0.0005, 0.0]],  # the third key is too weak for a byte: dropped
                    np.float32)
    keys, w = top_k_rows(rows, 4)
    p = sparse.sparse_rows(keys, w, 4, mass=0.9, k_max=3)
    assert p.counts.tolist() == [2, 3, 1, 2]
    assert p.keys.tolist() == [0, 1, 0, 1, 2, 0, 0, 1]
    np.testing.assert_allclose(p.kept, [0.9, 0.75, 1.0, 0.9995], atol=1e-6)
    d = p.dense()
    assert d[0].tolist() == pytest.approx([0.7, 0.2, 0, 0]) and d[1, 3] == 0


def test_pack_uses_bytes_per_entry_and_a_half_float_scale_per_row():
    att = fake_attention(T=40, L=1, H=1)
    p = sparse.sparse_pattern(att, 0, 0, mass=0.9, k_max=8)
    packed = sparse.pack_sparse(p)
    assert packed["key_dtype"] == "uint16" and packed["weight_dtype"] == "uint8"
    assert sparse.packed_nbytes(packed) == 40 * 1 + 40 * 2 + p.nnz * (2 + 1)    # counts, scale, keys + weights
    back = sparse.unpack_sparse(packed)
    assert back.keys.tolist() == p.keys.tolist() and back.counts.tolist() == p.counts.tolist()
    # each weight within half a byte step of its row's strongest weight (plus the float16 scale's error)
    row_max = np.repeat(p.weights[np.r_[0, np.cumsum(p.counts)[:-1]]], p.counts)
    assert np.all(np.abs(back.weights - p.weights) <= row_max / 510 + row_max * 1e-3)
    assert packed["kept_mean"] == pytest.approx(float(p.kept.mean()))
    assert packed["kept_min"] == pytest.approx(float(p.kept.min()))


def test_float16_weights_and_long_inputs_use_int32_keys():
    T = 70_000
    keys = np.array([[T - 1, 3]], np.int32).repeat(2, 0)
    w = np.array([[0.6, 0.4]], np.float32).repeat(2, 0)
    p = sparse.SparsePattern(n=T, counts=np.zeros(T, np.uint8), keys=np.zeros(0, np.int32),
                             weights=np.zeros(0, np.float32), mass=1.0, k_max=2)
    p.counts[:2] = 2
    p.keys, p.weights = keys.ravel(), w.ravel()
    packed = sparse.pack_sparse(p, "float16")
    assert packed["key_dtype"] == "int32" and len(packed["scale"]) == 0
    back = sparse.unpack_sparse(packed)
    assert back.keys.tolist() == [T - 1, 3, T - 1, 3]
    np.testing.assert_allclose(back.weights, [0.6, 0.4, 0.6, 0.4], rtol=1e-3)


@settings(max_examples=40, deadline=None)
@given(T=st.integers(1, 30), k_max=st.integers(1, 12), mass=st.floats(0.05, 1.0), seed=st.integers(0, 10_000))
def test_round_trip_keeps_each_rows_strongest_keys(T, k_max, mass, seed):
    rng = np.random.default_rng(seed)
    a = rng.dirichlet(np.full(T, 0.3), size=T).astype(np.float32)
    keys, w = top_k_rows(a, k_max)
    p = sparse.sparse_rows(keys, w, T, mass=mass, k_max=k_max)
    back = sparse.unpack_sparse(sparse.pack_sparse(p))
    assert back.counts.tolist() == p.counts.tolist() and back.keys.tolist() == p.keys.tolist()
    start = np.r_[0, np.cumsum(p.counts)]
    for q in range(T):
        c = int(p.counts[q])
        assert 1 <= c <= k_max or a[q].max() == 0
        got = p.weights[start[q]:start[q + 1]]
        np.testing.assert_allclose(got, np.sort(a[q])[::-1][:c], rtol=1e-6)        # the strongest, in order
        # fewest keys: without the last one the row would fall short of the mass (unless capped / dropped)
        if c < min(k_max, T) and a[q][np.argsort(-a[q])[c]] >= a[q].max() / 510:
            assert got.sum() >= mass - 1e-6
        assert c == 1 or got[:-1].sum() < mass + 1e-6
    np.testing.assert_allclose(back.dense(), p.dense(), atol=float(a.max()) / 255 + 1e-3)


def test_cache_answers_smaller_k_from_a_larger_one_and_computes_once():
    att = fake_attention(T=12, L=2, H=2)
    calls = []
    real = att.top_k
    att_top_k = lambda l, h, k: calls.append(k) or real(l, h, k)        # noqa: E731
    proxy = type("P", (), {"tokens": att.tokens, "top_k": staticmethod(att_top_k)})()
    cache = sparse.TopKCache()
    k8, w8 = cache.get(proxy, 1, 0, 8)
    k3, w3 = cache.get(proxy, 1, 0, 3)
    assert calls == [8] and k3.tolist() == k8[:, :3].tolist() and cache.cached(1, 0, 8, 12)
    cache.get(proxy, 1, 0, 10)
    assert calls == [8, 10] and not cache.cached(0, 0, 1, 12)


def test_options_are_checked():
    att = fake_attention()
    with pytest.raises(InputError, match="mass"):
        sparse.sparse_pattern(att, 0, 0, mass=0)
    with pytest.raises(InputError, match="k_max"):
        sparse.sparse_pattern(att, 0, 0, k_max=300)
    with pytest.raises(InputError, match="encoding"):
        sparse.pack_sparse(sparse.sparse_pattern(att, 0, 0), "int8")
    bad = sparse.pack_sparse(sparse.sparse_pattern(att, 0, 0))
    bad["counts"] = memoryview(bytes(3))
    with pytest.raises(InputError, match="inconsistent"):
        sparse.unpack_sparse(bad)


@settings(max_examples=120, deadline=None)
@given(st.integers(1, 6), st.integers(1, 40), st.integers(1, 70), st.sampled_from([0, 2, 4]), st.integers(0, 2**31),
       st.sampled_from([1, 3, 1024]))
def test_top_k_rows_equals_a_sort_by_weight_then_key(T, S, k, levels, seed, tie_rows):
    """Against numpy's lexsort (weight descending, then key ascending), also with many exact
    ties (weights drawn from a few levels, zeros of causal rows), where torch.topk alone would
    pick among the tied keys arbitrarily; the rows whose tie was cut are re-chosen
    ``tie_rows`` at a time."""
    import headlab.attention as A

    rng = np.random.default_rng(seed)
    rows = rng.random((2, T, S)).astype(np.float32)
    if levels:
        rows = np.round(rows * levels).astype(np.float32) / levels
    rows[0] = np.tril(rows[0], k=S - T)                       # causal-like rows full of zeros
    before, A.TIE_ROWS = A.TIE_ROWS, tie_rows
    try:
        keys, w = top_k_rows(rows, k)
    finally:
        A.TIE_ROWS = before
    kk = min(k, S)
    flat = rows.reshape(-1, S)
    want = np.stack([np.lexsort((np.arange(S), -r))[:kk] for r in flat]).reshape(2, T, kk)
    assert keys.dtype == np.int32 and keys.tolist() == want.tolist()
    assert np.array_equal(w, np.take_along_axis(rows, want, -1))
