"""Python side of the views: traits, binary packing, pattern messages, export (no browser)."""

from __future__ import annotations

import base64
import json
import pathlib
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import headlab.views.widgets as W
from headlab.views import codec, payload, sparse
from headlab.views.static_page import split_buffers, widget_payload
from headlab.errors import InputError
from headlab.model import Attention
from headlab.text import Sample

XSS = "<img src=x onerror=alert(1)>"


def fake_attention(T=6, L=2, H=3, seed=0, tokens=None):
    """A real headlab.Attention over a synthetic sample (random row-stochastic weights)."""
    rng = np.random.default_rng(seed)
    w = rng.random((L, H, T, T)).astype(np.float32)
    w /= w.sum(-1, keepdims=True)
    tokens = tokens or ["[CLS]"] + [f"t{i}" for i in range(T - 2)] + ["[SEP]"]
    special = np.zeros(T, bool)
    special[[0, T - 1]] = True
    words = tokens[1:-1]
    starts = np.cumsum([0] + [len(t) + 1 for t in words])[:-1]
    sample = Sample(
        text=" ".join(words), input_ids=list(range(T)), tokens=tokens,
        word_ids=[None] + list(range(T - 2)) + [None],
        spans=[None] + [(int(s), int(s) + len(t)) for s, t in zip(starts, words)] + [None],
        special_mask=special, segment_ids=np.zeros(T, dtype=np.int64),
    )
    return Attention(w, sample, "fake-model")


def fake_report(L=2, H=3, roles=("previous", "self"), alpha=0.05, seed=1):
    rng = np.random.default_rng(seed)
    rows = []
    for role in roles:
        for l in range(L):
            for h in range(H):
                s = float(rng.random())
                q = float(rng.random() * 0.1)
                rows.append(dict(role=role, layer=l, head=h, score=s, ci_low=s - 0.1, ci_high=s + 0.1,
                                 p_value=q / 2, q_value=q, significant=q < alpha, n=20, method="lift", test="t"))
    table = pd.DataFrame(rows)
    return SimpleNamespace(table=table, roles=list(roles), n_layers=L, n_heads=H, alpha=alpha, model_name="fake-model")


#: catalogue summaries in the form headlab.catalog.summaries() writes them
FAKE_CATALOG = [
    {"id": "previous_token_head", "name": "Previous Token Head", "stage": "KR", "aliases": ["prev head"],
     "definition": "Attends to the token before.", "detector": ["previous"],
     "papers": [{"id": "P1", "title": "A paper", "year": 2022, "url": "https://example.org/p1"}],
     "known_instances": [{"model": "org/fake-model", "layer": 1, "head": 2}, {"model": "gpt2-small", "layer": 4, "head": 11}]},
    {"id": "sink_head", "name": "Sink Head", "stage": "ICI", "detector": [], "papers": [{"id": "P2"}], "known_instances": []},
]


@pytest.fixture
def catalog():
    """View-ready catalogue summaries for the model "fake-model" (what hl.explore / rep.show pass)."""
    out = [dict(e) for e in FAKE_CATALOG]
    for e in out:
        e["known_instances"] = [k for k in e["known_instances"] if k["model"].endswith("fake-model")]
    return out


# ---------------------------------------------------------------- packing
@pytest.mark.parametrize("dtype,tol", [("float32", 0), ("float16", 1e-3), ("uint8", 1 / 255)])
def test_pack_round_trip(dtype, tol):
    a = np.random.default_rng(0).random((5, 7)).astype(np.float32)
    p = codec.pack_array(a, dtype)
    assert p["dtype"] == dtype and p["shape"] == [5, 7]
    back = codec.unpack_array(p)
    # uint8 is relative to each row's maximum
    assert np.allclose(back, a, atol=tol * (a.max(1, keepdims=True) if dtype == "uint8" else 1))


def test_pack_uint8_keeps_row_maxima_exact_and_handles_zero_rows():
    a = np.array([[0.0, 0.0], [0.2, 0.8]], np.float32)
    back = codec.unpack_array(codec.pack_array(a, "uint8"))
    assert back[0].tolist() == [0, 0]
    assert back[1, 1] == pytest.approx(0.8)
    assert len(bytes(codec.pack_array(a, "uint8")["buf"])) == 4


def test_pack_rejects_unknown_encoding():
    with pytest.raises(InputError):
        codec.pack_array(np.zeros(2), "int64")


# ---------------------------------------------------------------- grid
def test_grid_from_table_fills_fields_and_leaves_nan():
    rep = fake_report()
    table = rep.table[~((rep.table.role == "self") & (rep.table.layer == 1) & (rep.table["head"] == 2))]
    g = payload.grid_from_table(table, rep.roles, 2, 3, 0.05)
    assert g.shape == (2, 7, 2, 3) and g.dtype == np.float32
    row = rep.table[(rep.table.role == "previous") & (rep.table.layer == 1) & (rep.table["head"] == 0)].iloc[0]
    assert g[0, 0, 1, 0] == pytest.approx(row.score)
    assert g[0, 4, 1, 0] == pytest.approx(row.q_value)
    assert g[0, 5, 1, 0] == float(row.significant)
    assert g[0, 6, 1, 0] == row.n == 20                       # n: the samples the test used
    assert np.isnan(g[1, :, 1, 2]).all()


def test_headgrid_traits_selection_and_observers(catalog):
    rep = fake_report()
    g = W.HeadGrid(rep, catalog=catalog)
    assert g._view == "grid" and g.role == "previous" and g.has_stats
    assert (g.n_layers, g.n_heads) == (2, 3)
    assert g.matches == {"L1H2": ["Previous Token Head"]}
    seen = []
    g.observe(lambda ch: seen.append(ch["new"]), "selected")
    g.selected = [1, 2]
    assert g.selected == (1, 2) and seen == [(1, 2)]
    assert g.get_state()["selected"] == [1, 2]
    with pytest.raises(InputError):
        g.selected = (2, 0)
    with pytest.raises(InputError):
        g.role = "nope"
    g.role = "self"
    assert np.allclose(g.scores(), rep.table[rep.table.role == "self"].score.to_numpy().reshape(2, 3))


def test_headgrid_state_from_front_end_updates_python():
    g = W.HeadGrid(fake_report())
    g.set_state({"selected": [0, 2]})
    assert g.selected == (0, 2)


def test_headgrid_grid_is_binary_float16():
    rep = fake_report()
    g = W.HeadGrid(rep)
    state = g.get_state()
    assert isinstance(state["grid"]["buf"], memoryview) and state["grid"]["dtype"] == "float16"
    assert state["grid"]["shape"] == [2, 7, 2, 3] and len(bytes(state["grid"]["buf"])) == 2 * 7 * 2 * 3 * 2
    back = codec.unpack_array(state["grid"])
    ref = rep.table[rep.table.role == "self"].score.to_numpy().reshape(2, 3)
    np.testing.assert_allclose(back[1, 0], ref, rtol=1e-3)


def test_quick_scores_grid_has_no_stats():
    ex = W.Explorer(fake_attention(), roles=None, background=False)
    assert not ex.has_stats and ex.roles
    state = ex.get_state()
    # per-text scores have no CI, p or q: only the score field travels
    assert ex.fields == ["score"] and state["grid"]["shape"] == [len(ex.roles), 1, 2, 3]
    assert np.isfinite(codec.unpack_array(state["grid"])).all()


# ---------------------------------------------------------------- attention
def test_text_units_group_word_pieces_and_keep_specials():
    att = SimpleNamespace(tokens=["[CLS]", "un", "##able", "to", "[SEP]"], word_ids=[None, 0, 0, 1, None],
                          spans=[None, (0, 2), (2, 6), (7, 9), None], segment_ids=[0] * 5, text="unable to")
    assert payload.text_units(att) == [[0, 1, "[CLS]"], [1, 3, "unable"], [3, 4, "to"], [4, 5, "[SEP]"]]


def test_text_units_for_a_pair_uses_each_segment_text():
    att = SimpleNamespace(tokens=["[CLS]", "a", "[SEP]", "bb", "[SEP]"], word_ids=[None, 0, None, 1, None],
                          spans=[None, (0, 1), None, (0, 2), None], segment_ids=[0, 0, 0, 1, 1], text=("a", "bb"))
    assert [u[2] for u in payload.text_units(att)] == ["[CLS]", "a", "[SEP]", "bb", "[SEP]"]


def _reply(widget, content):
    sent = []
    widget.send = lambda msg, buffers=None: sent.append((msg, buffers))
    widget._on_custom_msg(widget, content, [])
    assert len(sent) == 1
    return sent[0]


@pytest.mark.parametrize("encoding", ["float16", "uint8"])
def test_pattern_request_answers_one_head_as_binary(encoding):
    att = fake_attention()
    v = W.AttentionView(att, heads=(1, 2), encoding=encoding, mass=1.0)
    msg, bufs = _reply(v, {"kind": "pattern", "rid": "r1", "layer": 1, "head": 2})
    assert msg["kind"] == "pattern" and msg["rid"] == "r1" and msg["n"] == 6 and msg["weight_dtype"] == encoding
    assert all(isinstance(b, memoryview) for b in bufs) and len(bufs) == 4
    p = sparse.unpack_sparse({**msg, **dict(zip(sparse.BUFFERS, bufs))})
    # mass=1 keeps every key of a 6-token row: the sparse rows are the whole pattern
    assert np.allclose(p.dense(), att.weights[1, 2], atol=4e-3 * att.weights[1, 2].max())
    assert msg["kept_min"] == pytest.approx(1.0, abs=1e-6)


def test_pattern_request_errors_travel_back_and_other_messages_are_ignored():
    v = W.AttentionView(fake_attention())
    msg, _ = _reply(v, {"kind": "pattern", "rid": "r2", "layer": 9, "head": 0})
    assert msg["kind"] == "error" and msg["rid"] == "r2" and "does not exist" in msg["message"]
    sent = []
    v.send = lambda *a, **k: sent.append(a)
    v._on_custom_msg(v, {"kind": "other"}, [])
    assert sent == []


def test_attention_view_state_has_no_attention_tensor():
    att = fake_attention(T=40)
    v = W.AttentionView(att, heads=[(0, 0), (1, 1)])
    state = v.get_state()
    _, bufs = split_buffers(state)
    assert bufs == []          # no binary at all: patterns are sent on request
    assert v.heads == [[0, 0], [1, 1]]
    assert state["tokens"][0] == "[CLS]"


def test_attention_view_validates_heads():
    v = W.AttentionView(fake_attention())
    with pytest.raises(InputError):
        v.heads = [(5, 0)]
    v.heads = [(0, 1), (0, 1), [1, 0]]
    assert v.heads == [[0, 1], [1, 0]]


def test_attention_view_rejects_non_attention():
    with pytest.raises(InputError):
        W.AttentionView(SimpleNamespace(weights=np.zeros((2, 2)), tokens=["a"]))


# ---------------------------------------------------------------- explorer
def test_explorer_links_selection_heads_and_catalogue(catalog):
    rep = fake_report()
    ex = W.Explorer(fake_attention(), report=rep, catalog=catalog)
    assert ex.has_stats and ex.roles == ["previous", "self"]
    ex.selected = (1, 0)
    assert ex.heads == [[1, 0]]
    ex.heads = [[1, 0], [0, 2]]
    ex.selected = (0, 2)          # already shown: overlay stays
    assert ex.heads == [[1, 0], [0, 2]]
    kinds = {(l, h): k for l, h, k in ex.catalog_heads["previous_token_head"]}
    assert kinds[(1, 2)] == "known"
    sig = rep.table[(rep.table.role == "previous") & rep.table.significant]
    for r in sig.itertuples():
        assert (r.layer, r.head) in kinds
    ex.entry = "previous_token_head"
    assert [1, 2] in ex.highlight and ex.highlight_label == "Previous Token Head"
    # the synced catalogue is what the caller gave (narrowed to this model)
    entry = next(e for e in ex.catalog if e["id"] == "previous_token_head")
    assert entry["known_instances"] == [{"model": "org/fake-model", "layer": 1, "head": 2}]
    assert entry["stage"] == "KR"


def test_explorer_rejects_mismatched_report():
    with pytest.raises(InputError):
        W.Explorer(fake_attention(L=3), report=fake_report(L=2))


def test_explore_calls_the_model_once_and_accepts_an_attention():
    att = fake_attention()
    calls = []
    m = SimpleNamespace(name="fake-model", attention=lambda text, **kw: calls.append((text, kw)) or att)
    ex = W.explore(m, "hello", selected=(0, 1))
    assert calls == [("hello", {})] and ex.selected == (0, 1) and ex.heads == [[0, 1]]
    W.explore(m, att)
    assert len(calls) == 1


def test_explorer_state_under_one_megabyte_at_512_tokens():
    att = fake_attention(T=512, L=6, H=12, tokens=["[CLS]"] + [f"w{i}" for i in range(510)] + ["[SEP]"])
    ex = W.Explorer(att)
    clean, bufs = split_buffers(ex.get_state())
    total = len(json.dumps(clean)) + sum(len(b) for _, b in bufs)
    assert total < 1_000_000, total


# ---------------------------------------------------------------- catalogue browser
def test_catalog_browser_syncs_the_entries_it_is_given():
    b = W.CatalogBrowser("sink", entries=FAKE_CATALOG)
    assert b._view == "catalog" and b.query == "sink"
    assert [e["id"] for e in b.entries] == ["previous_token_head", "sink_head"]
    assert b.entries[1]["papers"] == [{"id": "P2"}]
    assert b.entries[0]["papers"][0]["url"] == "https://example.org/p1"


# ---------------------------------------------------------------- static export
def _payload_of(html: str) -> dict:
    m = re.search(r'<script type="application/vnd.headlab.widget\+json">(.*?)</script>', html, re.S)
    assert m, "no payload"
    return json.loads(m.group(1))


def test_to_html_is_self_contained_and_script_safe(tmp_path):
    att = fake_attention(tokens=["[CLS]", XSS, "</script><script>alert(2)</script>", "b", "c", "[SEP]"])
    v = W.AttentionView(att, heads=[(0, 1)], title="t <b>x</b>")
    out = tmp_path / "v.html"
    written = v.to_html(out)
    assert written == out and isinstance(written, pathlib.Path)
    html = out.read_text()
    assert XSS not in html and "alert(2)</script>" not in html
    assert "<title>t &lt;b&gt;x&lt;/b&gt;</title>" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html)     # nothing fetched from the network
    p = _payload_of(html)
    assert p["state"]["tokens"][1] == XSS and p["state"]["_static"] is True
    assert "_esm" not in p["state"] and p["esm"].strip()
    # every head's sparse pattern embedded (small input), with its bytes at the recorded paths
    paths = {tuple(b["path"][:2]) for b in p["buffers"]}
    assert ("preload", "L0H1") in paths and len([k for k in p["state"]["preload"]]) == 6
    entry = dict(p["state"]["preload"]["L0H1"])
    for b in p["buffers"]:
        if b["path"][:2] == ["preload", "L0H1"]:
            entry[b["path"][2]] = base64.b64decode(b["data"])
    assert len(entry["counts"]) == 6                      # uint8 [6]: keys kept per query
    back = sparse.unpack_sparse(entry)
    top = np.sort(att.weights[0, 1], axis=1)[:, ::-1]
    np.testing.assert_allclose(back.kept, np.cumsum(top, 1)[np.arange(6), back.counts.astype(int) - 1], atol=0.01)


def test_to_html_embeds_only_shown_heads_for_long_inputs():
    att = fake_attention(T=300, L=6, H=12, tokens=[f"w{i}" for i in range(300)])
    v = W.AttentionView(att, heads=[(2, 3)])
    p = widget_payload(v)
    assert sorted(p["state"]["preload"]) == ["L2H3"]
    p = widget_payload(v, heads=[(0, 0), (5, 11)])
    assert sorted(p["state"]["preload"]) == ["L0H0", "L5H11"]


def test_grid_export_has_no_preload():
    p = widget_payload(W.HeadGrid(fake_report()))
    assert "preload" not in p["state"] and p["state"]["_view"] == "grid"


def test_report_catalogue_columns_feed_tooltips(catalog):
    rep = fake_report()
    t = rep.table.copy()
    t["published"] = [["previous_token_head"] if (l, h) == (0, 1) else [] for l, h in zip(t["layer"], t["head"])]
    t["catalog"] = [["previous_token_head"] if (r == "previous" and s) else [] for r, s in zip(t["role"], t["significant"])]
    rep.table = t
    g = W.HeadGrid(rep, catalog=catalog)
    assert g.matches["L0H1"] == ["Previous Token Head"]          # published, id mapped to its name
    assert g.matches["L1H2"] == ["Previous Token Head"]          # known instance of this model
    sig = t[(t.role == "previous") & t.significant]
    assert set(g.role_matches["previous"]) == {f"L{l}H{h}" for l, h in zip(sig["layer"], sig["head"])}
    assert "self" not in g.role_matches
    ex = W.Explorer(fake_attention(), report=rep, catalog=catalog)
    assert ex.role_matches == g.role_matches


def test_explorer_shows_the_published_roles_of_gpt2_heads_under_the_name_gpt2():
    """The catalogue records GPT-2 small as "gpt2-small"; a model loaded as "gpt2" is the same model."""
    import headlab as hl

    att = fake_attention(T=6, L=12, H=12)
    m = SimpleNamespace(name="gpt2", n_layers=12, n_heads=12, attention=lambda text, **kw: att)
    ex = hl.explore(m, "Mary and John went to the store.")
    assert {"Copy Suppression Head", "Negative Name Mover Head"} <= set(ex.matches["L10H7"])
    assert ["L9H9"] == [k for k in ex.matches if k == "L9H9"] and "Name Mover Head" in ex.matches["L9H9"]
    # another size under the same name is not GPT-2 small: nothing is linked
    small = SimpleNamespace(name="gpt2", n_layers=2, n_heads=3, attention=lambda text, **kw: fake_attention())
    assert hl.explore(small, "text").matches == {}


def test_top_k_rows_strongest_first_ties_by_lower_key():
    from headlab.attention import top_k_rows

    keys, w = top_k_rows(np.array([[0.1, 0.5, 0.5, 0.2], [1, 0, 0, 0]], np.float32), 2)
    assert keys.tolist() == [[1, 2], [0, 1]] and w.tolist() == [[0.5, 0.5], [1.0, 0.0]]
    att = fake_attention(T=6, L=2, H=3)
    keys, w = att.top_k(1, 2, k=3)
    assert keys.shape == (6, 3) and keys.dtype == np.int32
    np.testing.assert_allclose(w, np.sort(att.head(1, 2), axis=-1)[:, ::-1][:, :3])
    with pytest.raises(InputError):
        att.top_k(1, 2, k=0)
    with pytest.raises(InputError):
        att.head(2, 0)
