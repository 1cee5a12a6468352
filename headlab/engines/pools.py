"""Worker pools: where shards are scored.  ``LocalPool`` runs them in this process; the Ray pool
(:mod:`headlab.engines.ray_engine`) runs them on Ray actors.  Both have one interface:

* ``run(method, shards, on_result, on_flush=None)`` -- call the workers' ``method`` on every
  shard, each shard's result handed to ``on_result(shard, result)`` exactly once.  With
  ``on_flush`` the work stays inside the workers (the streaming accumulators): at the end
  each worker's ``flush`` hands over everything it holds, ``on_flush(state)`` once per
  worker, and a shard counts only once the worker that scored it has been flushed (a worker
  that dies before takes its shards with it, and they are scored again elsewhere);
* ``describe()`` -- name and shape of the model; ``close()``.

Progress is reported as :class:`ScanProgress` to a callback and drawn as one bar across all
workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from headlab.engines.shards import Rejection, Settings, ShardScorer

__all__ = ["ScanProgress", "Progress", "LocalPool"]


@dataclass
class ScanProgress:
    """Where a scan is, across all workers (what ``on_progress`` receives).

    Attributes:
        phase: ``"measure"`` (tokenising and checking the texts) or ``"score"``.
        done: texts finished in this phase.
        total: texts in this phase.
        rejected: texts that cannot be scored, so far.
        retried: shards run again after their worker died.
        workers: live workers, name -> process id.
        failed_workers: workers that died.
    """

    phase: str = "measure"
    done: int = 0
    total: int = 0
    rejected: int = 0
    retried: int = 0
    workers: dict = field(default_factory=dict)
    failed_workers: int = 0


class Progress:
    """Counts shared by a pool's phases: a tqdm bar (when asked) and the user's callback."""

    def __init__(self, show: bool = False, callback=None):
        self.state = ScanProgress()
        self.show, self.callback, self._bar = show, callback, None

    def start(self, phase: str, total: int) -> None:
        self.close_bar()
        self.state.phase, self.state.done, self.state.total = phase, 0, total
        if self.show:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=f"scan: {phase}", unit="text")
        self.emit()

    def advance(self, n: int) -> None:
        self.state.done += n
        if self._bar is not None:
            self._bar.update(n)
        self.emit()

    def emit(self) -> None:
        s = self.state
        if self._bar is not None:
            self._bar.set_postfix(workers=len(s.workers), retried=s.retried, rejected=s.rejected, refresh=False)
        if self.callback is not None:
            self.callback(s)

    def close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class LocalPool:
    """One worker in this process (``engine="local"``): the same shards, passes and merge as the
    Ray engine, without Ray.  Useful to check a scan's set-up on a small corpus."""

    def __init__(self, spec, settings: Settings, progress: Progress):
        import os

        self.scorer = ShardScorer(spec.load(), settings)
        self.progress = progress
        self.progress.state.workers = {"local": os.getpid()}

    def describe(self) -> dict:
        return self.scorer.describe()

    def run(self, method: str, shards, on_result=None, on_flush=None) -> list[Rejection]:
        """Shards in order; returns the texts of shards that could not be scored (none here:
        an error in this process stops the scan)."""
        for shard in shards:
            result = getattr(self.scorer, method)(shard)
            if on_result is not None:
                on_result(shard, result)
            self.progress.advance(len(shard))
        if on_flush is not None:
            on_flush(self.scorer.flush())
        return []

    def close(self) -> None:
        self.progress.close_bar()
