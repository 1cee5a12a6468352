"""Natural-text sieves: functions ``f(sample) -> bool [T, T]`` (row = query, True = key in S_i).

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
from headlab.text import Sample


def local(sample: Sample, window: int = 2) -> np.ndarray:
    """Keys within ``window`` positions of the query, the query itself included."""
    T = len(sample)
    idx = np.arange(T)
    return np.abs(idx[:, None] - idx[None, :]) <= window


def offset(k: int):
    """Sieve of the single key at relative position ``k`` (−1 previous, +1 next, 0 self)."""

    def sieve(sample: Sample) -> np.ndarray:
        return np.eye(len(sample), k=k, dtype=bool)

    return sieve


def _specials(sample: Sample) -> np.ndarray:
    return np.flatnonzero(sample.special_mask)


def _columns(sample: Sample, keys) -> np.ndarray | None:
    keys = np.asarray(keys, dtype=np.int64)
    if keys.size == 0:
        return None
    T = len(sample)
    sieve = np.zeros((T, T), dtype=bool)
    sieve[:, keys] = True
    return sieve


def delimiter(sample: Sample) -> np.ndarray | None:
    """Every special token the tokenizer added ([CLS] and the [SEP]s; BOS/EOS elsewhere)."""
    return _columns(sample, _specials(sample))


def cls(sample: Sample) -> np.ndarray | None:
    """The leading special token ([CLS], ``<s>``), when the tokenizer adds one."""
    return _columns(sample, [0]) if len(sample) and sample.special_mask[0] else None


def sep(sample: Sample) -> np.ndarray | None:
    """The separator tokens: special tokens after the first position."""
    return _columns(sample, [i for i in _specials(sample) if i > 0])


def bos(sample: Sample) -> np.ndarray | None:
    """The first token of the input (the attention-sink position of causal models)."""
    return _columns(sample, [0])


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
        for t, span in enumerate(sample.spans):
            if span is not None:
                block[t] = max(0, int(np.searchsorted(starts, span[0], side="right")) - 1)
    # Specials join the block of the next real token, else the previous one: [CLS] goes with
    # the first block and the first [SEP] with the second, as in Pande et al.'s code.
    real = np.flatnonzero(block >= 0)
    for t in np.flatnonzero(block < 0):
        after = real[real > t]
        before = real[real < t]
        block[t] = block[after[0]] if after.size else (block[before[-1]] if before.size else 0)
    return block


def block(sample: Sample) -> np.ndarray | None:
    """Real tokens of the query's own block (segment of a pair, or sentence of a text).

    Applies only to samples with at least two blocks; otherwise it would be "everything".
    """
    b = _blocks(sample)
    if len(np.unique(b)) < 2:
        return None
    real = ~sample.special_mask
    return (b[:, None] == b[None, :]) & real[None, :]


def _is_punct(s: str) -> bool:
    return bool(s) and all(unicodedata.category(c).startswith("P") for c in s)


def punctuation(sample: Sample) -> np.ndarray | None:
    """Keys that are punctuation tokens (every character a Unicode punctuation mark)."""
    keys = []
    for t, span in enumerate(sample.spans):
        if span is None:
            continue
        seg = sample.segments[int(sample.segment_ids[t])]
        if _is_punct(seg[span[0]:span[1]]):
            keys.append(t)
    return _columns(sample, keys)


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
    sieve = np.zeros((T, T), dtype=bool)
    qw = np.zeros(T, dtype=np.float64)
    for queries, keys in arcs:
        if not queries or not keys:
            continue
        for q in queries:
            sieve[q, keys] = True
        qw[queries] = 1.0 / len(queries)
    if not sieve.any():
        return None
    return SieveResult(sieve, qw)
