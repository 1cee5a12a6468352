"""The toy-induction zoo model: K-composition and the loss effect of ablating its heads."""

import pytest


@pytest.fixture(scope="module")
def toy_heads(toy):
    """(previous-token head in layer 0, best induction head in a later layer, a head with no role)."""
    rep = toy.detect(roles=["previous_token", "induction", "duplicate_token", "sink", "copying"], n=40, n_boot=200)
    prev = max(((0, h) for h in range(toy.n_heads)), key=lambda lh: rep.matrix("previous_token")[lh])
    ind = max(((layer, h) for layer in range(1, toy.n_layers) for h in range(toy.n_heads)),
              key=lambda lh: rep.matrix("induction")[lh])
    every = [(layer, h) for layer in range(toy.n_layers) for h in range(toy.n_heads)]
    detected = set().union(*(rep.significant(role) for role in rep.roles))
    others = [lh for lh in every if lh not in detected]
    if not others:      # every head has some role (e.g. sinks): take heads outside the induction circuit
        circuit = set().union(*(rep.significant(r) for r in ("previous_token", "induction", "duplicate_token", "copying")))
        others = [lh for lh in every if lh not in circuit]
    return prev, ind, others, rep


# ----------------------------------------------------------------------------- toy-induction
def test_toy_k_composition_previous_token_head_feeds_induction(toy, toy_heads):
    prev, ind, _, _ = toy_heads
    r = toy.ablate(prev, probe="induction", metric="induction", target=ind, mode="zero", n=40, n_boot=500)
    assert r.effect < -0.2 and r.ci_high < 0 and r.p_value < 1e-6, r


def test_toy_induction_head_ablation_raises_loss_undetected_head_does_not(toy, toy_heads):
    _, ind, others, _ = toy_heads
    r = toy.ablate(ind, probe="induction", mode="mean", n=40, n_boot=500)
    assert r.effect > 0.5 and r.ci_low > 0 and r.p_value < 1e-6, r
    last = [lh for lh in others if lh[0] == toy.n_layers - 1]
    assert last, "the last layer's heads should have no probe role"
    for head in last:
        o = toy.ablate(head, probe="induction", mode="mean", n=40, n_boot=500)
        assert abs(o.effect) < 0.1 * r.effect, (head, o)
    # "Not detected" is not "unimportant": the second layer-0 head has no probe role (it attends
    # mostly two tokens back) and removing it still costs the repeated half a lot.
    early = [lh for lh in others if lh[0] == 0]
    assert early
    o = toy.ablate(early[0], probe="induction", mode="mean", n=40, n_boot=500)
    assert o.effect > 0.5 and o.p_value < 1e-6, o
