"""The Explorer on the real default model: widget state stays under a megabyte at 512 tokens."""

from __future__ import annotations

import json


import headlab.views as W
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
    msg, bufs = _reply(ex, {"kind": "pattern", "rid": "x", "layer": 5, "head": 11})
    assert msg["shape"] == [512, 512] and len(bytes(bufs[0])) == 512 * 512 * 2
