"""The Ray engine: a pool of Ray actors, each holding the model, scoring shards of a corpus.

Why plain actors and not Ray Data's actor pool (docs/scale.md, 'Why plain actors'): the unit
of work is a shard of whole batches whose results are dense float32 arrays keyed by text
index, and the merge needs to know exactly which shards are done, on which worker, to count
every text once after a failure -- with the scheduling here, the driver owns that record.
Ray Data would add pyarrow, convert the arrays to Arrow blocks, and retry blocks with its own
bookkeeping, out of sight of the exactly-once check and the per-text rejections.

Scheduling: each live actor has up to ``DEPTH`` shards in flight (so it never waits for the
driver); results stream back as they finish (``ray.wait``), so the driver holds only the
scores already merged.  When an actor dies (its process killed, a node lost, out of
memory), every shard in flight on it -- and, for the streaming statistics, every shard it
had folded into its accumulators -- goes back to the queue and is scored by another actor;
a replacement actor is started.  A shard whose worker died ``max_retries + 1`` times is not
tried again: its texts are reported as rejected, with their indices.

Ray is imported only here, and only when the engine is used: headlab works without it.
"""

from __future__ import annotations

import logging
from collections import Counter, deque

from headlab.engines.pools import Progress
from headlab.engines.shards import Rejection, Settings, ShardScorer, preview
from headlab.errors import HeadlabError, MissingExtraError

__all__ = ["RayPool", "import_ray", "INSTALL_HINT"]

INSTALL_HINT = "pip install 'headlab[ray]'"
#: shards in flight per actor: one running, one waiting, so an actor never idles on the driver
DEPTH = 2
#: seconds between checks for Ctrl-C while waiting for results
POLL = 1.0


def import_ray():
    """The ``ray`` module, or ``MissingExtraError`` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise MissingExtraError(f"engine='ray' needs Ray, which is not installed: {INSTALL_HINT} "
                                "(or pip install ray); or run without the ray engine.") from None
    return ray


class _Worker:
    """What each Ray actor holds: a :class:`ShardScorer` with the model, loaded once."""

    def __init__(self, spec, settings: Settings):
        self.spec, self.settings, self.scorer = spec, settings, None

    def setup(self) -> dict:
        # Loaded in a task, not in __init__, so a load error reaches the driver as that error.
        if self.scorer is None:
            self.scorer = ShardScorer(self.spec.load(), self.settings)
        return self.scorer.describe()

    def measure(self, shard):
        return self.scorer.measure(shard)

    def score(self, shard):
        return self.scorer.score(shard)

    def accumulate(self, shard):
        return self.scorer.accumulate(shard)

    def flush(self):
        return self.scorer.flush()


class _Queue:
    """Shards to hand out: shards to retry first, then fresh ones, made only when needed (so the
    driver never holds every shard of a large corpus at once)."""

    def __init__(self, shards):
        self._fresh, self._retry, self._next, self._exhausted = iter(shards), deque(), None, False

    def _peek(self):
        if self._next is None and not self._exhausted:
            self._next = next(self._fresh, None)
            self._exhausted = self._next is None
        return self._next

    def __bool__(self) -> bool:
        return bool(self._retry) or self._peek() is not None

    def popleft(self):
        if self._retry:
            return self._retry.popleft()
        item, self._next = self._peek(), None
        return item

    def append(self, shard) -> None:
        self._retry.append(shard)


class RayPool:
    """``workers`` Ray actors with the model; see the module docstring for the scheduling.

    Args:
        spec, settings: the model and what to compute (:class:`ModelSpec`, :class:`Settings`).
        progress: the scan's :class:`Progress`.
        workers: number of actors (default: as many as the cluster has CPUs, or GPUs when the
            model runs on GPU, for the resources each actor asks for).
        address: a running cluster (``"auto"``, ``"ray://host:10001"``); default: the cluster
            this process is connected to, or a new local one (shut down at the end).
        worker_options: Ray actor options, e.g. ``{"num_cpus": 4}`` or ``{"num_gpus": 1}``.
        max_retries: how often a shard is run again after its worker died.
        max_replacements: actors started to replace dead ones (default: ``workers``).
    """

    def __init__(self, spec, settings: Settings, progress: Progress, *, workers: int | None = None,
                 address: str | None = None, worker_options: dict | None = None, max_retries: int = 2,
                 max_replacements: int | None = None):
        ray = import_ray()
        self.ray, self.progress, self.max_retries = ray, progress, max_retries
        self._own_cluster = False
        self.actors: dict[str, object] = {}
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING)
            self._own_cluster = True
        options = {"num_cpus": 1, "max_restarts": 0, "max_task_retries": 0}
        if spec.uses_gpu:
            options["num_gpus"] = 1
        options.update(worker_options or {})
        if workers is None:
            workers = self._fit(options)
        self.n_workers = workers
        self.replacements_left = workers if max_replacements is None else max_replacements
        self._actor_class = ray.remote(_Worker).options(**options)
        self._spec, self._settings = spec, settings
        self._died = tuple(getattr(ray.exceptions, n) for n in
                           ("RayActorError", "WorkerCrashedError", "ActorUnavailableError", "ObjectLostError")
                           if hasattr(ray.exceptions, n))
        self._setup_refs: dict[str, object] = {}   # actors still loading the model
        self._count = 0
        try:
            for _ in range(workers):
                self._spawn()
            # Wait for the first actors here, so a model that cannot load stops the scan at once.
            self.info = None
            for name, ref in list(self._setup_refs.items()):
                self.info = self._ready(name, self._get(ref))
            self._setup_refs = {}
        except BaseException:
            self.close()          # free the cluster's CPUs / GPUs held by the actors
            raise

    # ----------------------------------------------------------------- actors
    def _fit(self, options: dict) -> int:
        res = self.ray.cluster_resources()
        if options.get("num_gpus"):
            return max(1, int(res.get("GPU", 0) // options["num_gpus"]))
        return max(1, int(res.get("CPU", 1) // max(options.get("num_cpus", 1), 1e-9)))

    def _spawn(self) -> str:
        self._count += 1
        name = f"worker-{self._count}"
        self.actors[name] = self._actor_class.remote(self._spec, self._settings)
        self._setup_refs[name] = self.actors[name].setup.remote()
        return name

    def _ready(self, name: str, info: dict) -> dict:
        self.progress.state.workers[name] = info["pid"]
        self.progress.emit()
        return info

    def _get(self, ref):
        """``ray.get`` that re-raises a headlab error from a worker as itself."""
        try:
            return self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, HeadlabError):
                raise cause from None
            raise

    def _lose(self, name: str) -> None:
        self.actors.pop(name, None)
        self.progress.state.workers.pop(name, None)
        self.progress.state.failed_workers += 1
        if self.replacements_left > 0:
            self.replacements_left -= 1
            self._spawn()
        elif not self.actors:
            raise HeadlabError("Every Ray worker died and no replacement is left; check the workers' logs "
                               "(out of memory? a crash in the model?) and run again, e.g. with fewer texts per shard.")
        self.progress.emit()

    def describe(self) -> dict:
        return dict(self.info)

    # ----------------------------------------------------------------- scheduling
    def run(self, method: str, shards, on_result=None, on_flush=None) -> list[Rejection]:
        """Run ``method`` on every shard; see :mod:`headlab.engines.pools` for the contract.
        Returns the texts of shards given up after ``max_retries`` worker deaths."""
        ray, progress = self.ray, self.progress
        queue, attempts, given_up = _Queue(shards), Counter(), []
        inflight: dict = {}                      # ref -> (worker, kind, shard)
        held: dict[str, list] = {}               # sticky: shards inside a worker's accumulators

        def adopt_setups():      # actors started to replace dead ones: wait for them like tasks
            for name, ref in self._setup_refs.items():
                inflight[ref] = (name, "setup", None)
            self._setup_refs = {}

        adopt_setups()

        def requeue(shard, why: str):
            attempts[shard.id] += 1
            progress.state.retried += 1
            if attempts[shard.id] > self.max_retries:
                given_up.extend(Rejection(int(i), f"not scored: {why} {attempts[shard.id]} times while scoring it",
                                          preview(t)) for i, t in zip(shard.index, shard.texts))
                progress.state.rejected += len(shard)
                progress.advance(len(shard))
            else:
                queue.append(shard)

        while True:
            ready_workers = [n for n in self.actors if n in progress.state.workers]
            busy = Counter(w for w, kind, _ in inflight.values() if kind != "setup")
            for name in ready_workers:
                while busy[name] < DEPTH and queue:
                    shard = queue.popleft()
                    inflight[getattr(self.actors[name], method).remote(shard)] = (name, "task", shard)
                    busy[name] += 1
            tasks_left = queue or any(kind == "task" for _, kind, _ in inflight.values())
            if not tasks_left and on_flush is not None:
                flushing = {w for w, kind, _ in inflight.values() if kind == "flush"}
                for name in [n for n, s in held.items() if s and n not in flushing and n in self.actors]:
                    inflight[self.actors[name].flush.remote()] = (name, "flush", None)
            if not queue and not any(kind in ("task", "flush") for _, kind, _ in inflight.values()):
                break
            if not inflight:
                raise HeadlabError("No Ray worker is available to score the remaining texts; check the cluster.")
            ready, _ = ray.wait(list(inflight), num_returns=1, timeout=POLL)
            for ref in ready:
                if ref not in inflight:          # dropped with a dead worker
                    continue
                name, kind, shard = inflight.pop(ref)
                try:
                    result = self._get(ref)
                except self._died:
                    # Everything this worker had is lost: its shards in flight, and (sticky) the
                    # shards in its accumulators, which never reached the driver.
                    lost = [s for r, (w, k, s) in list(inflight.items()) if w == name and k == "task"]
                    for r in [r for r, (w, _, _) in inflight.items() if w == name]:
                        del inflight[r]
                    lost += [shard] if kind == "task" else []
                    for s in held.pop(name, []):
                        progress.advance(-len(s))
                        lost.append(s)
                    self._lose(name)
                    adopt_setups()
                    for s in lost:
                        requeue(s, "its worker died")
                    continue
                if kind == "setup":
                    self._ready(name, result)
                elif kind == "task":
                    if on_flush is not None:
                        held.setdefault(name, []).append(shard)
                    else:
                        on_result(shard, result)
                    progress.advance(len(shard))
                else:
                    on_flush(result)
                    held.pop(name, None)
        # replacement actors still loading belong to the next pass
        self._setup_refs = {w: r for r, (w, kind, _) in inflight.items() if kind == "setup"}
        return given_up

    def close(self) -> None:
        """Stop the actors (freeing the cluster's resources) and a cluster this pool started."""
        self.progress.close_bar()
        for actor in self.actors.values():
            try:
                self.ray.kill(actor)
            except Exception:  # noqa: BLE001 - an actor that is already gone is fine
                pass
        self.actors = {}
        if self._own_cluster:
            self.ray.shutdown()
