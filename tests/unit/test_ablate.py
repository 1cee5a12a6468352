"""m.ablate: paired effects of zero / mean ablation; causal confirmation; the toy-induction circuit."""

import numpy as np
import pytest

import headlab as hl
from headlab import probes as P
from headlab.analyses.ablate import AblationResult, confirm, probe_loss
from headlab.errors import InputError, UnsupportedModelError

from tiny_models import induction_circuit
from tiny_models import build


# ----------------------------------------------------------------------------- tiny models
def test_result_fields_table_and_determinism(gpt2_tiny):
    r = gpt2_tiny.ablate([(1, 0), (1, 1)], n=6, n_boot=200, length=10)
    assert isinstance(r, AblationResult) and r.heads == [(1, 0), (1, 1)] and r.mode == "zero"
    assert r.clean.shape == r.ablated.shape == r.delta.shape == (6,)
    np.testing.assert_allclose(r.delta, r.ablated - r.clean)
    assert r.effect == pytest.approx(r.delta.mean()) and r.ci_low <= r.effect <= r.ci_high
    assert 0 <= r.p_value <= 1 and r.n == 6 and r.test.startswith("paired")
    t = r.table
    assert list(t["heads"]) == ["L1H0 L1H1"] and {"effect", "ci_low", "ci_high", "p_value"} <= set(t.columns)
    again = gpt2_tiny.ablate([(1, 0), (1, 1)], n=6, n_boot=200, length=10)
    np.testing.assert_array_equal(r.delta, again.delta)
    assert r.p_value == again.p_value and "effect=" in repr(r)


def test_loss_metric_is_the_repeated_half(gpt2_tiny):
    ps = P.repeated_tokens(gpt2_tiny, n=2, length=5, repeats=2, seed=0)
    import torch

    with torch.inference_mode():
        logits = gpt2_tiny.model(input_ids=torch.as_tensor(ps.lm_ids)).logits
    logp = torch.log_softmax(logits.float(), -1)
    # no BOS: run = positions 0..4, second run 5..9; loss on tokens 6..9
    ref = [-logp[b, 5:9].gather(-1, torch.as_tensor(ps.lm_ids[b, 6:10])[:, None]).mean().item() for b in range(2)]
    np.testing.assert_allclose(probe_loss(gpt2_tiny, ps), ref, rtol=1e-5)


def test_zero_and_mean_ablation_of_a_whole_layer_change_loss(gpt2_tiny):
    heads = [(0, h) for h in range(4)]
    z = gpt2_tiny.ablate(heads, n=3, mode="zero", n_boot=100, length=10)
    mu = gpt2_tiny.ablate(heads, n=3, mode="mean", n_boot=100, length=10)
    assert np.abs(z.delta).max() > 0 and np.abs(mu.delta).max() > 0
    assert not np.allclose(z.delta, mu.delta)


def test_role_metric_with_target_and_errors(gpt2_tiny, bert_tokenizer):
    r = gpt2_tiny.ablate((0, 1), n=5, metric="induction", target=(2, 3), n_boot=100)
    assert r.metric == "induction" and r.target == [(2, 3)]
    with pytest.raises(InputError, match="target"):
        gpt2_tiny.ablate((0, 1), n=5, metric="induction")
    with pytest.raises(InputError, match="only used"):
        gpt2_tiny.ablate((0, 1), n=5, target=(1, 1))
    with pytest.raises(InputError, match="mode"):
        gpt2_tiny.ablate((0, 1), n=5, mode="resample")
    with pytest.raises(InputError, match="does not exist"):
        gpt2_tiny.ablate((5, 0), n=5)
    with pytest.raises(InputError, match="needle"):
        gpt2_tiny.ablate((0, 1), n=5, metric="retrieval", target=(1, 1))
    with pytest.raises(InputError, match="Unknown probe"):
        gpt2_tiny.ablate((0, 1), n=5, probe="nonsense")
    enc = hl.load(model=build("bert"), tokenizer=bert_tokenizer)
    with pytest.raises(UnsupportedModelError):
        enc.ablate((0, 1), n=5)                                  # loss needs a causal LM
    ok = enc.ablate((0, 1), n=5, probe="previous_token", metric="previous_token", target=(1, 0), n_boot=100)
    assert ok.n == 5                                             # attention metrics work on encoders


def test_confirm_adds_causal_columns(gpt2_tiny):
    rep = gpt2_tiny.detect(roles=["previous_token"], n=4, n_boot=100, min_effect=0.0)
    # force one "significant" head to exercise the path on a random model
    rep.table.loc[(rep.table["layer"] == 1) & (rep.table["head"] == 2), "significant"] = True
    table = confirm(gpt2_tiny, rep, n=4, n_boot=100)
    assert {"causal_effect", "causal_ci_low", "causal_ci_high", "causal_p", "causal_q"} <= set(table.columns)
    row = table[(table["layer"] == 1) & (table["head"] == 2)].iloc[0]
    assert np.isfinite(row.causal_effect) and np.isfinite(row.causal_p)
    assert table[~table["significant"]]["causal_effect"].isna().all()
    assert rep.provenance["parameters"]["causal"]["mode"] == "mean"


# ----------------------------------------------------------------------------- hand-wired circuit
@pytest.fixture(scope="module")
def circuit():
    return induction_circuit()


def test_circuit_k_composition_and_induction_loss(circuit):
    k = circuit.ablate((0, 0), metric="induction", target=(1, 0), n=12, n_boot=300)
    assert k.effect < -0.9 and k.ci_high < -0.9 and k.p_value < 1e-10
    ind = circuit.ablate((1, 0), n=12, n_boot=300)               # zero ablation
    assert ind.effect > 5 and ind.ci_low > 5 and ind.p_value < 1e-10
    mean = circuit.ablate((1, 0), n=12, mode="mean", n_boot=300)
    assert mean.effect > 3 and mean.p_value < 1e-10
    idle = circuit.ablate((0, 1), n=12, n_boot=300)              # a head with no role
    assert abs(idle.effect) < 1e-5 and abs(idle.ci_high - idle.ci_low) < 1e-5


def test_circuit_retrieval_metric_constant_change_uses_sign_test(circuit):
    r = circuit.ablate((1, 0), probe="retrieval", metric="retrieval", target=(1, 0), n=8, n_boot=200)
    assert r.probe == "needle" and r.effect == -1.0
    assert r.p_value == pytest.approx(2 * 0.5 ** 8) and "sign test" in r.test


def test_circuit_detect_confirm_adds_causal_effects(circuit):
    rep = circuit.detect(roles=["previous_token", "induction"], n=8, n_boot=200, confirm=True, confirm_n=8)
    t = rep.table
    ind = t[(t["role"] == "induction") & (t["layer"] == 1) & (t["head"] == 0)].iloc[0]
    prev = t[(t["role"] == "previous_token") & (t["layer"] == 0) & (t["head"] == 0)].iloc[0]
    assert ind["causal_effect"] > 3 and ind["causal_q"] < 0.05
    assert prev["causal_effect"] > 3                             # no previous-token info, no induction
    assert t.loc[~t["significant"], "causal_effect"].isna().all()


