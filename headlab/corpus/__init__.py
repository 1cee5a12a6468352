"""headlab's built-in English corpus.

This text was written for headlab, from scratch; none of it is copied from another source,
so it can ship with the package under headlab's own licence. It exists so that head roles can
be measured without the user bringing any data: ``m.roles(hl.corpus.sentences())`` works offline.

It is built to give every natural-text role something to find on a BERT-style encoder such as
all-MiniLM-L6-v2 (max 512 positions; the longest line is far below that):

- ``sentences()``: 446 single lines of English across many topics (science, cooking, sport,
  travel, work, school, nature, history-style fiction, technology, feelings, city life, health,
  the arts, family).  Lengths run from 2 to 43 words on purpose (short and long sentences both
  matter for length-dependent scores).  The lines mix declaratives, questions, imperatives,
  exclamations, passives, relative clauses, coordination, comma lists, quotations, parentheses,
  numbers and dates, contractions, possessives, hyphenated words, rare long words that split
  into several word pieces, words repeated within a line, proper names, and some lines that
  hold two or three sentences (so a same-sentence ``block`` role has boundaries to find).
  Parsed with spaCy's ``en_core_web_sm``, each of nsubj, dobj, amod, advmod, det, prep and pobj
  occurs in at least 100 lines (checked by ``tests/test_corpus.py``).
- ``pairs()``: 210 sentence pairs ``(a, b)`` for two-segment inputs
  (``[CLS] a [SEP] b [SEP]``), each side 4 to 30 words, with a kind per pair from
  :data:`PAIR_KINDS` (35 of each), available aligned from ``pair_kinds()``.

The file order is a fixed shuffle, so the first ``n`` lines already mix topics, lengths and
(for pairs) kinds.  The data live next to this module as ``sentences.txt`` (UTF-8, one line per
sample) and ``pairs.jsonl`` (one ``{"a": ..., "b": ..., "kind": ...}`` object per line).
"""

from __future__ import annotations

import json
import random
from functools import lru_cache
from importlib import resources

from headlab.errors import InputError

__all__ = ["PAIR_KINDS", "sentences", "pairs", "pair_kinds"]

#: The kinds a pair can have, and what they mean.
PAIR_KINDS: dict[str, str] = {
    "paraphrase": "b says the same thing as a in other words",
    "entailment": "a (premise) implies b (hypothesis)",
    "contradiction": "a and b cannot both be true",
    "negation": "b is a with a negation added (or the negation turned around)",
    "qa": "a is a question and b answers it",
    "unrelated": "a and b are about different things",
}


@lru_cache(maxsize=1)
def _sentences() -> tuple[str, ...]:
    text = resources.files(__name__).joinpath("sentences.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


@lru_cache(maxsize=1)
def _pairs() -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    text = resources.files(__name__).joinpath("pairs.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    return (
        tuple((str(r["a"]), str(r["b"])) for r in rows),
        tuple(str(r["kind"]) for r in rows),
    )


def _indices(total: int, n: int | None, seed: int | None, what: str) -> list[int]:
    """Which items to return: all, the first n, or a seeded sample of n without replacement."""
    if n is None:
        if seed is not None:
            # A seed alone shuffles everything; same seed, same order.
            idx = list(range(total))
            random.Random(seed).shuffle(idx)
            return idx
        return list(range(total))
    if isinstance(n, bool) or not isinstance(n, int):
        raise InputError(f"n must be a whole number from 1 to {total} (the corpus has {total} {what}); got {n!r}. "
                         f"Pass e.g. n={min(total, 100)}, or n=None for all.")
    if n < 1 or n > total:
        raise InputError(
            f"n must be from 1 to {total}: the built-in corpus has {total} {what}; got n={n}. "
            f"Pass n=None for all of them."
        )
    if seed is None:
        return list(range(n))
    return random.Random(seed).sample(range(total), n)


def sentences(n: int | None = None, seed: int | None = None) -> list[str]:
    """English sentences written for headlab, for measuring natural-text head roles.

    Args:
        n: how many to return.  ``None`` (default) returns all of them.
        seed: without it, the first ``n`` lines in file order; with it, a reproducible random
            sample of ``n`` lines without replacement (the same seed gives the same sample).
            A seed with ``n=None`` returns every line in a seeded order.

    Returns:
        A new list of strings, each one line of the corpus (some lines hold more than one
        sentence, e.g. ``"It rained all morning. We stayed inside and played cards."``).

    Raises:
        InputError: ``n`` is below 1 or above the number of sentences available.
    """
    data = _sentences()
    return [data[i] for i in _indices(len(data), n, seed, "sentences")]


def pairs(n: int | None = None, seed: int | None = None) -> list[tuple[str, str]]:
    """Sentence pairs ``(a, b)`` written for headlab, for two-segment inputs.

    Each pair is a paraphrase, entailment, contradiction, negation, question-answer or
    unrelated pair (see :data:`PAIR_KINDS` and :func:`pair_kinds`).  ``n`` and ``seed`` work as
    in :func:`sentences`; for the kinds of a sample, call ``pair_kinds()`` and index it the
    same ``n`` and ``seed``: ``pair_kinds(n, seed)`` lines up with ``pairs(n, seed)``.

    Raises:
        InputError: ``n`` is below 1 or above the number of pairs available.
    """
    data, _ = _pairs()
    return [data[i] for i in _indices(len(data), n, seed, "pairs")]


def pair_kinds(n: int | None = None, seed: int | None = None) -> list[str]:
    """The kind of each pair, aligned with ``pairs(n, seed)`` for the same ``n`` and ``seed``.

    With no arguments, the kinds of all pairs in file order.  Every value is a key of
    :data:`PAIR_KINDS`.

    Raises:
        InputError: ``n`` is below 1 or above the number of pairs available.
    """
    _, kinds = _pairs()
    return [kinds[i] for i in _indices(len(kinds), n, seed, "pairs")]
