"""``hl.scan``: natural-text roles over a corpus on a pool of workers, merged into one ``Report``.

The driver (this process) never loads the model: it splits the corpus, hands shards to the
workers, and merges what comes back (docs/scale.md).  With ``keep_samples=True`` (default)
the workers return per-sample scores (float32, a few KB per text) and the driver builds the
report with ``Report.from_samples`` -- the same report as ``hl.load(model).roles(texts)``:
same per-sample scores, same tests, same bootstrap CIs for the same seed.  With
``keep_samples=False`` each worker folds its scores into moments and Poisson-bootstrap
accumulators (:mod:`headlab.stats.streaming`), and the driver's memory does not grow with
the corpus.
"""

from __future__ import annotations

import warnings

import numpy as np

from headlab import corpus
from headlab import validate as V
from headlab.analyses.text_roles import METHODS, sample_id
from headlab.engines.pools import LocalPool, Progress
from headlab.engines.shards import (Settings, ScoreStore, SpillFolder, measure_shards, plan_shards,
                                    score_shards)
from headlab.engines.spec import ModelSpec
from headlab.errors import InputError
from headlab.report import Report
from headlab.roles import resolve
from headlab.stats import CORRECTIONS, TESTS
from headlab.text import check_text

__all__ = ["scan", "ENGINES"]

ENGINES = ("ray", "local")
#: rejected texts listed one by one in the report's provenance (the count is always there)
MAX_LISTED = 1000


def scan(model=None, texts=None, roles=None, *, engine: str = "ray", workers: int | None = None,
         ray_address: str | None = None, method: str = "lift", alpha: float = 0.05, correction: str | None = None,
         test: str | None = None, tau: float = 3.0, min_effect: float = 0.1, block_entropy: bool = True,
         batch_size: int = 16, truncate: bool = False, seed: int = 0, n_boot: int = 2000,
         keep_samples: bool = True, spill=False, shard_batches: int = 4, measure_size: int = 256,
         max_retries: int = 2, worker_options: dict | None = None, progress: bool = False,
         on_progress=None) -> Report:
    """Score natural-text roles on a corpus with a pool of workers and test them across texts.

    The statistics and their arguments are those of ``m.roles``
    (:func:`headlab.analyses.text_roles.analyse`: ``method``, ``alpha``, ``correction``,
    ``test``, ``tau``, ``min_effect``, ``block_entropy``, ``batch_size``, ``truncate``,
    ``seed``, ``n_boot``); the report equals ``hl.load(model).roles(texts, ...)`` on the texts
    that could be scored.

    Args:
        model: what every worker loads: None (the embedded default), a zoo name, a model folder
            every worker can read, a hub name, a :class:`ModelSpec` (device and load options),
            or a dict ``{"name", "device", "options"}``.
        texts: a list of strings and ``(a, b)`` pairs; default: the built-in corpus.  A text
            that cannot be scored (empty, longer than the model allows without
            ``truncate=True``, not a string) is left out and reported by index (a warning,
            and ``provenance["parameters"]["engine"]["rejected"]``); the scan goes on.
        engine: ``"ray"`` (Ray actors; ``pip install 'headlab[ray]'``) or ``"local"`` (this
            process: the same shards and merge, one worker).
        workers: Ray actors, each holding the model (default: one per CPU -- or per GPU when
            the model runs on ``"cuda"`` -- of the cluster).
        ray_address: cluster to join (``"auto"``, ``"ray://head:10001"``); default: the one
            this process is connected to, else a new local cluster, shut down at the end.
        keep_samples: gather every per-sample score (exactly the single-process report);
            False keeps only merged moments and Poisson-bootstrap accumulators (t test only;
            CIs from the Poisson bootstrap, docs/scale.md) when the scores would not fit.
        spill: write the gathered scores to memory-mapped files while the scan runs: True (a
            temporary folder, removed at the end) or a folder.
        shard_batches: batches of ``batch_size`` texts per shard (the unit of work and of retry).
        measure_size: texts per shard of the first pass (tokenising and checking).
        max_retries: how often a shard is scored again after its worker died; after that its
            texts are reported as rejected.
        worker_options: Ray actor options (``{"num_cpus": 4}``, ``{"num_gpus": 1}``, ...).
        progress: a progress bar across all workers; on_progress: called with a
            :class:`ScanProgress` whenever a shard finishes.

    Returns:
        ``hl.Report``; ``provenance["parameters"]["engine"]`` says how it was computed.
    """
    settings, stats_args = _check_options(engine, roles, method, alpha, correction, test, tau, min_effect,
                                          block_entropy, batch_size, truncate, seed, n_boot, keep_samples)
    workers = None if workers is None else V.integer("workers", workers, min=1, max=100_000, example=2)
    shard_batches = V.integer("shard_batches", shard_batches, min=1, max=100_000, example=4)
    measure_size = V.integer("measure_size", measure_size, min=1, max=10_000_000, example=256)
    max_retries = V.integer("max_retries", max_retries, min=0, max=100, example=2)
    V.flag("progress", progress)
    spec = ModelSpec.of(model)
    items = _as_list(texts)
    role_order = [r.id for r in resolve(settings.roles, "text")]   # unknown ids fail here, before any worker

    prog = Progress(progress, on_progress)
    if engine == "local":
        pool = LocalPool(spec, settings, prog)
    else:
        from headlab.engines.ray_engine import RayPool

        pool = RayPool(spec, settings, prog, workers=workers, address=ray_address, worker_options=worker_options,
                       max_retries=max_retries)
    try:
        info = pool.describe()
        lengths, rejected = _measure(pool, prog, items, measure_size)
        valid = np.flatnonzero(lengths >= 0)
        if valid.size == 0:
            raise InputError(f"None of the {len(items)} texts can be scored; the first: text {rejected[0].index}: "
                             f"{rejected[0].error} Fix or drop that text; if every text fails the same way, "
                             "check the options (e.g. pass truncate=True for long texts).")
        plan = plan_shards(valid, lengths[valid], settings.batch_size, shard_batches)
        # Longest shards first (the plan is sorted by length): the last shards to finish are
        # then the short ones, so workers finish close together.  A shard's contents do not
        # depend on when it runs; shards are made as they are handed out.
        shards = score_shards(plan, items, order=range(len(plan) - 1, -1, -1))
        prog.start("score", int(valid.size))
        shape = (info["n_layers"], info["n_heads"])
        if keep_samples:
            with SpillFolder(spill) as folder:
                store = ScoreStore(valid.size, shape, role_order, folder)
                row_of = np.full(len(items), -1, dtype=np.int64)
                row_of[valid] = np.arange(valid.size)
                given_up = pool.run("score", shards, on_result=lambda s, res: store.put(row_of[res[0]], res[1]))
                kept = store.filled
                arrays = {r: np.asarray(x)[kept] if not kept.all() else x for r, x in store.ordered().items()}
                ids = [sample_id(check_text(items[i])) for i in valid[kept]]     # as m.roles names them
                report = _finish(arrays, None, ids, info, settings, stats_args, rejected + given_up, items, spec,
                                 engine, pool, shard_batches)
        else:
            acc: dict = {}

            def merge(state):
                for role, (mom, boot) in state.items():
                    have = acc.get(role)
                    acc[role] = (mom, boot) if have is None else (have[0] + mom, have[1] + boot)

            given_up = pool.run("accumulate", shards, on_flush=merge)
            rank = {r: i for i, r in enumerate(role_order)}
            acc = {r: acc[r] for r in sorted(acc, key=lambda r: (rank.get(r, len(rank)), r))}
            n_scored = int(valid.size) - len(given_up)
            report = _finish(None, acc, n_scored, info, settings, stats_args, rejected + given_up, items, spec,
                             engine, pool, shard_batches)
    finally:
        pool.close()
    return report


def _check_options(engine, roles, method, alpha, correction, test, tau, min_effect, block_entropy, batch_size,
                   truncate, seed, n_boot, keep_samples):
    V.choice("engine", engine, ENGINES)
    V.choice("method", method, METHODS)
    alpha = V.number("alpha", alpha, lo=0.0, hi=1.0, lo_open=True, hi_open=True, example=0.05)
    tau = V.number("tau", tau, lo=0.0, example=3.0)
    min_effect = V.number("min_effect", min_effect, lo=-1.0, hi=1.0, hi_open=True, example=0.1)
    seed = V.seed(seed)
    n_boot = V.integer("n_boot", n_boot, min=2, max=1_000_000, example=2000)
    batch_size = V.integer("batch_size", batch_size, min=1, max=4096, example=16)
    V.flag("block_entropy", block_entropy)
    V.flag("truncate", truncate)
    V.flag("keep_samples", keep_samples)
    if correction is not None:
        V.choice("correction", correction, CORRECTIONS)
    if test is not None:
        V.choice("test", test, TESTS)
    if method == "pande":
        null, correction, test = tau, correction or "none", test or "t"
    else:
        null, correction, test = min_effect, correction or "fdr_bh", test or "t"
    if not keep_samples and test != "t":
        raise InputError(f"test={test!r} needs every per-sample score; with keep_samples=False only the t test "
                         "(from merged moments) is available. Use test='t' or keep_samples=True.")
    if isinstance(roles, str):
        roles = (roles,)
    elif roles is not None:
        roles = tuple(roles)
    settings = Settings(roles=roles, method=method, block_entropy=block_entropy, batch_size=batch_size,
                        truncate=truncate, keep_samples=keep_samples, n_boot=n_boot, seed=seed)
    stats_args = dict(null=null, correction=correction, test=test, alpha=alpha, tau=tau, min_effect=min_effect)
    return settings, stats_args


def _as_list(texts) -> list:
    if texts is None:
        return corpus.sentences() + corpus.pairs()
    one_pair = isinstance(texts, tuple) and len(texts) == 2 and all(isinstance(t, str) for t in texts)
    if isinstance(texts, str) or one_pair:
        return [texts]
    if not isinstance(texts, (list, tuple)):
        raise InputError(f"texts must be a list of strings and (a, b) pairs; got {V.describe(texts)}.")
    if not texts:
        raise InputError("No texts given: pass a non-empty list, or None for the built-in corpus.")
    return list(texts)


def _measure(pool, prog, items: list, size: int):
    """First pass: token counts (``-1`` = rejected) ``int64 [N]`` and the rejections."""
    lengths = np.full(len(items), -1, dtype=np.int64)
    rejected = []
    shards = measure_shards(items, size)
    prog.start("measure", len(items))

    def keep(shard, result):
        ok, bad = result
        for i, n in ok:
            lengths[i] = n
        rejected.extend(bad)
        prog.state.rejected += len(bad)

    given_up = pool.run("measure", shards, on_result=keep)
    return lengths, sorted(rejected + given_up, key=lambda r: r.index)


def _finish(arrays, acc, ids_or_n, info, settings: Settings, stats_args: dict, rejected: list, items: list,
            spec: ModelSpec, engine: str, pool, shard_batches: int) -> Report:
    rejected = sorted(rejected, key=lambda r: r.index)
    if rejected:
        shown = "; ".join(f"text {r.index}: {r.error.rstrip('.')}" for r in rejected[:3])
        more = f" (and {len(rejected) - 3} more)" if len(rejected) > 3 else ""
        warnings.warn(f"{len(rejected)} of {len(items)} texts could not be scored and are left out: {shown}{more}. "
                      "The report's provenance lists them (parameters.engine.rejected).", stacklevel=3)
    method = settings.method
    n_scored = len(ids_or_n) if arrays is not None else int(ids_or_n)
    engine_info = {"name": engine, "workers": getattr(pool, "n_workers", 1), "model": spec.as_dict(),
                   "is_causal": bool(info["is_causal"]),
                   "keep_samples": settings.keep_samples, "shard_texts": settings.batch_size * shard_batches,
                   "n_rejected": len(rejected), "rejected": [r.as_dict() for r in rejected[:MAX_LISTED]],
                   "retried_shards": pool.progress.state.retried, "failed_workers": pool.progress.state.failed_workers}
    params = {"roles": [], "tau": stats_args["tau"] if method == "pande" else None,
              "min_effect": stats_args["min_effect"] if method == "lift" else None,
              "block_entropy": settings.block_entropy if method == "pande" else None,
              "truncate": settings.truncate, "batch_size": settings.batch_size, "n_texts": n_scored,
              "n_pairs": None, "engine": engine_info}
    common = dict(method=method, null=stats_args["null"], alpha=stats_args["alpha"],
                  correction=stats_args["correction"], n_boot=settings.n_boot, seed=settings.seed,
                  model_name=info["name"])
    if arrays is not None:
        if not arrays:
            raise InputError("No role applied to any of the texts (e.g. block needs pairs or several sentences).")
        params["roles"] = list(arrays)
        params["n_pairs"] = _count_pairs(items, rejected)
        return Report.from_samples(arrays, alternative="greater", test=stats_args["test"], sample_ids=ids_or_n,
                                   params=params, **common)
    from headlab.engines.summary import report_from_statistics

    if not acc:
        raise InputError("No role applied to any of the texts (e.g. block needs pairs or several sentences).")
    params["roles"] = list(acc)
    params["n_pairs"] = _count_pairs(items, rejected)
    return report_from_statistics(acc, n_samples=n_scored, shape=(info["n_layers"], info["n_heads"]),
                                  alternative="greater", ci_level=0.95, params=params, **common)


def _count_pairs(items: list, rejected: list) -> int:
    out = {r.index for r in rejected}
    return sum(1 for i, t in enumerate(items) if i not in out and not isinstance(t, str))
