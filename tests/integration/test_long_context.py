"""Long inputs: probe detectors at 8,000 tokens and lazy attention, on a hand-wired circuit.

The model (tests/tiny_models.py, ``long_induction_circuit``) runs SDPA and has a previous-token
head (L0H0), an attention sink (L0H1) and an induction head that copies (L1H0), all exact at
any position up to 8,300, so every detector has a known answer at long context.
"""

import numpy as np
import pytest

from headlab.attention import LazyAttention
from tiny_models import long_induction_circuit


@pytest.fixture(scope="module")
def circuit():
    return long_induction_circuit(positions=8300)


def test_retrieval_sink_and_previous_token_heads_are_found_at_8000_tokens(circuit):
    rep = circuit.detect(roles=["previous_token", "retrieval", "sink"], n=8, n_boot=200, haystack=8000,
                         length=40, repeats=200)
    params = rep.provenance["parameters"]
    assert params["needle_probe"]["T"] >= 8000 and params["probe"]["T"] >= 8000
    assert params["retrieval_recall"] == 1.0                     # every needle copied back after its cue
    found = {(r, layer, head) for r, layer, head in rep.table[rep.table.significant][["role", "layer", "head"]]
             .itertuples(index=False)}
    assert found == {("previous_token", 0, 0), ("retrieval", 1, 0), ("sink", 0, 1)}
    assert rep.matrix("retrieval")[1, 0] == 1.0 and rep.matrix("sink")[0, 1] > 0.99
    assert circuit.attn_implementation == "sdpa"


def test_attention_of_a_long_input_is_lazy_and_exact(circuit):
    ids = np.random.default_rng(0).integers(5, 50, size=6000)
    text = " ".join(f"w{i - 5}" for i in ids)
    att = circuit.attention(text)
    assert isinstance(att, LazyAttention) and len(att.tokens) > 6000
    keys, w = att.top_k(0, 0, k=1)                               # the previous-token head, every row
    assert (keys[1:, 0] == np.arange(len(att.tokens) - 1)).all() and w[1:, 0].min() > 0.99
    rows = att.rows(0, 1, 100, 103)                              # the sink: all on the first token
    assert rows.shape == (3, len(att.tokens)) and rows[:, 0].min() > 0.99
