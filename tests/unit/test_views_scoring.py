"""Per-text role scores: equal to sieve_lift, and the Explorer paints the shown role first."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import headlab.views.widgets as W
from headlab.errors import InputError
from headlab.roles import resolve, sieve_for
from headlab.scores.sieve import sieve_lift
from headlab.views import codec, scoring
from test_widgets import FAKE_CATALOG, fake_attention


def _causal(att):
    T = len(att.tokens)
    w = att.weights * np.tri(T, dtype=np.float32)
    att.weights = (w / w.sum(-1, keepdims=True)).astype(np.float32)
    att.is_causal = True
    return att


@pytest.mark.parametrize("causal", [False, True])
def test_lift_many_equals_sieve_lift_for_every_role(causal):
    att = fake_attention(T=30, L=2, H=3, seed=4)
    if causal:
        att = _causal(att)
    sieves = {}
    for role in resolve(["previous", "next", "self", "local", "cls", "sep", "delimiter", "punctuation", "block"], "text"):
        res = sieve_for(role, att.sample, causal)
        if res is not None:
            sieves[role.id] = res
    assert len(sieves) >= (3 if causal else 5)      # causal models have no next / [SEP]-style roles
    got = scoring.lift_many(att, sieves, causal)
    visible = np.tri(30, dtype=bool) if causal else None
    for rid, res in sieves.items():
        np.testing.assert_allclose(got[rid], sieve_lift(att.weights, res.dense(30), visible, res.query_weights),
                                   rtol=0, atol=1e-9, equal_nan=True)


def test_lift_many_reads_layers_of_a_lazy_attention_and_weights_queries():
    """Without .weights it reads att.layer(l); query weights (syntactic roles) weight the mean."""
    from headlab.roles import SieveResult

    att = fake_attention(T=8, L=2, H=2, seed=2)
    sieve = np.zeros((8, 8), bool)
    sieve[np.arange(1, 8), np.arange(7)] = True
    qw = np.linspace(0.1, 1, 8)
    lazy = type("Lazy", (), {"tokens": att.tokens, "n_layers": 2, "n_heads": 2, "layer": lambda self, l: att.weights[l]})()
    got = scoring.lift_many(lazy, {"r": SieveResult(sieve, qw)}, False)["r"]
    np.testing.assert_allclose(got, sieve_lift(att.weights, sieve, None, qw), atol=1e-12)
    # a tiny example by hand: one head, query 1 puts 0.5 on its previous token of 2 visible keys -> 0
    a = np.array([[[[1, 0], [0.5, 0.5]]]], np.float32)
    tiny = type("T", (), {"tokens": ["a", "b"], "weights": a})()
    s = np.array([[False, False], [True, False]])
    assert scoring.lift_many(tiny, {"prev": SieveResult(s)}, False)["prev"][0, 0] == pytest.approx(0.0)


def test_quick_scores_leaves_out_roles_that_do_not_apply_and_refuses_long_inputs():
    att = fake_attention(T=10)
    out = scoring.quick_scores(att, ["previous", "bos"])
    assert list(out) == ["previous"] and out["previous"].dtype == np.float32 and out["previous"].shape == (2, 3)
    long = type("Long", (), {"tokens": ["t"] * (scoring.QUICK_MAX_TOKENS + 1), "is_causal": False})()
    with pytest.raises(InputError, match="scorer="):
        scoring.quick_scores(long)


def test_explorer_scores_the_shown_role_first_then_the_rest_in_the_background():
    att = fake_attention(T=8, L=2, H=3)
    calls, gate = [], threading.Event()

    def scorer(roles):
        calls.append(list(roles))
        if len(calls) > 1:
            gate.wait(10)                                   # the background waits until the test has looked
        return {r: np.full((2, 3), float(len(r)), np.float32) for r in roles if r != "bos"}

    ex = W.Explorer(att, roles=["previous", "self", "bos", "cls"], scorer=scorer, role="self")
    assert calls[0] == ["self"] and ex.role == "self"
    assert ex.pending == ["previous", "bos", "cls"] and ex.roles == ["previous", "self", "bos", "cls"]
    assert np.isnan(ex.scores("previous")).all() and (ex.scores("self") == 4).all()
    assert ex._deferred()
    gate.set()
    ex.wait(10)
    assert calls[1] == ["previous", "bos", "cls"]          # one background call: a streaming scorer pays once
    assert ex.pending == [] and ex.roles == ["previous", "self", "cls"]      # "bos" did not apply
    assert (ex.scores("cls") == 3).all() and ex.fields == ["score"] and not ex.has_stats
    assert ex.get_state()["grid"]["shape"] == [3, 1, 2, 3]


def test_a_scorer_may_report_progress_with_partial_answers_and_errors_become_a_notice():
    att = fake_attention(T=8, L=2, H=3)
    seen = []

    def scorer(roles):
        for r in roles:                                         # one dict per role: progress as it goes
            yield {r: np.ones((2, 3), np.float32)}

    ex = W.Explorer(att, roles=["previous", "self", "cls"], scorer=scorer, background=False)
    ex.observe(lambda ch: seen.append(list(ch["new"])), "pending")
    assert ex.pending == [] and ex.roles == ["previous", "self", "cls"]

    def broken(roles):
        if roles != ["previous"]:
            raise RuntimeError("out of memory")
        return {"previous": np.zeros((2, 3))}

    ex = W.Explorer(att, roles=["previous", "self"], scorer=broken)
    with pytest.raises(RuntimeError):
        ex.wait(10)
    assert "Scoring stopped: out of memory" in ex.notice and ex.pending == []
    with pytest.raises(InputError, match="applies"):
        W.Explorer(att, roles=["previous"], scorer=lambda roles: {})
    with pytest.raises(InputError, match="shape"):
        W.Explorer(att, roles=["previous"], scorer=lambda roles: {"previous": np.zeros((3, 3))})


def test_default_scorer_matches_quick_scores_and_skips_roles_until_one_applies():
    att = fake_attention(T=12)
    ex = W.Explorer(att, roles=["bos", "previous", "self"], background=False)
    ref = scoring.quick_scores(att, ["previous", "self"])
    assert ex.roles == ["previous", "self"] and ex.role == "previous"
    for r in ex.roles:
        np.testing.assert_allclose(ex.scores(r), ref[r], rtol=1e-3, atol=1e-4)    # float16 on the wire
    back = codec.unpack_array(ex.get_state()["grid"])
    np.testing.assert_allclose(back[:, 0], np.stack([ref[r] for r in ex.roles]), rtol=1e-3, atol=1e-4)


def test_explorer_syncs_only_the_catalogue_entries_of_this_model_and_serves_others(catalog):
    many = catalog + [{"id": f"t{i}", "name": f"Type {i}", "stage": "X", "definition": "x" * 500} for i in range(40)]
    ex = W.Explorer(fake_attention(), roles=["previous", "self"], catalog=many, background=False)
    assert [e["id"] for e in ex.catalog] == ["previous_token_head"]       # known instance + detector role
    assert len(ex.catalog_index) == 42 and ex.catalog_index[1] == ["sink_head", "Sink Head", "ICI"]
    sent = []
    ex.send = lambda msg, buffers=None: sent.append(msg)
    ex._on_custom_msg(ex, {"kind": "entry", "rid": "e1", "id": "t7"}, [])
    assert sent[-1] == {"kind": "entry", "rid": "e1", "entry": many[9]}
    ex._on_custom_msg(ex, {"kind": "entry", "rid": "e2", "id": "nope"}, [])
    assert sent[-1]["kind"] == "error" and sent[-1]["rid"] == "e2" and "nope" in sent[-1]["message"]
    ex.entry = "sink_head"
    assert ex.highlight_label == "Sink Head" and ex.highlight == []


@pytest.fixture
def catalog():
    out = [dict(e) for e in FAKE_CATALOG]
    for e in out:
        e["known_instances"] = [k for k in e["known_instances"] if k["model"].endswith("fake-model")]
    return out
