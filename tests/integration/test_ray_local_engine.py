"""The scan engine without a cluster: shards, merging and rejections with ``engine="local"``, and
the error when Ray is missing (docs/scale.md).  The Ray cluster tests are in test_ray_engine.py."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

from headlab import corpus
from headlab.engines import ModelSpec, scan
from headlab.engines.shards import ScoreStore, plan_shards
from headlab.errors import InputError, MissingExtraError
from scan_helpers import assert_same_report, tiny, tiny_folder  # noqa: F401 (fixtures)

TEXTS = corpus.sentences()[:40] + corpus.pairs()[:12]


def test_local_engine_equals_m_roles_and_reports_bad_texts(tiny, tiny_folder):
    bad = {3: "", 20: "word " * 400, 31: ("a pair", " ")}
    texts = list(TEXTS)
    for i, t in sorted(bad.items()):
        texts.insert(i, t)
    good = [t for i, t in enumerate(texts) if i not in bad]
    ref = tiny.roles(good, n_boot=300, seed=4, batch_size=8)
    with pytest.warns(UserWarning, match=r"3 of 55 texts could not be scored .*text 3: Empty text"):
        got = scan(str(tiny_folder), texts, engine="local", n_boot=300, seed=4, shard_batches=1, batch_size=8)
    assert_same_report(got, ref)
    for r in ref.roles:   # shards are whole batches of m.stream's plan, so the scores are the same numbers
        np.testing.assert_array_equal(got.samples(r), ref.samples(r),
                                      err_msg="shards no longer match m.stream's batches (plan_shards)")
    engine = got.provenance["parameters"]["engine"]
    assert [r["index"] for r in engine["rejected"]] == [3, 20, 31] and engine["n_rejected"] == 3
    assert "tokens but this model allows at most 128" in engine["rejected"][1]["error"]
    assert "empty side" in engine["rejected"][2]["error"]
    assert got.provenance["parameters"]["n_texts"] == len(good)


def test_pande_method_and_spilled_scores_merge_exactly(tiny, tiny_folder, tmp_path):
    ref = tiny.roles(TEXTS, roles=["local", "previous", "block"], method="pande", n_boot=200, batch_size=4)
    got = scan(str(tiny_folder), TEXTS, roles=["local", "previous", "block"], engine="local", method="pande",
               n_boot=200, shard_batches=2, batch_size=4, spill=tmp_path / "spill")
    assert_same_report(got, ref)
    assert sorted(p.name for p in (tmp_path / "spill").iterdir()) == ["role0.npy", "role1.npy", "role2.npy"]


def test_streaming_statistics_keep_the_t_test_and_approximate_the_ci(tiny, tiny_folder):
    ref = tiny.roles(TEXTS, n_boot=500, batch_size=8)
    got = scan(str(tiny_folder), TEXTS, engine="local", n_boot=500, keep_samples=False, shard_batches=1, batch_size=8)
    for c in ("score", "p_value", "q_value", "sd", "statistic", "effect_size"):
        np.testing.assert_allclose(got.table[c], ref.table[c], rtol=1e-6, atol=1e-9, equal_nan=True, err_msg=c)
    assert (got.table["significant"] == ref.table["significant"]).all()
    # a different bootstrap: close to the multinomial CI, not equal
    width = (ref.table["ci_high"] - ref.table["ci_low"]).to_numpy()
    for c in ("ci_low", "ci_high"):
        diff = np.abs(got.table[c] - ref.table[c]).to_numpy()
        assert np.nanmax(diff / width) < 0.5 and np.nanmax(diff) > 0
    assert got.provenance["ci"]["method"] == "poisson-percentile"
    assert "not kept" in got.provenance["per_sample"]
    assert got.n_samples == len(TEXTS) and np.isnan(got.samples("local")).all()


def test_streaming_ci_does_not_depend_on_the_shards(tiny_folder):
    a = scan(str(tiny_folder), TEXTS, roles=["local", "previous"], engine="local", n_boot=300, keep_samples=False,
             shard_batches=1, batch_size=4)
    b = scan(str(tiny_folder), TEXTS, roles=["local", "previous"], engine="local", n_boot=300, keep_samples=False,
             shard_batches=5, batch_size=4)
    for c in ("ci_low", "ci_high"):
        np.testing.assert_allclose(a.table[c], b.table[c], rtol=0, atol=1e-6, equal_nan=True)


def test_plan_shards_cuts_whole_batches_in_stream_order():
    rows = np.array([0, 1, 2, 3, 5, 6, 7])
    lengths = np.array([9, 3, 9, 3, 4, 3, 1])
    shards = plan_shards(rows, lengths, batch_size=2, batches_per_shard=2)
    # sorted by (length, row): 7(1) 1(3) 3(3) 6(3) 5(4) 0(9) 2(9)
    assert [s.tolist() for s in shards] == [[7, 1, 3, 6], [5, 0, 2]]


def test_score_store_refuses_a_row_twice():
    store = ScoreStore(4, (2, 3), ["local"])
    store.put(np.array([0, 2]), {"local": np.zeros((2, 2, 3), np.float32)})
    with pytest.raises(RuntimeError, match="scored twice"):
        store.put(np.array([2, 3]), {"local": np.zeros((2, 2, 3), np.float32)})
    assert store.missing().tolist() == [1, 3]


def test_options_are_checked_before_any_worker_starts():
    with pytest.raises(InputError, match="engine"):
        scan(None, TEXTS, engine="spark")
    with pytest.raises(InputError, match="keep_samples=False"):
        scan(None, TEXTS, engine="local", keep_samples=False, test="wilcoxon")
    with pytest.raises(InputError, match="workers"):
        scan(None, TEXTS, engine="ray", workers=0)
    with pytest.raises(InputError, match="not a loaded model|need its name"):
        ModelSpec.of(object())
    with pytest.raises(InputError, match="hl.load does not take"):
        ModelSpec.of("toy", bogus_option=1)
    assert ModelSpec.of({"name": "x", "device": "cuda"}).uses_gpu


def test_missing_ray_gives_the_install_command(monkeypatch, tiny_folder):
    monkeypatch.setitem(sys.modules, "ray", None)          # import ray -> ImportError
    with pytest.raises(MissingExtraError, match=r"pip install 'headlab\[ray\]'"):
        scan(str(tiny_folder), TEXTS, engine="ray")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scan(str(tiny_folder), TEXTS[:12], roles=["local"], engine="local", n_boot=20)   # works without Ray


def test_headlab_imports_without_ray():
    code = ("import sys; sys.modules['ray'] = None\n"
            "import headlab, headlab.engines, headlab.stats\n"
            "assert 'ray' not in [m for m in sys.modules if sys.modules[m] is not None]\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_shard_no_role_applies_to_is_not_an_error(tiny, tiny_folder):
    """roles=["block"] needs pairs or several sentences; the short shards (sorted by length)
    have none, which role_samples alone would refuse: they become NaN rows."""
    ref = tiny.roles(TEXTS, roles=["block"], n_boot=100, batch_size=4)
    got = scan(str(tiny_folder), TEXTS, roles=["block"], engine="local", n_boot=100, batch_size=4, shard_batches=1)
    assert_same_report(got, ref)
    assert np.isnan(got.samples("block")).any(axis=(1, 2)).sum() > 4     # whole shards without the role
    with pytest.raises(InputError, match="causal"):
        scan(None, TEXTS[:8], roles=["bos"], engine="local")              # a role the model cannot have
