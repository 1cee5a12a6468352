"""m.detect: probe roles → hl.Report, edge cases on tiny models, and the toy-induction heads."""

import warnings

import numpy as np
import pytest

import headlab as hl
from headlab import probes as P
from headlab.analyses.probe_passes import score_repeated
from headlab.errors import InputError, TooLongError, UnsupportedModelError
from headlab.report import Report

from tiny_models import build, induction_circuit


@pytest.fixture(scope="module")
def circuit():
    return induction_circuit()


# ----------------------------------------------------------------------------- tiny models
def test_report_shape_roles_and_nulls(gpt2_tiny):
    rep = gpt2_tiny.detect(roles=["previous_token", "induction", "sink"], n=6, n_boot=200)
    assert isinstance(rep, Report) and rep.method == "probe"
    assert rep.roles == ["previous_token", "induction", "sink"]
    assert (rep.n_samples, rep.n_layers, rep.n_heads) == (6, 3, 4)
    assert set(rep.table.columns) >= {"role", "layer", "head", "score", "ci_low", "ci_high", "p_value",
                                      "q_value", "significant", "n", "null"}
    params = rep.provenance["parameters"]
    # BERT's tokenizer has no BOS: the probe is 25 x 4 random tokens, no start token
    assert params["probe"]["bos"] is False and params["probe"]["T"] == 100
    # share roles: null = uniform share on the same targets + min_effect; sink: Gu et al.'s 0.3
    u = np.mean(1 / np.arange(2, 101))
    assert params["baseline"]["previous_token"] == pytest.approx(u)
    assert rep.matrix("previous_token", "null")[0, 0] == pytest.approx(u + 0.1)
    assert rep.matrix("sink", "null")[0, 0] == pytest.approx(0.3)
    # a random-weight model attends nearly uniformly: scores sit at the uniform share, nothing significant
    np.testing.assert_allclose(rep.matrix("previous_token"), u, atol=0.01)
    assert rep.significant("previous_token") == [] and rep.significant("induction") == []


def test_same_call_same_report(gpt2_tiny):
    a = gpt2_tiny.detect(roles=["duplicate_token", "sink"], n=4, seed=3, n_boot=100, length=8)
    b = gpt2_tiny.detect(roles=["duplicate_token", "sink"], n=4, seed=3, n_boot=100, length=8)
    cols = ["score", "ci_low", "ci_high", "p_value", "q_value"]
    assert a.table[cols].equals(b.table[cols]) and a.sample_ids == b.sample_ids
    c = gpt2_tiny.detect(roles=["duplicate_token"], n=4, seed=4, n_boot=100, length=8)
    assert a.sample_ids != c.sample_ids


def test_scores_equal_scoring_the_attention_arrays(gpt2_tiny):
    """detect's streamed scores = hl.scores on m.attention()'s arrays (raw-array path)."""
    ps = P.repeated_tokens(gpt2_tiny, n=3, length=6, repeats=2, seed=1)
    scores, base = score_repeated(gpt2_tiny, ps, ["previous_token", "induction", "sink"])
    for i, s in enumerate(ps.samples):
        T = len(s)
        A = np.zeros((gpt2_tiny.n_layers, gpt2_tiny.n_heads, T, T), np.float32)

        def keep(layer, rows, q0, batch):                          # rows [1, H, c, T] from query q0
            A[layer, :, q0:q0 + rows.shape[2]] = rows[0].float().numpy()

        gpt2_tiny.stream([s], keep)
        np.testing.assert_allclose(scores["previous_token"][i], hl.scores.previous_token_score(A), rtol=1e-5)
        np.testing.assert_allclose(scores["induction"][i], hl.scores.induction_score(A, ps.input_ids[i]), rtol=1e-5)
        np.testing.assert_allclose(scores["sink"][i], hl.scores.sink_score(A), rtol=1e-5)


def test_probe_rows_and_retrieval_nan_when_nothing_retrieved(gpt2_tiny):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        rep = gpt2_tiny.detect(roles=["previous_token", "retrieval"], n=4, n_boot=100)
    # rows: 4 repeated probes then 4 needle probes; each role is NaN on the other kind
    assert rep.n_samples == 8
    assert np.isnan(rep.samples("previous_token")[4:]).all() and not np.isnan(rep.samples("previous_token")[:4]).any()
    assert np.isnan(rep.samples("retrieval")).all()            # a random model never recalls the needle
    assert any("retrieval" in str(x.message) for x in w)
    assert rep.provenance["parameters"]["retrieval_recall"] == 0.0


def test_encoder_causal_only_roles(bert_tokenizer):
    enc = hl.load(model=build("bert"), tokenizer=bert_tokenizer)
    with pytest.raises(UnsupportedModelError, match="causal"):
        enc.detect(roles=["induction"], n=4)
    with pytest.warns(UserWarning, match="Skipped probe roles"):
        rep = enc.detect(n=4, n_boot=100)
    assert rep.roles == ["previous_token", "duplicate_token", "sink"]
    assert set(rep.provenance["parameters"]["skipped"]) == {"induction", "retrieval", "copying"}
    # encoders start probes with [CLS] and see every key: the uniform share uses all T keys
    assert rep.provenance["parameters"]["probe"]["bos"] is True
    T = rep.provenance["parameters"]["probe"]["T"]
    assert rep.provenance["parameters"]["baseline"]["previous_token"] == pytest.approx(1 / T)


def test_decoder_without_lm_head_skips_logit_roles(bert_tokenizer):
    base = hl.load(model=build("gpt2").transformer, tokenizer=bert_tokenizer)
    with pytest.warns(UserWarning, match="LM head"):
        rep = base.detect(n=3, length=6, n_boot=50)
    assert "copying" not in rep.roles and "retrieval" not in rep.roles and "induction" in rep.roles
    with pytest.raises(UnsupportedModelError, match="language-model head"):
        base.detect(roles=["copying"], n=3)


def test_gqa_model_scores_every_query_head(bert_tokenizer):
    m = hl.load(model=build("qwen2"), tokenizer=bert_tokenizer)
    assert m.n_kv_heads == 2 and m.n_heads == 4
    rep = m.detect(roles=["previous_token", "copying"], n=3, n_boot=100)
    assert rep.matrix("copying").shape == (3, 4) and np.isfinite(rep.matrix("copying")).all()
    assert np.isfinite(rep.matrix("previous_token")).all()


def test_probe_length_fitted_by_default_refused_when_named(bert_tokenizer):
    short = hl.load(model=build("gpt2", n_positions=40), tokenizer=bert_tokenizer)
    assert short.max_length == 40
    rep = short.detect(roles=["previous_token"], n=4, n_boot=100)
    probe = rep.provenance["parameters"]["probe"]
    assert probe["fitted"] and probe["length"] == 10 and probe["T"] == 40
    with pytest.raises(TooLongError, match="at most 10"):
        short.detect(roles=["previous_token"], n=4, length=25)


def test_bad_arguments(gpt2_tiny):
    with pytest.raises(InputError):
        gpt2_tiny.detect(roles=["previous_token"], n=1)
    with pytest.raises(hl.UnknownRoleError):
        gpt2_tiny.detect(roles=["inductoin"], n=4)
    with pytest.raises(InputError, match="text role"):
        gpt2_tiny.detect(roles=["local"], n=4)
    with pytest.raises(InputError):
        gpt2_tiny.detect(roles=["previous_token"], n=4, min_effect=-1)


# ----------------------------------------------------------------------------- hand-wired circuit
@pytest.fixture(scope="module")
def circuit_report(circuit):
    return circuit.detect(n=16, n_boot=300)


def test_circuit_every_role_finds_exactly_its_head(circuit_report):
    rep = circuit_report
    assert rep.significant("previous_token") == [(0, 0)]
    assert rep.significant("induction") == [(1, 0)]
    assert rep.significant("copying") == [(1, 0)]
    assert rep.significant("retrieval") == [(1, 0)]
    assert rep.significant("duplicate_token") == [] and rep.significant("sink") == []
    assert rep.matrix("previous_token")[0, 0] > 0.99 and rep.matrix("induction")[1, 0] > 0.99
    assert rep.matrix("retrieval")[1, 0] == 1.0                  # every needle token, every trial
    assert 0.8 < rep.matrix("copying")[1, 0] <= 1.0              # among the probe's tokens; others: about -0.97
    assert (np.delete(rep.matrix("copying").ravel(), 2) < -0.9).all()
    # heads without a role sit at the uniform share
    base = rep.provenance["parameters"]["baseline"]
    for role in ("previous_token", "induction"):
        m = rep.matrix(role)
        assert abs(m[0, 1] - base[role]) < 1e-3 and abs(m[1, 1] - base[role]) < 1e-3


def test_zero_variance_heads_get_the_exact_sign_test(circuit_report):
    """retrieval = 1.0 in every trial: t is undefined, the sign test gives 2^-n."""
    t = circuit_report.table
    row = t[(t["role"] == "retrieval") & (t["layer"] == 1) & (t["head"] == 0)].iloc[0]
    assert row["sd"] == 0 and row["p_value"] == pytest.approx(0.5 ** row["n"]) and row["significant"]
    assert "retrieval:L1H0" in circuit_report.provenance["parameters"]["sign_test_rows"]


# ----------------------------------------------------------------------------- toy-induction
def test_exclude_bos_changes_baseline_only_when_there_is_a_bos(circuit, gpt2_tiny):
    rep = circuit.detect(roles=["previous_token"], n=4, n_boot=100, exclude_bos=True)
    T = rep.provenance["parameters"]["probe"]["T"]
    # queries i >= 2, rows renormalised without BOS: 1 target among i keys
    assert rep.provenance["parameters"]["baseline"]["previous_token"] == pytest.approx(np.mean(1 / np.arange(2, T)))
    assert rep.significant("previous_token") == [(0, 0)]
    a = gpt2_tiny.detect(roles=["previous_token"], n=3, n_boot=50, exclude_bos=True)
    b = gpt2_tiny.detect(roles=["previous_token"], n=3, n_boot=50)
    np.testing.assert_array_equal(a.matrix("previous_token"), b.matrix("previous_token"))  # no BOS here
    assert hl.probes.repeated_tokens is P.repeated_tokens                               # public module


@pytest.mark.parametrize("excl", [{}, {"exclude_bos": True}, {"exclude_current_token": True},
                                  {"exclude_bos": True, "exclude_current_token": True}])
def test_sparse_share_equals_target_share(excl):
    """Summing the target entries of row chunks, then dividing by the scored queries, is target_share."""
    from headlab.analyses.probe_passes import _eligible, _share_sums

    rng = np.random.default_rng(0)
    B, H, T = 3, 2, 9
    A = rng.random((B, H, T, T)) * np.tri(T)
    A /= A.sum(-1, keepdims=True)
    ids = np.stack([np.concatenate([[0], np.tile(rng.permutation(np.arange(3, 30))[:4], 2)]) for _ in range(B)])
    S = hl.scores.induction_targets(ids) | hl.scores.previous_token_targets(T)
    q = np.arange(T) >= 2
    flags = (excl.get("exclude_bos", False), excl.get("exclude_current_token", False))
    eligible = _eligible(S, q, *flags)
    total = sum(_share_sums(A[:, :, a:a + 4], S[:, a:a + 4], eligible[:, a:a + 4], a, *flags) for a in range(0, T, 4))
    np.testing.assert_allclose(total / eligible.sum(-1)[:, None],
                               hl.scores.target_share(A, S[:, None], queries=q, **excl), rtol=1e-12)
