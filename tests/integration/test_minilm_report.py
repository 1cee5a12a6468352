"""Integration: the full role report of the default model on the built-in corpus.

These are the numbers the README quotes about Pande et al.'s three questions: co-location of
roles in one head, distribution of roles across layers, and how roles change when the model
changes (here: a deterministic fine-tuning of the same model).
"""

import numpy as np
import pytest

import headlab as hl
from headlab import corpus



@pytest.fixture(scope="module")
def full_report(minilm, tmp_path_factory):
    rep = minilm.roles()
    rep.save(tmp_path_factory.mktemp("report") / "minilm")
    return rep


def test_full_report_covers_all_heads_and_roles(full_report):
    rep = full_report
    assert (rep.n_layers, rep.n_heads, rep.n_samples) == (6, 12, len(corpus.sentences()) + len(corpus.pairs()))
    assert len(rep.roles) == 25   # 9 surface roles (no bos on an encoder) + 8 relations x 2 directions
    assert len(rep.table) == 25 * 72
    assert rep.table.groupby("role").size().eq(72).all()
    n = rep.table.groupby("role")["n"].max()
    assert n["local"] == rep.n_samples and n["block"] >= len(corpus.pairs())
    assert np.isfinite(rep.table[["score", "ci_low", "ci_high", "p_value", "q_value"]].to_numpy()).all()
    assert (rep.table.ci_low <= rep.table.score).all() and (rep.table.score <= rep.table.ci_high).all()


def test_colocation_local_and_syntactic_share_heads(full_report):
    col = full_report.colocation().set_index(["role_a", "role_b"])
    row = col.loc[("local", "syn:all")]
    assert row.n_both == row.n_b and row.n_b >= 3          # every syntactic head is also local
    assert row.p_value < 0.01 and row.n_both > 3 * row.expected
    assert col.loc[("local", "previous")].p_value < 0.01


def test_roles_across_layers(full_report):
    counts = full_report.by_layer()
    positional = counts[["local", "previous", "next"]].sum(axis=1)
    assert positional.loc[[0, 1, 2]].sum() >= 0.75 * positional.sum()   # early layers
    assert positional.loc[5] == 0
    assert counts["cls"].min() >= 9                                    # [CLS] heads in every layer


def test_roles_change_with_fine_tuning(minilm):
    from headlab.zoo.finetune import finetune_pair_kinds

    texts = corpus.pairs()
    roles = ["local", "previous", "cls", "sep", "block", "delimiter"]
    base = minilm.roles(texts, roles=roles, n_boot=200)
    tuned, losses = finetune_pair_kinds(minilm)
    assert losses[-1] < 0.5 * losses[0]
    after = tuned.roles(texts, roles=roles, n_boot=200)
    diff = hl.compare(base, after)
    assert diff.method == "compare" and diff.n_samples == len(texts)
    t = diff.table
    big = t[t.significant & (t.score.abs() >= 0.1)]      # changes of at least 0.1 lift
    per_layer = big.groupby("layer").size().reindex(range(6), fill_value=0)
    # fine-tuning moves the later layers most (Pande et al.; Kovaleva et al.)
    assert per_layer.loc[[3, 4, 5]].sum() >= 3 * per_layer.loc[[0, 1, 2]].sum()
    assert per_layer.loc[[3, 4, 5]].sum() >= 20
    # the last layer's [CLS] heads give most of it up
    assert after.matrix("cls")[5].mean() < 0.5 * base.matrix("cls")[5].mean()
