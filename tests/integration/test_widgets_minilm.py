"""The Explorer on the real default model: small widget state, sparse clicks, a bounded saved output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import headlab.views as W
from headlab.views import mime, protocol, sparse
from headlab.views.static_page import split_buffers

# ---------------------------------------------------------------- attention
def _reply(widget, content):
    sent = []
    widget.send = lambda msg, buffers=None: sent.append((msg, buffers))
    widget._on_custom_msg(widget, content, [])
    assert len(sent) == 1
    return sent[0]


# ---------------------------------------------------------------- static export
def test_default_model_explorer_state_under_one_megabyte_at_512_tokens(minilm):
    text = " ".join(["The committee discussed the unbelievably fragile supplier contracts at length."] * 60)
    att = minilm.attention(text, truncate=True)
    assert len(att.tokens) == 512
    ex = W.explore(minilm, att)
    clean, bufs = split_buffers(ex.get_state())          # everything synced, bundle included
    total = len(json.dumps(clean)) + sum(len(b) for _, b in bufs)
    assert total < 1_000_000, total
    assert all(len(b) < 100_000 for _, b in bufs)        # no attention block in the state
    ex.wait(60)
    clean, bufs = split_buffers(ex.get_state())
    assert len(json.dumps(clean)) + sum(len(b) for _, b in bufs) < 200_000   # float16 grid, linked catalogue only
    msg, bufs = _reply(ex, {"kind": "pattern", "rid": "x", "layer": 5, "head": 11})
    assert msg["n"] == 512 and msg["kind"] == "pattern"
    click = sum(len(bytes(b)) for b in bufs)
    assert click < 512 * 512 * 2 / 4                                    # a dense float16 block was 524 KB
    p = sparse.unpack_sparse({**msg, **dict(zip(sparse.BUFFERS, bufs))})
    dense = att.head(5, 11)
    top = np.sort(dense, axis=1)[:, ::-1]
    start = np.r_[0, np.cumsum(p.counts)]
    for q in range(0, 512, 37):                                          # each query's strongest keys, in order
        got = p.weights[start[q]:start[q + 1]]
        np.testing.assert_allclose(got, top[q, :len(got)], atol=top[q, 0] / 255 + 1e-3)
    assert msg["kept_min"] > 0 and 0 < msg["kept_mean"] <= 1
    print(f"click: {click} bytes, kept mean {msg['kept_mean']:.2f}, min {msg['kept_min']:.2f}")
    doc = ex._repr_mimebundle_()[0][protocol.MIME_TYPE]
    assert len(json.dumps(doc)) <= mime.BUNDLE_BYTES


def test_nbclient_saves_the_complete_output_of_a_view_still_scoring(tmp_path):
    """Executed without a human (nbclient allows no stdin), the kernel waits after the cell for the
    view's background work, so the saved kernel-free output has every role and its patterns."""
    import nbformat
    from nbclient import NotebookClient

    code = r'''
import sys, time
sys.path.insert(0, %r)
import numpy as np
import headlab.views as W
from test_widgets import fake_attention
att = fake_attention(T=700, L=2, H=3)
def scorer(roles):
    if roles != ["previous"]:
        time.sleep(1.0)
    return {r: np.full((2, 3), 0.5, np.float32) for r in roles}
ex = W.Explorer(att, roles=["previous", "self", "cls"], scorer=scorer)
ex
''' % str(Path(__file__).resolve().parents[1] / "unit")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)],
                                  metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outs = [o for o in nb.cells[0].outputs if protocol.MIME_TYPE in o.get("data", {})]
    assert len(outs) == 1
    doc = outs[0]["data"][protocol.MIME_TYPE]
    assert doc["state"]["roles"] == ["previous", "self", "cls"] and doc["state"]["notice"] == ""
    assert doc["budget"]["heads_embedded"] == doc["budget"]["heads_total"] == 6
    assert outs[0]["data"]["text/plain"].startswith("Explorer(fake-model: 2 layers x 3 heads, role previous (3 roles)")
