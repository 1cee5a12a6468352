"""Kernel-free output: the mime bundle of every view, its byte budget, the SVG picture, nbconvert."""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import headlab.views.widgets as W
from headlab.errors import InputError
from headlab.views import display, mime, protocol, report_bundle, sparse
from test_widgets import FAKE_CATALOG, XSS, fake_attention, fake_report

MIME = protocol.MIME_TYPE
WIDGET = "application/vnd.jupyter.widget-view+json"


def size(doc) -> int:
    return len(json.dumps(doc, indent=1))          # as nbformat stores it


def preload_of(doc: dict) -> dict[str, sparse.SparsePattern]:
    """The payload's embedded patterns, read back the way the page reads them."""
    state = json.loads(json.dumps(doc["state"]))
    for b in doc["buffers"]:
        node = state
        for k in b["path"][:-1]:
            node = node[k]
        node[b["path"][-1]] = base64.b64decode(b["data"])
    return {k: sparse.unpack_sparse(v) for k, v in state.get("preload", {}).items()}


def test_every_view_emits_live_widget_payload_svg_and_short_text():
    att, rep = fake_attention(), fake_report()
    views = [W.HeadGrid(rep), W.AttentionView(att, heads=(0, 1)), W.Explorer(att, report=rep, selected=(1, 2)),
             W.CatalogBrowser(entries=FAKE_CATALOG)]
    for v in views:
        data, meta = v._repr_mimebundle_()
        assert set(data) == {WIDGET, MIME, "image/svg+xml", "text/plain"} and isinstance(meta, dict)
        assert data[WIDGET]["model_id"] == v.model_id
        doc = data[MIME]
        assert list(doc) == protocol.PAYLOAD_KEYS and doc["version"] == 1 and doc["view"] == v._view
        assert list(doc["budget"]) == protocol.BUDGET_KEYS
        assert doc["state"]["_static"] is True and doc["state"]["_view"] == v._view
        assert "_esm" not in doc["state"] and "_css" not in doc["state"] and "layout" not in doc["state"]
        assert len(data["text/plain"]) < 200 and "\n" not in data["text/plain"]
        assert repr(v) == data["text/plain"]
        ET.fromstring(data["image/svg+xml"])                       # well-formed, standalone
    grid_doc = views[0]._repr_mimebundle_()[0][MIME]
    assert grid_doc["state"]["grid"] == {"shape": [2, 7, 2, 3], "dtype": "float16", "buf": None}
    assert grid_doc["buffers"][0]["path"] == ["grid", "buf"] and grid_doc["budget"]["heads_total"] == 0
    ex_doc = views[2]._repr_mimebundle_()[0][MIME]
    assert ex_doc["budget"] == {"heads_embedded": 6, "heads_total": 6, "how": ""}
    assert list(ex_doc["state"]["preload"])[0] == "L1H2"          # the selected head comes first
    assert "HeadGrid(fake-model: 2 layers x 3 heads, role previous (2 roles))" == views[0]._summary()
    assert views[3]._repr_mimebundle_(include={"text/plain"})[0] == {"text/plain": "CatalogBrowser(2 head types)"}


def test_saved_patterns_are_each_querys_strongest_keys():
    att = fake_attention(T=20, L=2, H=2, seed=3)
    data, _ = W.AttentionView(att, heads=(1, 0))._repr_mimebundle_()
    pre = preload_of(data[MIME])
    assert sorted(pre) == ["L0H0", "L0H1", "L1H0", "L1H1"]
    p = pre["L1H0"]
    top = np.sort(att.weights[1, 0], axis=1)[:, ::-1]
    start = np.r_[0, np.cumsum(p.counts)]
    for q in range(20):
        got = p.weights[start[q]:start[q + 1]]
        np.testing.assert_allclose(got, top[q, :len(got)], atol=top[q, 0] / 255 + 1e-3)
    assert p.k_max == mime.PAYLOAD_K[0] and p.mass == mime.PAYLOAD_MASS


def test_payload_of_a_6x12_model_at_512_tokens_stays_within_one_megabyte():
    att = fake_attention(T=512, L=6, H=12, tokens=["[CLS]"] + [f"w{i}" for i in range(510)] + ["[SEP]"])
    ex = W.Explorer(att, report=fake_report(L=6, H=12), selected=(3, 5))
    doc = ex._repr_mimebundle_()[0][MIME]
    assert size(doc) <= mime.BUNDLE_BYTES == 1_000_000
    b = doc["budget"]
    # every head fits, with fewer keys per query (at most 4 here) rather than fewer heads
    assert b == {"heads_embedded": 72, "heads_total": 72, "how": ""}
    assert list(doc["state"]["preload"])[0] == "L3H5"
    assert {p["k_max"] for p in doc["state"]["preload"].values()} == {4}
    kept = [p["kept_mean"] for p in doc["state"]["preload"].values()]
    assert all(0 < k <= 1 for k in kept)


def test_budget_is_adjustable_per_view_and_for_every_view(monkeypatch):
    att = fake_attention(T=200, L=3, H=4, tokens=[f"w{i}" for i in range(200)])
    v = W.AttentionView(att, heads=(2, 3), bundle_bytes=30_000)
    doc = v._repr_mimebundle_()[0][MIME]
    assert size(doc) <= 30_000
    b = doc["budget"]
    assert 1 <= b["heads_embedded"] < b["heads_total"] == 12
    assert b["how"].startswith(f"{b['heads_embedded']} of 12 heads are saved in this output (budget 0.03 MB)")
    assert list(doc["state"]["preload"])[0] == "L2H3"            # the head on display is never the one left out
    assert all(p["k_max"] == mime.PAYLOAD_K[-1] for p in doc["state"]["preload"].values())
    monkeypatch.setattr(mime, "BUNDLE_BYTES", 20_000)
    small = W.AttentionView(att, heads=(0, 0))._repr_mimebundle_()[0][MIME]
    assert size(small) <= 20_000 and small["budget"]["heads_embedded"] < b["heads_embedded"]
    with pytest.raises(InputError, match="bundle_bytes"):
        W.AttentionView(att, bundle_bytes=-5)


def test_svg_escapes_tokens_and_has_no_script_or_link():
    toks = ["[CLS]", XSS, "</text><script>alert(2)</script>", "a&b", "\x00bell\x07", "[SEP]"]
    att = fake_attention(tokens=toks)
    for v in (W.AttentionView(att, heads=(0, 1), title=XSS), W.Explorer(att, report=fake_report(), selected=(0, 1))):
        text = v._repr_mimebundle_()[0]["image/svg+xml"]
        root = ET.fromstring(text)                                     # parses: invalid characters were dropped
        assert XSS not in text and "<script" not in text.lower()
        for e in root.iter():                                          # no element can load or run anything
            assert not {a.split("}")[-1] for a in e.attrib} & {"href", "src", "onload", "onerror", "onclick"}
            assert "url(" not in e.get("style", "") and "http" not in "".join(e.attrib.values()).replace(
                "http://www.w3.org/2000/svg", "")
        labels = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
        assert "<img src=x on…" in labels                           # the token is drawn as text (shortened)
        assert "a&b" in labels and "bell" in labels
        assert not any(e.tag.endswith(("script", "foreignObject", "image", "a")) for e in root.iter())


def test_explorer_svg_has_the_grid_and_the_selected_heads_arcs():
    att = fake_attention(T=8)
    text = W.Explorer(att, report=fake_report(), selected=(1, 2))._repr_mimebundle_()[0]["image/svg+xml"]
    root = ET.fromstring(text)
    ns = "{http://www.w3.org/2000/svg}"
    assert len([r for r in root.iter(ns + "rect") if r.get("width") == r.get("height") and r.get("fill", "").startswith("#")]) >= 6
    assert any(t.text == "L1H2: strongest keys per query" for t in root.iter(ns + "text"))
    assert len(list(root.iter(ns + "path"))) >= 1
    long = W.AttentionView(fake_attention(T=300, L=1, H=1, tokens=[f"w{i}" for i in range(300)]), heads=(0, 0), focus_token=250)
    caption = [t.text for t in ET.fromstring(long._repr_mimebundle_()[0]["image/svg+xml"]).iter(ns + "text")][0]
    assert caption == "L0H0: strongest keys per query, tokens 230-269 of 300"


def test_report_bundle_needs_no_widget():
    rep = fake_report()
    out = report_bundle(rep, role="self", catalog=FAKE_CATALOG)
    assert set(out) == {MIME, "image/svg+xml", "text/plain"}
    doc = out[MIME]
    assert doc["view"] == "grid" and doc["state"]["role"] == "self" and doc["state"]["_static"] is True
    assert doc["state"]["roles"] == ["previous", "self"] and doc["state"]["has_stats"] is True
    assert out["text/plain"].startswith("headlab report: fake-model, 2 roles x 2 layers x 3 heads")
    ET.fromstring(out["image/svg+xml"])
    g = W.HeadGrid(rep, role="self", catalog=FAKE_CATALOG)._repr_mimebundle_()[0][MIME]
    assert doc["buffers"] == g["buffers"]                             # the same grid bytes as the widget's
    assert {k: v for k, v in doc["state"].items()} == {k: v for k, v in g["state"].items()}


def test_saved_explorer_says_which_roles_were_still_being_scored():
    att = fake_attention(T=8)
    import threading
    gate = threading.Event()

    def scorer(roles):
        if roles != ["previous"]:
            gate.wait(10)
        return {r: np.ones((2, 3), np.float32) for r in roles}

    ex = W.Explorer(att, roles=["previous", "self"], scorer=scorer)
    quick = mime.payload(ex, final=False)
    assert quick["state"]["pending"] == [] and "self" in quick["state"]["notice"]
    assert "re-run the cell" in quick["state"]["notice"]
    gate.set()
    full = ex._repr_mimebundle_()[0][MIME]
    assert full["state"]["notice"] == "" and full["budget"]["heads_embedded"] == 6


def test_display_shows_at_once_and_completes_the_output_through_its_display_id(monkeypatch):
    import IPython.display as ipd

    calls = []
    monkeypatch.setattr(ipd, "display", lambda data, **kw: calls.append(("display", data, kw)))
    monkeypatch.setattr(ipd, "update_display", lambda data, **kw: calls.append(("update", data, kw)))
    small = W.AttentionView(fake_attention(), heads=(0, 0))
    small._ipython_display_()
    assert [c[0] for c in calls] == ["display"] and "display_id" not in calls[0][2]
    assert calls[0][1][MIME]["budget"]["heads_embedded"] == 6
    calls.clear()
    big = W.AttentionView(fake_attention(T=500, L=3, H=4, tokens=[f"w{i}" for i in range(500)]), heads=(0, 0))
    assert big._deferred()
    big._ipython_display_()
    for _ in range(200):
        if len(calls) == 2:
            break
        import time
        time.sleep(0.05)
    (kind1, first, kw1), (kind2, final, kw2) = calls
    assert kind1 == "display" and kind2 == "update" and kw1["display_id"] == kw2["display_id"]
    assert first[MIME]["budget"]["heads_embedded"] == 0 and "still being prepared" in first[MIME]["budget"]["how"]
    assert final[MIME]["budget"]["heads_embedded"] == 12
    assert first[WIDGET] == final[WIDGET]
    assert display.SETTLE_SECONDS > 0


def test_to_html_writes_atomically_and_returns_the_path(tmp_path):
    v = W.AttentionView(fake_attention(), heads=(0, 1))
    with pytest.raises(InputError, match="pass a path"):
        v.to_html()
    out = v.to_html(tmp_path / "sub" / "v.html")                   # the folder is made when missing
    assert out == tmp_path / "sub" / "v.html" and out.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["v.html"]   # no temporary file left
    v.to_html(str(out), title="again")
    assert "<title>again</title>" in out.read_text()


def test_nbconvert_html_of_these_outputs_loads_nothing_from_a_cdn():
    """The outputs themselves need no network: nbconvert shows their SVG (no widget state is saved
    here) as a data: image; the only remote scripts are the ones nbconvert's own template adds."""
    nbformat = pytest.importorskip("nbformat")
    nbconvert = pytest.importorskip("nbconvert")
    att = fake_attention(tokens=["[CLS]", XSS, "b", "c", "d", "[SEP]"])
    rep = fake_report()
    cells = []
    bundles = [v._repr_mimebundle_() for v in (W.Explorer(att, report=rep, selected=(0, 1)), W.HeadGrid(rep),
                                                W.AttentionView(att, heads=(1, 1)), W.CatalogBrowser(entries=FAKE_CATALOG))]
    bundles.append((report_bundle(rep), {}))
    for data, meta in bundles:
        cell = nbformat.v4.new_code_cell("view")
        cell.outputs = [nbformat.v4.new_output("display_data", data=data, metadata=meta)]
        cells.append(cell)
    html, _ = nbconvert.HTMLExporter().from_notebook_node(nbformat.v4.new_notebook(cells=cells))
    outputs = re.findall(r'<div class="jp-OutputArea-child">(.*?)</div>\s*</div>', html, re.S)
    assert len(outputs) == 5
    for out in outputs:
        assert 'data-mime-type="image/svg+xml"' in out and 'src="data:image/svg+xml;base64,' in out
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", out)
    assert XSS not in html
    remote = re.findall(r"""<(?:script|link)[^>]+(?:src|href)\s*=\s*["'](https?://[^"']+)""", html)
    assert all(("require.js" in u or "mathjax" in u.lower()) for u in remote), remote   # nbconvert's template only
