"""The Ray engine on a 2-worker local Ray cluster started by this module (docs/scale.md): the merged
report equals the single-process one, a killed worker's shards are scored again exactly once,
bad texts are reported by index, progress covers all workers, load errors reach the caller."""

import os
import signal

import numpy as np
import pytest

from headlab import corpus
from headlab.engines import scan
from headlab.errors import ModelLoadError
from scan_helpers import COLUMNS, assert_same_report, tiny, tiny_folder  # noqa: F401 (fixtures)

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'headlab[ray]')")

TEXTS = corpus.sentences()[:72] + corpus.pairs()[:24]


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster with 2 CPUs (2 one-CPU workers), shut down after this module."""
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


class Recorder:
    """on_progress callback: keeps every event; optionally kills one worker's process once
    ``kill_after`` texts of the score pass are done."""

    def __init__(self, kill_after=None):
        self.events, self.kill_after, self.killed = [], kill_after, None

    def __call__(self, p):
        self.events.append((p.phase, p.done, p.total, dict(p.workers), p.retried))
        if self.kill_after is not None and self.killed is None and p.phase == "score" and p.done >= self.kill_after:
            name, pid = sorted(p.workers.items())[0]
            os.kill(pid, signal.SIGKILL)
            self.killed = (name, pid)


def test_two_workers_give_the_single_process_report(cluster, tiny, tiny_folder):
    texts = list(TEXTS)
    texts.insert(5, "   ")
    texts.insert(40, "many words " * 100)
    good = [t for i, t in enumerate(texts) if i not in (5, 40)]
    ref = tiny.roles(good, n_boot=400, seed=7, batch_size=8)
    seen = Recorder()
    with pytest.warns(UserWarning, match="2 of 98 texts could not be scored"):
        got = scan(str(tiny_folder), texts, engine="ray", workers=2, n_boot=400, seed=7, batch_size=8,
                   shard_batches=1, measure_size=16, on_progress=seen)
    assert_same_report(got, ref)
    engine = got.provenance["parameters"]["engine"]
    assert [r["index"] for r in engine["rejected"]] == [5, 40]
    assert engine["workers"] == 2 and engine["retried_shards"] == 0
    # progress across both workers: both appear, each pass counts up to all its texts
    assert max(len(w) for *_, w, _ in seen.events) == 2
    assert len({pid for *_, w, _ in seen.events for pid in w.values()}) == 2
    for phase, total in (("measure", 98), ("score", 96)):
        done = [d for ph, d, t, *_ in seen.events if ph == phase]
        assert done == sorted(done) and done[-1] == total
    assert _cpus_come_back(cluster)                   # the actors were stopped: the cluster is free again


def _cpus_come_back(ray, seconds=60):
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if ray.available_resources().get("CPU", 0) == 2:
            return True
        time.sleep(0.5)
    return False


def test_a_killed_worker_is_replaced_and_no_text_is_lost_or_counted_twice(cluster, tiny, tiny_folder):
    roles = ["local", "previous", "self", "bos", "block", "punctuation"]
    ref = tiny.roles(TEXTS, roles=roles, n_boot=300, batch_size=8)
    killer = Recorder(kill_after=16)
    got = scan(str(tiny_folder), TEXTS, roles=roles, engine="ray", workers=2, n_boot=300, batch_size=8,
               shard_batches=1, on_progress=killer)
    assert killer.killed is not None
    engine = got.provenance["parameters"]["engine"]
    assert engine["failed_workers"] == 1 and engine["retried_shards"] >= 1 and engine["n_rejected"] == 0
    assert_same_report(got, ref)
    assert got.n_samples == len(TEXTS)
    after = [w for ph, d, t, w, r in killer.events if r > 0]
    assert after and all(killer.killed[1] not in w.values() for w in after)   # the dead worker got no more work


def test_streaming_statistics_survive_a_killed_worker(cluster, tiny_folder):
    """With keep_samples=False the scores live inside each worker until it is flushed; a worker
    killed before that takes them along and its shards are scored again: the merged moments
    and Poisson accumulators equal a run without failures."""
    roles = ["local", "previous", "bos", "block"]
    calm = scan(str(tiny_folder), TEXTS, roles=roles, engine="local", n_boot=300, batch_size=8, keep_samples=False)
    killer = Recorder(kill_after=24)
    got = scan(str(tiny_folder), TEXTS, roles=roles, engine="ray", workers=2, n_boot=300, batch_size=8,
               shard_batches=1, keep_samples=False, on_progress=killer)
    assert killer.killed is not None and got.provenance["parameters"]["engine"]["failed_workers"] == 1
    assert (got.table["n"] == calm.table["n"]).all()
    # a rescored shard runs on a worker with its own torch threads: float32 scores can differ in
    # the last bit (about 1e-9 on a mean of 1e-4 was seen), far inside the 1e-6
    for c in COLUMNS:
        np.testing.assert_allclose(got.table[c], calm.table[c], rtol=1e-6, atol=1e-7, equal_nan=True, err_msg=c)
    assert (got.table["significant"] == calm.table["significant"]).all()


def test_the_default_model_on_ray_equals_m_roles(cluster, minilm):
    """A realistic model: all-MiniLM-L6-v2 (embedded), loaded by each worker from the spec None."""
    texts = corpus.sentences()[:48] + corpus.pairs()[:16]
    roles = ["local", "previous", "next", "cls", "sep", "block"]
    ref = minilm.roles(texts, roles=roles, n_boot=500)
    got = scan(None, texts, roles=roles, engine="ray", workers=2, n_boot=500, shard_batches=1)
    assert_same_report(got, ref)
    assert got.model_name == ref.model_name and got.table["significant"].sum() > 0


def test_a_model_that_cannot_load_stops_the_scan_with_the_loading_error(cluster):
    with pytest.raises(ModelLoadError, match="No model folder"):
        scan("/nonexistent/headlab-model", TEXTS[:4], engine="ray", workers=2)
    assert _cpus_come_back(cluster)                   # the failed actors were stopped
