"""Natural-text sieves: functions ``f(sample) -> shape`` giving each query's keys ``S_i``.

Each returns a structured shape (``headlab.scores.structured``: ``Band``, ``Keys``, ``Blocks``,
``Pairs``) rather than a dense bool ``[T, T]`` matrix, so a long input costs ``O(T)`` memory per
role instead of ``O(T^2)``; ``shape.dense(T)`` gives the matrix (the tests hold each shape to it).

Definitions follow Pande et al. (2021)'s code (github.com/iitmnlp/heads-hypothesis) where it
has one (local ±2 band including the token itself; delimiter = [CLS] + [SEP]s; block = same
segment) and Clark et al. (2019) for the surface types (previous, next, self, punctuation).
Differences from the authors' code, on purpose:
- the local band uses exact sizes at the edges (their code counts one token too many for the
  last two tokens);
- every position comes from the tokenizer's own offsets and word ids, never from searching
  token strings.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from headlab.roles import SieveResult
from headlab.scores.shapes import Band, Blocks, Keys, Pairs
from headlab.text import Sample


def local(sample: Sample, window: int = 2) -> Band:
    """Keys within ``window`` positions of the query, the query itself included."""
    return Band(-window, window)


def offset(k: int):
    """Sieve of the single key at relative position ``k`` (-1 previous, +1 next, 0 self)."""

    def sieve(sample: Sample) -> Band:
        return Band(k, k)

    return sieve


def _specials(sample: Sample) -> np.ndarray:
    return np.flatnonzero(sample.special_mask)


def _keys(keys) -> Keys | None:
    keys = tuple(int(k) for k in keys)
    return Keys(keys) if keys else None


def delimiter(sample: Sample) -> Keys | None:
    """Every special token the tokenizer added ([CLS] and the [SEP]s; BOS/EOS elsewhere)."""
    return _keys(_specials(sample))


def cls(sample: Sample) -> Keys | None:
    """The leading special token ([CLS], ``<s>``), when the tokenizer adds one."""
    return _keys([0]) if len(sample) and sample.special_mask[0] else None


def sep(sample: Sample) -> Keys | None:
    """The separator tokens: special tokens after the first position."""
    return _keys(i for i in _specials(sample) if i > 0)


def bos(sample: Sample) -> Keys | None:
    """The first token of the input (the attention-sink position of causal models)."""
    return _keys([0])


_SENTENCE = re.compile(r"[^.!?]+(?:[.!?]+|$)")


def _blocks(sample: Sample) -> np.ndarray:
    """Block id per token: the segment for pairs, else the sentence (split at . ! ?)."""
    T = len(sample)
    block = np.full(T, -1, dtype=np.int64)
    if sample.is_pair:
        real = ~sample.special_mask
        block[real] = sample.segment_ids[real]
    else:
        text = sample.segments[0]
        starts = [m.start() for m in _SENTENCE.finditer(text) if m.group().strip()]
        has = np.array([span is not None for span in sample.spans], dtype=bool)
        first = np.array([span[0] if span is not None else 0 for span in sample.spans], dtype=np.int64)
        block[has] = np.maximum(0, np.searchsorted(starts, first[has], side="right") - 1)
    # Specials join the block of the next real token, else the previous one: [CLS] goes with
    # the first block and the first [SEP] with the second, as in Pande et al.'s code.
    # (Vectorised: the next real token's block by a backward fill, the previous one's by a
    # forward fill.)
    real = block >= 0
    if real.any():
        pos = np.arange(T)
        nxt = np.where(real, pos, T)
        nxt = np.minimum.accumulate(nxt[::-1])[::-1]
        prv = np.maximum.accumulate(np.where(real, pos, -1))
        fill = np.where(nxt < T, block[np.minimum(nxt, T - 1)], block[np.maximum(prv, 0)])
        block = np.where(real, block, fill)
    else:
        block[:] = 0
    return block


def block(sample: Sample) -> Blocks | None:
    """Real tokens of the query's own block (segment of a pair, or sentence of a text).

    Applies only to samples with at least two blocks; otherwise it would be "everything".
    """
    b = _blocks(sample)
    if len(np.unique(b)) < 2:
        return None
    return Blocks(tuple(int(x) for x in b), tuple(bool(x) for x in ~sample.special_mask))


def _is_punct(s: str) -> bool:
    return bool(s) and all(unicodedata.category(c).startswith("P") for c in s)


def punctuation(sample: Sample) -> Keys | None:
    """Keys that are punctuation tokens (every character a Unicode punctuation mark)."""
    keys = []
    for t, span in enumerate(sample.spans):
        if span is None:
            continue
        seg = sample.segments[int(sample.segment_ids[t])]
        if _is_punct(seg[span[0]:span[1]]):
            keys.append(t)
    return _keys(keys)


def as_word_sieve(sample: Sample, arcs: list[tuple[list[int], list[int]]]) -> SieveResult | None:
    """Sieve from word-level arcs ``(query pieces, key pieces)``.

    Attention *to* a word is the sum over its pieces (the sieve holds all of them); *from* a
    word is the mean over its pieces (each query piece weighs 1/|pieces|) — Clark et al.
    (2019)'s word-level convention. A query word with several arcs (a head with two ``amod``
    dependents, say) has the union of their key words as its sieve.
    """
    if not arcs:
        return None
    T = len(sample)
    pairs: set[tuple[int, int]] = set()
    qw = np.zeros(T, dtype=np.float64)
    for queries, keys in arcs:
        if not queries or not keys:
            continue
        pairs.update((q, k) for q in queries for k in keys)
        qw[queries] = 1.0 / len(queries)
    if not pairs:
        return None
    q, k = zip(*sorted(pairs))
    return SieveResult(Pairs(q, k), qw)
