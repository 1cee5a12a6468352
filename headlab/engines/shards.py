"""Splitting a corpus into shards, scoring a shard on a worker, and gathering the scores.

A scan has two passes over the corpus (docs/scale.md, 'The engine'):

1. **measure** -- each worker tokenises a slice of the texts and returns the number of tokens
   of each, or why it cannot be scored (empty, too long, ...): the rejections, with the
   text's index in the corpus, never stop the scan;
2. **score** -- the valid texts are sorted by length, as ``m.stream`` batches them, and cut
   into shards of whole batches; each worker scores its shards with
   :func:`headlab.analyses.text_roles.role_samples`.  A shard is then made of exactly the
   batches the single-process run would form (same texts, same padding), so every
   per-sample score is the one ``m.roles`` computes, and the merged report equals the
   single-process report.

This module has no Ray in it: :class:`ShardScorer` is what each Ray actor holds, and the
local engine uses it directly.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass

import numpy as np

from headlab.errors import InputError
from headlab.stats import Moments, PoissonBootstrap, poisson_weights, sample_keys

__all__ = ["Rejection", "Settings", "Shard", "ShardScorer", "ScoreStore", "plan_shards", "measure_shards",
           "score_shards", "poisson_key", "preview"]


@dataclass(frozen=True)
class Rejection:
    """A text that was not scored: its index in the corpus and why."""

    index: int
    error: str
    text: str = ""

    def as_dict(self) -> dict:
        return {"index": self.index, "error": self.error, "text": self.text}


@dataclass(frozen=True)
class Settings:
    """What a worker needs besides the texts: the arguments of ``role_samples``, and for the
    streaming statistics the bootstrap's n_boot and seed."""

    roles: tuple | None = None
    method: str = "lift"
    block_entropy: bool = True
    batch_size: int = 16
    truncate: bool = False
    keep_samples: bool = True
    n_boot: int = 2000
    seed: int = 0


@dataclass(frozen=True)
class Shard:
    """A unit of work: texts with their positions in the corpus.

    Attributes:
        id: shard number (unique within a pass).
        index: positions of the texts in the corpus, ints ``[n]``.
        texts: the texts, in that order.
    """

    id: int
    index: tuple
    texts: tuple

    def __len__(self) -> int:
        return len(self.index)


def measure_shards(items: list, size: int):
    """Shards of ``size`` consecutive texts for the measure pass, made one at a time (the
    driver holds the corpus once, not a second time in shards)."""
    for k, start in enumerate(range(0, len(items), size)):
        stop = min(start + size, len(items))
        yield Shard(k, tuple(range(start, stop)), tuple(items[start:stop]))


def score_shards(plan: list[np.ndarray], items: list, order=None):
    """Shards of the score pass from :func:`plan_shards`' index arrays, made one at a time, the
    texts checked (pairs as tuples) as ``m.roles`` checks them; ``order`` the shard numbers to
    yield, in that order (default: all, in plan order)."""
    from headlab.text import check_text

    for k in (range(len(plan)) if order is None else order):
        idx = plan[k]
        yield Shard(int(k), tuple(int(i) for i in idx), tuple(check_text(items[i]) for i in idx))


def poisson_key(index: int, text) -> str:
    """The Poisson bootstrap's id of a text: its hash (:func:`sample_id`) and its position in
    the corpus, so repeated texts are resampled independently and a text's weights do not
    depend on the shard it lands in."""
    from headlab.analyses.text_roles import sample_id

    return f"{sample_id(text)}@{int(index)}"


def preview(text, width: int = 60) -> str:
    """The start of a text or pair, for a rejection message."""
    s = text if isinstance(text, str) else " | ".join(map(str, text)) if isinstance(text, (tuple, list)) else repr(text)
    return s if len(s) <= width else s[: width - 3] + "..."


def plan_shards(rows: np.ndarray, lengths: np.ndarray, batch_size: int, batches_per_shard: int) -> list[np.ndarray]:
    """Rows of the valid texts in the order ``m.stream`` batches them, cut into shards of
    ``batches_per_shard`` whole batches.

    ``lengths [n]`` are the token counts of ``rows [n]``.  ``make_batches`` sorts samples by
    length with a stable sort (ties in input order), so sorting by (length, row) and cutting
    at multiples of ``batch_size`` gives each shard exactly the batches of the
    single-process run; a worker's own stable sort leaves the shard's order as it is."""
    order = np.lexsort((rows, lengths))
    sorted_rows = np.asarray(rows)[order]
    step = batch_size * batches_per_shard
    return [sorted_rows[i:i + step] for i in range(0, len(sorted_rows), step)]


class ShardScorer:
    """A worker's state: the model (loaded once), the settings, and for the streaming statistics
    the running accumulators of every shard scored since the last :meth:`flush`."""

    def __init__(self, model, settings: Settings):
        self.m = model
        self.settings = settings
        self._acc: dict[str, tuple[Moments, PoissonBootstrap]] = {}

    def describe(self) -> dict:
        """Name and shape of the model, for the report."""
        return {"name": self.m.name, "n_layers": self.m.n_layers, "n_heads": self.m.n_heads,
                "is_causal": self.m.is_causal, "pid": os.getpid()}

    def measure(self, shard: Shard) -> tuple[list[tuple[int, int]], list[Rejection]]:
        """Tokens per text ``[(index, n_tokens)]`` and the texts that cannot be scored."""
        from headlab.text import check_text

        ok, bad = [], []
        for i, text in zip(shard.index, shard.texts):
            try:
                sample = self.m.tokenize([check_text(text)], truncate=self.settings.truncate)[0]
            except InputError as exc:   # empty, too long, not text, broken Unicode ...
                bad.append(Rejection(int(i), str(exc).partition("\n")[0], preview(text)))
            else:
                ok.append((int(i), len(sample)))
        return ok, bad

    def score(self, shard: Shard) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Per-sample scores of the shard: ``(rows int [n], {role: float32 [n, L, H]})``."""
        from headlab.analyses.text_roles import role_samples

        s = self.settings
        roles = list(s.roles) if s.roles else None
        try:
            per_role, _ = role_samples(self.m, list(shard.texts), roles, method=s.method,
                                       block_entropy=s.block_entropy, batch_size=s.batch_size, truncate=s.truncate)
        except InputError:
            if not self._roles_apply_to_model(roles):
                raise
            # The roles suit the model but none applies to this shard's texts (e.g. "block"
            # alone on a shard of single sentences): NaN rows, as role_samples gives them
            # inside a larger corpus.
            per_role = {}
        return np.asarray(shard.index, dtype=np.int64), {r: np.ascontiguousarray(x, dtype=np.float32)
                                                           for r, x in per_role.items()}

    def _roles_apply_to_model(self, roles) -> bool:
        from headlab.analyses import text_roles

        try:
            text_roles._select_roles(self.m, roles)     # the model-level check of role_samples
        except InputError:
            return False
        except AttributeError:                          # no such helper: treat every error as real
            return False
        return True

    def accumulate(self, shard: Shard) -> int:
        """Score the shard and fold it into this worker's moments and Poisson accumulators
        (the per-sample scores are dropped); returns the number of texts."""
        _, per_role = self.score(shard)
        s = self.settings
        ids = [poisson_key(i, t) for i, t in zip(shard.index, shard.texts)]
        weights = poisson_weights(sample_keys(ids), s.n_boot, s.seed)       # [n, n_boot], shared by the roles
        for role, x in per_role.items():
            part = (Moments.of(x), PoissonBootstrap.of(x, ids, n_boot=s.n_boot, seed=s.seed, weights=weights))
            have = self._acc.get(role)
            self._acc[role] = part if have is None else (have[0] + part[0], have[1] + part[1])
        return len(shard)

    def flush(self) -> dict[str, tuple[Moments, PoissonBootstrap]]:
        """The accumulators of everything scored since the last flush, and a fresh start."""
        out, self._acc = self._acc, {}
        return out


class ScoreStore:
    """The driver's per-sample scores, ``{role: float32 [N, L, H]}``, filled shard by shard.

    Rows are written once each (a second write of a row is a bug in the engine and raises);
    in memory, or as memory-mapped ``.npy`` files in ``folder`` (then the driver's resident
    memory does not grow with the corpus while the scan runs).  Roles appear when a shard
    first returns them; rows of shards without a role stay NaN (not applicable), as in
    ``role_samples``.
    """

    def __init__(self, n_rows: int, shape: tuple[int, int], role_order: list[str], folder: str | None = None):
        self.n_rows, self.shape = int(n_rows), tuple(shape)
        self.rank = {r: i for i, r in enumerate(role_order)}
        self.folder = folder
        self.filled = np.zeros(self.n_rows, dtype=bool)
        self.arrays: dict[str, np.ndarray] = {}

    def _array(self, role: str) -> np.ndarray:
        if role not in self.arrays:
            shape = (self.n_rows, *self.shape)
            if self.folder is None:
                arr = np.full(shape, np.nan, dtype=np.float32)
            else:
                path = os.path.join(self.folder, f"role{len(self.arrays)}.npy")
                arr = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=shape)
                arr[:] = np.nan
            self.arrays[role] = arr
        return self.arrays[role]

    def put(self, rows: np.ndarray, per_role: dict[str, np.ndarray]) -> None:
        if self.filled[rows].any():
            raise RuntimeError(f"rows {rows[self.filled[rows]][:5].tolist()} were scored twice; "
                               "this is a bug in headlab's engine, please report it")
        for role, x in per_role.items():
            if x.shape != (len(rows), *self.shape):
                raise RuntimeError(f"a worker returned {x.shape} scores for {len(rows)} texts of a "
                                   f"{self.shape} model: do all workers load the same model?")
            self._array(role)[rows] = x
        self.filled[rows] = True

    def missing(self) -> np.ndarray:
        return np.flatnonzero(~self.filled)

    def ordered(self) -> dict[str, np.ndarray]:
        """The arrays in the order ``role_samples`` gives roles (registry order)."""
        big = len(self.rank)
        roles = sorted(self.arrays, key=lambda r: (self.rank.get(r, big), r))
        return {r: self.arrays[r] for r in roles}


class SpillFolder:
    """A temporary folder for :class:`ScoreStore` that is removed when the scan ends."""

    def __init__(self, spill):
        self.path = None
        if spill is True:
            self.path = tempfile.mkdtemp(prefix="headlab-scan-")
            self._own = True
        elif spill:
            self.path = os.fspath(spill)
            os.makedirs(self.path, exist_ok=True)
            self._own = False

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        if self.path and self._own:
            shutil.rmtree(self.path, ignore_errors=True)
