"""m.roles: engine equality, Pande's exact procedure, calibration on null attention, power."""

import numpy as np
import pytest
import torch
from scipy import stats as sps

import headlab as hl
from headlab import corpus
from headlab.capture import make_batches
from headlab.errors import InputError, UnknownRoleError
from headlab.analyses.role_scoring import BatchRoles
from headlab.analyses.text_roles import role_samples
from headlab.roles import as_sieve_result, resolve, sieve_for
from headlab.scores import sieve_bias, sieve_lift

TEXTS = corpus.sentences(24, seed=1) + corpus.pairs(12, seed=1)


@pytest.mark.parametrize("method,fn", [("lift", sieve_lift), ("pande", sieve_bias)])
def test_streaming_engine_equals_numpy_scores(minilm, method, fn):
    per_role, samples = role_samples(minilm, TEXTS, method=method, block_entropy=False, batch_size=5)
    atts = minilm.attention(TEXTS)
    checked = 0
    for role in resolve(None, "text"):
        if role.id not in per_role:
            continue
        for i, att in enumerate(atts):
            res = role.sieve(att.sample)
            got = per_role[role.id][i]
            if res is None:
                assert np.isnan(got).all()
                continue
            res = as_sieve_result(res, len(att.tokens))
            ref = fn(att.weights, res.dense(len(att.tokens)), None, res.query_weights)
            np.testing.assert_allclose(got, ref, atol=2e-5, rtol=1e-4, equal_nan=True)
            checked += 1
    assert checked > 500


def test_permuting_texts_permutes_samples(minilm):
    a, _ = role_samples(minilm, TEXTS, roles=["local", "cls", "syn:det"])
    order = np.random.default_rng(0).permutation(len(TEXTS))
    b, _ = role_samples(minilm, [TEXTS[i] for i in order], roles=["local", "cls", "syn:det"])
    for r in a:
        np.testing.assert_allclose(b[r], a[r][order], atol=1e-5, equal_nan=True)


def test_permuting_samples_changes_no_test_result(minilm):
    per_role, _ = role_samples(minilm, TEXTS, roles=["local", "previous", "cls"])
    order = np.random.default_rng(3).permutation(len(TEXTS))
    r1 = hl.Report.from_samples(per_role, method="lift", null=0.1, n_boot=200, catalog=False)
    r2 = hl.Report.from_samples({k: v[order] for k, v in per_role.items()}, method="lift", null=0.1,
                                n_boot=200, catalog=False)
    for col in ("score", "p_value", "q_value", "effect_size"):
        np.testing.assert_allclose(r1.table[col], r2.table[col], rtol=1e-6, atol=1e-9)
    assert (r1.table["significant"] == r2.table["significant"]).all()
    # the bootstrap CI depends on resampling, not on order, up to Monte-Carlo error
    np.testing.assert_allclose(r1.table["ci_low"], r2.table["ci_low"], atol=0.05)


def _direct_pande(att, kind: str, tau_check=True):
    """Pande et al.'s formulas written out with loops, as in the authors' notebooks."""
    A = att.weights.astype(np.float64)           # [L, H, n, n]
    L, H, n, _ = A.shape
    specials = [i for i in range(n) if att.special_mask[i]]
    seps = [i for i in specials if i > 0]
    out = np.zeros((L, H))
    for l in range(L):
        for h in range(H):
            b = []
            for i in range(n):
                row = A[l, h, i]
                denom = row.sum() / n
                if kind == "local":
                    keys = range(max(0, i - 2), min(n - 1, i + 2) + 1)
                elif kind == "delimiter":
                    keys = specials
                elif kind == "cls":
                    keys = [0]
                elif kind == "sep":
                    keys = seps
                elif kind == "block":
                    sep1 = seps[0]
                    keys = range(1, sep1) if i < sep1 else range(sep1 + 1, n - 1)
                val = np.mean([row[j] for j in keys]) / denom
                if kind == "block":
                    val *= sps.entropy(row)
                b.append(val)
            out[l, h] = np.mean(b)
    return out


@pytest.mark.parametrize("kind", ["local", "delimiter", "cls", "sep", "block"])
def test_pande_method_equals_direct_implementation(minilm, kind):
    texts = corpus.pairs(10, seed=4) if kind == "block" else corpus.sentences(10, seed=4)
    rep = minilm.roles(texts, roles=[kind], method="pande", n_boot=50)
    B = np.stack([_direct_pande(a, kind) for a in minilm.attention(texts)])   # [N, L, H]
    np.testing.assert_allclose(rep.samples(kind), B, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(rep.matrix(kind), B.mean(0), rtol=1e-4, atol=1e-5)
    p = sps.ttest_1samp(B, 3.0, axis=0, alternative="greater").pvalue
    np.testing.assert_allclose(rep.matrix(kind, "p_value"), p, rtol=1e-3, atol=1e-6)
    # no correction: q equals p, significant means p < 0.05
    np.testing.assert_allclose(rep.matrix(kind, "q_value"), rep.matrix(kind, "p_value"))
    sig = rep.table[rep.table.role == kind].significant.to_numpy().reshape(6, 12)
    assert np.array_equal(sig, p < 0.05)
    assert rep.provenance["correction"] == "none" and rep.provenance["null"] == 3.0


def test_pande_syntactic_arc_scores(minilm):
    texts = ["The old dog quickly ate the red apple.", "Big storms often flood the narrow valley."]
    rep = minilm.roles(texts, roles=["syn:amod"], method="pande", n_boot=20)
    for i, att in enumerate(minilm.attention(texts)):
        arcs = [(d, h) for lab, d, h in hl.roles.syntax.parse_arcs(att.sample) if lab == "amod"]
        n = len(att.tokens)
        A = att.weights.astype(np.float64)
        # Pande's arc score: mean over dependent pieces p and head pieces q of A_pq, over the
        # mean over p of (1/n) sum_j A_pj; the sentence score is the mean over arcs
        scores = [A[:, :, d][:, :, :, h].mean((-1, -2)) / (A[:, :, d].sum(-1) / n).mean(-1) for d, h in arcs]
        np.testing.assert_allclose(rep.samples("syn:amod")[i], np.mean(scores, 0), rtol=1e-4)


def _null_batches(minilm, n_texts=48):
    texts = corpus.sentences(n_texts // 2, seed=7) + corpus.pairs(n_texts // 2, seed=7)
    roles = resolve(None, "text")
    roles = [r for r in roles if hl.roles.applicable(r, minilm.tokenize(texts[0])[0], False) or True]
    samples = minilm.tokenize(texts)
    per_sample = [[sieve_for(r, s, False) for r in roles] for s in samples]
    batches = list(make_batches(samples, 16, 0, causal=False))
    stacks = [BatchRoles(roles, b.samples, b.lengths, b.T, False,
                         sieves=[[per_sample[i][r] for i in b.index] for r in range(len(roles))]) for b in batches]
    return roles, samples, batches, stacks, per_sample


def _score_synthetic(batches, stacks, n_samples, n_roles, draw, heads=144):
    """Per-sample lift scores [R, N, 12, 12] of synthetic attention ``draw(batch) [B, heads, T, T]``,
    fed to the engine in chunks of 7 query rows, as the capture does for long inputs."""
    out = np.full((n_roles, n_samples, 12, 12), np.nan, dtype=np.float32)
    for b, bs in zip(batches, stacks):
        A = draw(b)
        for q0 in range(0, A.shape[2], 7):
            bs.add(A[:, :, q0:q0 + 7], q0)
        scores = bs.finish()                    # [B, heads, R]
        out[:, b.index] = scores.transpose(2, 0, 1).reshape(n_roles, len(b.index), 12, 12)
    return out


def _visible(batch) -> torch.Tensor:
    """bool [B, T, T]: real query and real key (encoder)."""
    real = torch.arange(batch.T)[None, :] < torch.as_tensor(batch.lengths)[:, None]
    return real[:, :, None] & real[:, None, :]


def _dirichlet(gen, heads=144):
    def draw(batch):
        B, T = batch.input_ids.shape
        g = torch.empty((B, heads, T, T)).exponential_(generator=gen)     # Dirichlet(1) rows
        g = g * _visible(batch)[:, None].float()
        return g / g.sum(-1, keepdim=True).clamp(min=1e-30)

    return draw


def test_calibration_null_attention_fdr_at_most_alpha(minilm):
    """Rows drawn independently of the sieves: 144 heads x all roles, many seeds."""
    roles, samples, batches, stacks, per_sample = _null_batches(minilm)
    alpha, fdp, fdp_default, p_all = 0.05, [], [], []
    for seed in range(40):
        gen = torch.Generator().manual_seed(seed)
        out = _score_synthetic(batches, stacks, len(samples), len(roles), _dirichlet(gen))
        per_role = {r.id: out[i] for i, r in enumerate(roles) if np.isfinite(out[i]).any()}
        # the boundary of H0 (true mean lift is exactly 0): the hardest case for calibration
        rep = hl.Report.from_samples(per_role, method="lift", null=0.0, n_boot=2, catalog=False)
        fdp.append(float(rep.table.significant.any()))   # every discovery is false here
        p_all.append(rep.table.p_value.to_numpy())
        default = hl.Report.from_samples(per_role, method="lift", null=0.1, n_boot=2, catalog=False)
        fdp_default.append(float(default.table.significant.any()))
    p_all = np.concatenate(p_all)
    p_all = p_all[np.isfinite(p_all)]
    n_tests = len(p_all) // 40
    assert n_tests >= 144 * 20
    # per-test calibration: P(p < alpha) ≈ alpha under the null (binomial 99.9% band)
    rate = np.mean(p_all < alpha)
    assert rate <= alpha + 3.3 * np.sqrt(alpha * (1 - alpha) / (len(p_all) / 144)), rate
    # FDR: mean false discovery proportion over seeds at or below alpha (Monte-Carlo margin)
    assert np.mean(fdp) <= alpha + 2 * np.sqrt(alpha * (1 - alpha) / len(fdp)), np.mean(fdp)
    assert np.mean(fdp_default) == 0.0


def test_power_planted_heads_are_found(minilm):
    """Heads that follow a role's sieve with 30% of their attention are found (power >= 0.9)."""
    roles, samples, batches, stacks, per_sample = _null_batches(minilm)
    ids = [r.id for r in roles]
    planted = {("local", 2, 5), ("cls", 4, 1), ("previous", 0, 3), ("syn:det", 3, 7), ("block", 5, 9)}
    strength = 0.3
    found, false = [], []
    for seed in range(10):
        gen = torch.Generator().manual_seed(100 + seed)
        null_draw = _dirichlet(gen)

        def draw(batch, bidx=[0]):
            A = null_draw(batch)
            B, T = batch.input_ids.shape
            for role, l, h in planted:
                S = torch.zeros((B, T, T))                        # the role's sieve, padded
                for b, i in enumerate(batch.index):
                    res = per_sample[i][ids.index(role)]
                    if res is not None:
                        n = batch.lengths[b]
                        S[b, :n, :n] = torch.from_numpy(res.dense(n).astype(np.float32))
                target = S / S.sum(-1, keepdim=True).clamp(min=1)
                has = S.sum(-1, keepdim=True) > 0
                k = l * 12 + h
                A[:, k] = torch.where(has, (1 - strength) * A[:, k] + strength * target, A[:, k])
            return A

        out = _score_synthetic(batches, stacks, len(samples), len(roles), draw)
        per_role = {r.id: out[i] for i, r in enumerate(roles) if np.isfinite(out[i]).any()}
        rep = hl.Report.from_samples(per_role, method="lift", null=0.1, n_boot=2, catalog=False)
        sig = {(r, l, h) for r, l, h in rep.table[rep.table.significant][["role", "layer", "head"]].itertuples(index=False)}
        found.append(len(sig & planted) / len(planted))
        heads = {(l, h) for _, l, h in planted}
        false.append(sum((l, h) not in heads for _, l, h in sig))   # related roles of a planted head are real
    assert np.mean(found) >= 0.9, found
    assert sum(false) == 0


def test_roles_report_api_and_bad_input(minilm):
    rep = minilm.roles(TEXTS[:12], roles="local,cls", n_boot=100)
    assert rep.roles == ["local", "cls"] and rep.n_samples == 12
    assert rep.provenance["parameters"]["min_effect"] == 0.1
    assert set(rep.table.columns) >= {"role", "layer", "head", "score", "ci_low", "ci_high", "p_value",
                                      "q_value", "significant", "n", "method", "test"}
    with pytest.raises(UnknownRoleError, match="Did you mean"):
        minilm.roles(TEXTS[:4], roles=["locale"])
    with pytest.raises(InputError, match="causal"):
        minilm.roles(TEXTS[:4], roles=["bos"])
    with pytest.raises(InputError, match="method"):
        minilm.roles(TEXTS[:4], method="magic")
    with pytest.raises(InputError):
        minilm.roles([""])
    with pytest.raises(InputError, match="block"):
        minilm.roles(["One sentence only."], roles=["block"])


def test_causal_model_roles(bert_tokenizer):
    from tiny_models import build

    m = hl.load(model=build("gpt2"), tokenizer=bert_tokenizer)
    rep = m.roles(TEXTS[:10], roles=None, n_boot=50)
    assert "bos" in rep.roles and "next" not in rep.roles and "cls" not in rep.roles
    with pytest.raises(InputError, match="encoder"):
        m.roles(TEXTS[:4], roles=["next"])
