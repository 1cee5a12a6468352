"""Views that teach (issue #15), Python side: pattern thumbnails for every head, what the numbers
mean in the synced state (score kinds, sieve descriptions, correction, CI level, n), one head
name, arrows in the static pictures, lazy attention, and the saved state's budget."""

from __future__ import annotations

import json
import re
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import headlab.views.widgets as W
from headlab.errors import InputError
from headlab.views import attention_view, mime, payload, protocol, sparse, svg, thumbnails
from headlab.views.static_page import split_buffers
from test_widgets import fake_attention, fake_report

MIME = protocol.MIME_TYPE
VIEWS = Path(W.__file__).resolve().parent


def previous_token_attention(T=40, L=2, H=3):
    """Head (0, 0) attends to the previous token, head (0, 1) to [CLS], the rest uniformly."""
    att = fake_attention(T=T, L=L, H=H, tokens=["[CLS]"] + [f"w{i}" for i in range(T - 2)] + ["[SEP]"])
    w = np.full((L, H, T, T), 1.0 / T, np.float32)
    w[0, 0] = np.eye(T, k=-1, dtype=np.float32)
    w[0, 0, 0, 0] = 1.0
    if H > 1:
        w[0, 1] = 0.0
        w[0, 1, :, 0] = 1.0
    att.weights = w
    return att


class LazyLike:
    """The interface of headlab.attention.LazyAttention: rows / head / layer / top_k, and a
    ``.weights`` that refuses (every head would not fit)."""

    def __init__(self, att):
        self._a, self.sample, self.n_layers, self.n_heads = att, att.sample, *att.weights.shape[:2]
        self.model_name, self.is_causal, self.rows_calls = "lazy", False, 0

    tokens = property(lambda self: self._a.tokens)
    special_mask = property(lambda self: self._a.special_mask)
    word_ids = property(lambda self: self._a.word_ids)
    spans = property(lambda self: self._a.spans)
    segment_ids = property(lambda self: self._a.segment_ids)
    text = property(lambda self: self._a.text)

    @property
    def weights(self):
        raise InputError("This input is long: heads are computed when asked. Use att.head(layer, head).")

    def rows(self, layer, head, q0=0, q1=None):
        self.rows_calls += 1
        return self._a.weights[layer, head, q0:q1]

    def head(self, layer, head):
        return self.rows(layer, head)

    def layer(self, layer):
        return self._a.weights[layer]

    def top_k(self, layer, head, k=8):
        return self._a.top_k(layer, head, k)


# ---------------------------------------------------------------- thumbnails
def test_thumbnails_pool_as_the_html_report_does():
    from headlab.report.html_png import pool as report_pool

    rng = np.random.default_rng(0)
    for T in (5, 16, 17, 100, 513):
        w = rng.random((2, T, T)).astype(np.float32)
        w /= w.sum(-1, keepdims=True)
        got, b = thumbnails.pool(w)
        want, b2 = report_pool(w)
        assert b == b2 and got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=1e-6)
        np.testing.assert_allclose(got.sum(-1), 1.0, atol=1e-5)      # each query block's attention sums to 1


def test_thumbnails_show_each_heads_pattern():
    att = previous_token_attention(T=40)
    u8, b = thumbnails.thumbnails(att, 2, 3)
    assert u8.shape == (2, 3, 14, 14) and u8.dtype == np.uint8 and b == 3
    prev, cls, flat = u8[0, 0] / 255, u8[0, 1] / 255, u8[1, 2] / 255
    # previous token: the mass sits on and just below the diagonal
    assert np.trace(prev) + np.trace(prev, offset=-1) > 0.95 * prev.sum()
    # [CLS]: the first column holds all of it
    np.testing.assert_allclose(cls[:, 0], 1.0, atol=1 / 255)
    # uniform: every key block gets its share (3 of 40 keys -> 0.075), the last block fewer keys
    np.testing.assert_allclose(flat[:, :13], 3 / 40, atol=1 / 255)


def test_lazy_attention_is_pooled_from_row_chunks_without_weights(monkeypatch):
    att = previous_token_attention(T=50)
    lazy = LazyLike(att)
    monkeypatch.setattr(thumbnails, "_ROW_CHUNK_BYTES", 4 * 50 * 8)            # 8 rows a chunk
    assert thumbnails.held_weights(lazy) is None
    dense, b = thumbnails.thumbnails(att, 2, 3)
    got, b2 = thumbnails.thumbnails(lazy, 2, 3)
    assert b == b2 and np.abs(got.astype(int) - dense.astype(int)).max() <= 1
    assert lazy.rows_calls >= 2 * 3 * 6                                      # never a whole head at once


def test_explorer_syncs_every_heads_thumbnail_as_bytes():
    att = previous_token_attention(T=40)
    ex = W.Explorer(att, report=fake_report())
    state = ex.get_state()
    t = state["thumbs"]
    assert list(t) == protocol.THUMB_KEYS and t["dtype"] == "uint8" and t["shape"] == [2, 3, 14, 14]
    assert isinstance(t["buf"], memoryview) and len(bytes(t["buf"])) == 2 * 3 * 14 * 14
    back = thumbnails.unpack_thumbnails(t)
    np.testing.assert_allclose(back[0, 1, :, 0], 1.0, atol=1 / 255)
    assert state["grid_mode"] == "scores"
    ex.grid_mode = "patterns"
    with pytest.raises(Exception):
        ex.grid_mode = "thumbs"
    # the kernel-free payload carries them as a base64 buffer
    doc = ex._repr_mimebundle_()[0][MIME]
    assert ["thumbs", "buf"] in [b["path"] for b in doc["buffers"]] and doc["state"]["grid_mode"] == "patterns"


def test_explorer_thumbnails_of_a_lazy_attention_come_in_the_background():
    att = previous_token_attention(T=40)
    lazy = LazyLike(att)
    gate = threading.Event()
    slow_rows = lazy.rows
    lazy.rows = lambda *a, **k: (gate.wait(10), slow_rows(*a, **k))[1]
    ex = W.Explorer(lazy, report=fake_report())
    assert ex.thumbs is None and ex._deferred()                       # the view is returned before them
    gate.set()
    assert ex._wait_background(10)
    assert ex.thumbs["shape"] == [2, 3, 14, 14] and not ex._deferred()


def _click(view, layer, head):
    """The packed reply a click on (layer, head) gets, as bytes per field."""
    sent = []
    view.send = lambda msg, buffers=None: sent.append((msg, buffers))
    view._on_custom_msg(view, {"kind": "pattern", "rid": "r", "layer": layer, "head": head}, [])
    del view.send
    msg, bufs = sent[-1]
    assert msg["kind"] == "pattern", msg
    assert msg["rows"] == [0, len(view.tokens)]                      # the whole head
    return {**{k: v for k, v in msg.items() if k not in ("kind", "rid", "layer", "head", "rows")},
            **{name: bytes(b) for name, b in zip(sparse.BUFFERS, bufs)}}


def _as_bytes(packed):
    return {k: bytes(v) if isinstance(v, memoryview) else v for k, v in packed.items()}


def test_the_thumbnail_pass_keeps_a_lazy_heads_click_reply(monkeypatch):
    att = fake_attention(T=50, L=2, H=3, seed=4)
    lazy = LazyLike(att)
    monkeypatch.setattr(thumbnails, "_ROW_CHUNK_BYTES", 4 * 50 * 8)            # 8 rows a chunk
    computed = []
    lazy.top_k = lambda l, h, k=8: (computed.append((l, h)), att.top_k(l, h, k))[1]
    ex = W.Explorer(lazy, report=fake_report(), selected=(1, 2), background=False)
    assert not computed and len(ex._replies) == 6
    for l in range(2):
        for h in range(3):       # the same bytes a click computing the head sends
            assert _click(ex, l, h) == _as_bytes(sparse.pack_sparse(sparse.sparse_pattern(att, l, h)))
    assert _as_bytes(ex._export_extra([(0, 1)])["preload"]["L0H1"]) == _click(ex, 0, 1)   # exports reuse them
    assert not computed
    ex.mass = 0.5                # replies made for other settings are never sent
    assert _click(ex, 0, 0) == _as_bytes(sparse.pack_sparse(sparse.sparse_pattern(att, 0, 0, mass=0.5)))
    assert computed == [(0, 0)]


def test_kept_replies_stay_within_budget_most_wanted_first(monkeypatch):
    att = fake_attention(T=50, L=2, H=3, seed=4)
    one = sparse.packed_nbytes(sparse.pack_sparse(sparse.sparse_pattern(att, 1, 2)))
    monkeypatch.setattr(attention_view, "ReplyCache", lambda: sparse.ReplyCache(max_bytes=int(1.5 * one)))
    ex = W.Explorer(LazyLike(att), report=fake_report(), selected=(1, 2), background=False)
    assert len(ex._replies) == 1 and ex._replies.get((1, 2, 0.9, 64, "uint8"))      # the head on display
    assert _click(ex, 0, 1) == _as_bytes(sparse.pack_sparse(sparse.sparse_pattern(att, 0, 1)))   # computed
    held = W.Explorer(att, report=fake_report(), background=False)
    assert len(held._replies) == 0                    # attention in memory: a click reads it at once


def test_headgrid_takes_an_attention_for_patterns():
    att, rep = previous_token_attention(T=40), fake_report()
    g = W.HeadGrid(rep, attention=att, grid_mode="patterns")
    assert g.thumbs["shape"] == [2, 3, 14, 14] and g.grid_mode == "patterns"
    assert W.HeadGrid(rep).thumbs is None
    with pytest.raises(InputError, match="report's model"):
        W.HeadGrid(rep, attention=fake_attention(L=3, H=3))


def test_explorer_state_and_output_stay_within_budget_with_thumbnails_at_512_tokens():
    att = fake_attention(T=512, L=6, H=12, tokens=["[CLS]"] + [f"w{i}" for i in range(510)] + ["[SEP]"])
    ex = W.Explorer(att, report=fake_report(L=6, H=12), selected=(3, 5))
    state = ex.get_state()
    bundle = len(state.pop("_esm")) + len(state.pop("_css"))            # the front end, not the data
    clean, bufs = split_buffers(state)
    thumb_bytes = sum(len(b) for p, b in bufs if p[0] == "thumbs")
    assert thumb_bytes == 6 * 12 * 16 * 16 == 18_432                  # 256 bytes a head
    total = len(json.dumps(clean)) + sum(len(b) for _, b in bufs)
    assert total < 60_000, total
    doc = ex._repr_mimebundle_()[0][MIME]
    assert len(json.dumps(doc, indent=1)) <= mime.BUNDLE_BYTES
    assert doc["budget"]["heads_embedded"] == 72                       # every head's pattern still fits
    print(f"synced state {total / 1e3:.1f} kB (thumbnails {thumb_bytes / 1e3:.1f} kB) + bundle {bundle / 1e3:.1f} kB; "
          f"saved output {len(json.dumps(doc, indent=1)) / 1e6:.3f} MB")


# ---------------------------------------------------------------- what the numbers mean
def test_score_info_says_what_the_numbers_are():
    rep = fake_report()
    rep.provenance = {"correction": "holm", "ci": {"level": 0.9}}
    g = W.HeadGrid(rep)
    info = g.score_info
    assert list(info) == protocol.SCORE_INFO_KEYS
    assert info["method"] == "lift" and info["kinds"] == {"previous": "lift", "self": "lift"}
    assert info["descriptions"] == {"previous": "the previous token", "self": "the token itself"}
    assert info["correction"] == "holm" and info["ci_level"] == 0.9
    probe = payload.score_info("probe", ["induction", "copying", "mine"])
    assert probe["kinds"] == {"induction": "share", "copying": "copying", "mine": "share"}
    assert probe["descriptions"]["mine"] == "" and probe["correction"] == "" and probe["ci_level"] == 0.95
    # a stand-in report without a method: its scores span their own range
    table = fake_report().table.drop(columns=["method"])
    bare = SimpleNamespace(table=table, roles=["previous", "self"], n_layers=2, n_heads=3, alpha=0.05, model_name="m")
    assert W.HeadGrid(bare).score_info["kinds"] == {"previous": "own", "self": "own"}
    ex = W.Explorer(fake_attention())
    assert ex.score_info["method"] == "lift" and set(ex.score_info["kinds"].values()) == {"lift"}


def one_sample_report():
    """Role "sep" applied to one sample only (n = 1: no CI, no test); role "local" to 30."""
    rows = [dict(role="sep", layer=0, head=h, score=0.5, ci_low=np.nan, ci_high=np.nan, p_value=np.nan,
                 q_value=np.nan, significant=False, n=1, method="lift") for h in range(2)]
    rows += [dict(role="local", layer=0, head=h, score=0.2, ci_low=0.1, ci_high=0.3, p_value=0.01,
                  q_value=0.02, significant=True, n=30, method="lift") for h in range(2)]
    return SimpleNamespace(table=pd.DataFrame(rows), roles=["sep", "local"], n_layers=1, n_heads=2, alpha=0.05,
                           model_name="m")


def test_n_travels_in_the_grid_and_one_sample_leaves_ci_and_q_missing():
    g = W.HeadGrid(one_sample_report())
    assert g.fields == protocol.GRID_FIELDS and g.has_stats
    grid = np.asarray(g.grid)
    assert grid[0, g.fields.index("n")].tolist() == [[1, 1]] and grid[1, g.fields.index("n")].tolist() == [[30, 30]]
    assert np.isnan(grid[0, g.fields.index("ci_low")]).all() and np.isnan(grid[0, g.fields.index("q")]).all()


# ---------------------------------------------------------------- one head name, arrows, lazy attention
def test_python_views_name_heads_only_through_head_key():
    for path in VIEWS.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r'f"[^"]*L\{[^}]+\}H\{', text), path.name
        assert not re.search(r'f"[^"]*\{[^}]*(layer|\bl)\}\.\{[^}]*(head|\bh)\}', text), path.name
    ex = W.Explorer(fake_attention(), report=fake_report(), selected=(1, 2))
    assert "selected L1H2" in ex._summary() and "heads L1H2" in ex._summary()


def test_static_arcs_have_arrowheads_at_the_key_and_a_legend():
    att = previous_token_attention(T=8, L=1, H=1)
    text = W.AttentionView(att, heads=(0, 0))._repr_mimebundle_()[0]["image/svg+xml"]
    root = ET.fromstring(text)
    ns = "{http://www.w3.org/2000/svg}"
    arrows = [p for p in root.iter(ns + "path") if p.get("class") == "arrow"]
    arcs = [p for p in root.iter(ns + "path") if p.get("class") is None]
    assert len(arrows) == len(arcs) >= 6
    # each arrow's tip is the end point of its arc (the key), never its start (the query)
    for arc, arrow in zip(arcs, arrows):
        end = arc.get("d").split()[-1]
        assert f"L{end}" in arrow.get("d")
    assert any(t.text == svg.ARC_LEGEND for t in root.iter(ns + "text"))
    assert "from a query token to the key it attends to" in svg.ARC_LEGEND


def test_views_accept_a_lazy_attention_whose_weights_refuse():
    lazy = LazyLike(previous_token_attention(T=12))
    v = W.AttentionView(lazy, heads=(0, 0))
    assert v.sparse(0, 0).n == 12
    ex = W.Explorer(lazy, report=fake_report(), background=False)
    assert ex.thumbs is not None
