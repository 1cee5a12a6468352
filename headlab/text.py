"""A sample's annotation: tokens, words, character spans, special tokens, segments.

Everything a role needs to build its sieve comes from here, never from string search over
token text: word membership is the tokenizer's own word id, and character spans are the
tokenizer's offsets, so repeated words and odd word pieces cannot be mis-aligned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence, Union

import numpy as np

from headlab.errors import InputError, TooLongError, UnsupportedModelError

Text = Union[str, tuple[str, str]]


@dataclass
class Sample:
    """One tokenised input (a text, or a sentence pair for encoders).

    Attributes (``T`` = number of tokens, special tokens included):
        text: the input as given (a string, or an ``(a, b)`` pair).
        input_ids: ``[T]`` token ids.
        tokens: ``[T]`` token strings as the tokenizer spells them.
        word_ids: ``[T]`` word index (unique across both segments of a pair), ``None`` for
            special tokens.
        spans: ``[T]`` character span ``(start, end)`` into the segment text, ``None`` for
            special tokens.
        special_mask: bool ``[T]``, True for tokens the tokenizer added ([CLS], [SEP], BOS...).
        segment_ids: int ``[T]``: 0 for the first text, 1 for the second of a pair; special
            tokens take the segment of the text they close ([CLS] and the first [SEP] → 0).
        truncated: whether tokens were dropped to fit the model.
    """

    text: Text
    input_ids: list[int]
    tokens: list[str]
    word_ids: list[int | None]
    spans: list[tuple[int, int] | None]
    special_mask: np.ndarray
    segment_ids: np.ndarray
    truncated: bool = False
    token_type_ids: list[int] | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def is_pair(self) -> bool:
        return isinstance(self.text, tuple)

    @property
    def segments(self) -> tuple[str, ...]:
        """The input texts: one string, or the two sides of a pair."""
        return self.text if isinstance(self.text, tuple) else (self.text,)

    @property
    def n_words(self) -> int:
        ids = [w for w in self.word_ids if w is not None]
        return (max(ids) + 1) if ids else 0

    @property
    def words(self) -> list[str]:
        """Word strings, from the character spans of their pieces."""
        out: dict[int, tuple[int, int, int]] = {}
        for t, w in enumerate(self.word_ids):
            if w is None or self.spans[t] is None:
                continue
            s, e = self.spans[t]
            seg = int(self.segment_ids[t])
            if w in out:
                out[w] = (seg, min(out[w][1], s), max(out[w][2], e))
            else:
                out[w] = (seg, s, e)
        return [self.segments[seg][s:e] for _, (seg, s, e) in sorted(out.items())]


def _encodable(text: str) -> str:
    """Refuse strings that are not valid Unicode text (lone surrogates from broken decoding)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise InputError(
            f"The text has a character that is not valid Unicode at position {err.start} ({text[err.start]!r}, "
            "a lone surrogate, usually from decoding bytes with errors='surrogateescape'). Decode the text "
            "as UTF-8, or drop that character: text.encode('utf-8', 'replace').decode()."
        ) from None
    return text


def check_text(text: Any) -> Text:
    """Validate one input: a non-empty string, or a pair of non-empty strings."""
    if isinstance(text, str):
        if not text.strip():
            raise InputError("Empty text: give at least one word to analyse.")
        return _encodable(text)
    if isinstance(text, (tuple, list)) and len(text) == 2 and all(isinstance(t, str) for t in text):
        if not text[0].strip() or not text[1].strip():
            raise InputError("A sentence pair has an empty side: give both texts at least one word.")
        return (_encodable(text[0]), _encodable(text[1]))
    raise InputError(
        f"Expected a string or a (text_a, text_b) pair of strings, got {type(text).__name__}. "
        "Pass m.attention('some text') or m.attention(('text a', 'text b'))."
    )


def check_texts(texts: Any) -> tuple[list[Text], bool]:
    """Normalise ``text | pair | list of them`` to a list; also say whether one item was given."""
    if isinstance(texts, str) or (isinstance(texts, tuple) and len(texts) == 2 and all(isinstance(t, str) for t in texts)):
        return [check_text(texts)], True
    if isinstance(texts, (list, tuple)):
        if not texts:
            raise InputError("No texts given: pass a string or a non-empty list of strings.")
        return [check_text(t) for t in texts], False
    return [check_text(texts)], True


def tokenize(tokenizer, text: Text, max_length: int, truncate: bool = False) -> Sample:
    """Tokenise one input with offsets, word ids, special tokens and segments.

    Raises ``TooLongError`` when the input needs more than ``max_length`` positions, unless
    ``truncate`` is set (then the longest side is cut and ``Sample.truncated`` is True).
    """
    if not getattr(tokenizer, "is_fast", False):
        raise UnsupportedModelError(
            "headlab needs a fast (Rust) tokenizer to map tokens to characters; "
            "load it with AutoTokenizer.from_pretrained(..., use_fast=True)."
        )
    args = (text,) if isinstance(text, str) else (text[0], text[1])
    kwargs = dict(
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
        return_token_type_ids=True,
    )
    enc = tokenizer(*args, truncation=False, **kwargs)
    n = len(enc["input_ids"])
    truncated = False
    if n > max_length:
        if not truncate:
            raise TooLongError(
                f"The input has {n} tokens but this model allows at most {max_length}. "
                "Shorten the text, or pass truncate=True to keep the first "
                f"{max_length} tokens."
            )
        strategy = "longest_first"
        enc = tokenizer(*args, truncation=strategy, max_length=max_length, **kwargs)
        truncated = True
    if len(enc["input_ids"]) == 0:
        raise InputError("The tokenizer produced no tokens for this text; check that the model's tokenizer covers "
                         "its characters, or pass another text.")

    seq_ids = enc.sequence_ids()
    raw_word_ids = enc.word_ids()
    special = np.array(enc["special_tokens_mask"], dtype=bool)
    # Some tokenizers leave special_tokens_mask empty for added BOS tokens: sequence id None
    # is the reliable signal.
    special |= np.array([s is None for s in seq_ids], dtype=bool)

    # Segment of each token; specials take the segment of the text they follow ([CLS] -> 0).
    segments = np.zeros(len(seq_ids), dtype=np.int64)
    current = 0
    for t, s in enumerate(seq_ids):
        if s is not None:
            current = s
        segments[t] = current
    # A separator that closes segment 0 stays in segment 0 (as Pande et al.'s block sieve does
    # for queries before the first [SEP]); tokens after it belong to segment 1.

    word_ids: list[int | None] = []
    spans: list[tuple[int, int] | None] = []
    offset_b = 1 + max([w for w, s in zip(raw_word_ids, seq_ids) if s == 0 and w is not None], default=-1)
    for t, (w, s) in enumerate(zip(raw_word_ids, seq_ids)):
        if special[t] or w is None:
            word_ids.append(None)
            spans.append(None)
            continue
        word_ids.append(int(w) + (offset_b if s == 1 else 0))
        a, b = enc["offset_mapping"][t]
        spans.append((int(a), int(b)))
    # Renumber words densely in order of appearance (some tokenizers skip ids).
    remap: dict[int, int] = {}
    for w in word_ids:
        if w is not None and w not in remap:
            remap[w] = len(remap)
    word_ids = [None if w is None else remap[w] for w in word_ids]

    tt = enc.get("token_type_ids")
    return Sample(
        text=text,
        input_ids=list(enc["input_ids"]),
        tokens=tokenizer.convert_ids_to_tokens(enc["input_ids"]),
        word_ids=word_ids,
        spans=spans,
        special_mask=special,
        segment_ids=segments,
        truncated=truncated,
        token_type_ids=list(tt) if tt is not None else None,
    )


def word_groups(sample: Sample) -> list[np.ndarray]:
    """Token indices of each word, in word order (Clark et al.'s word-level conversion)."""
    groups: list[list[int]] = [[] for _ in range(sample.n_words)]
    for t, w in enumerate(sample.word_ids):
        if w is not None:
            groups[w].append(t)
    return [np.asarray(g, dtype=np.int64) for g in groups]


def word_level(weights: np.ndarray, sample: Sample) -> np.ndarray:
    """Convert token-level attention ``[..., T, T]`` to word level ``[..., W, W]``.

    Following Clark et al. (2019, ``bpe_utils.get_word_word_attention``): attention *to* a
    word is the sum over its pieces, attention *from* a word is the mean over its pieces.
    Special tokens are dropped, so rows sum to the mass left on real words.
    """
    groups = word_groups(sample)
    T = weights.shape[-1]
    W = len(groups)
    to_word = np.zeros((T, W), dtype=weights.dtype)       # sums pieces of the key word
    from_word = np.zeros((W, T), dtype=weights.dtype)     # averages pieces of the query word
    for w, g in enumerate(groups):
        to_word[g, w] = 1.0
        from_word[w, g] = 1.0 / len(g)
    return from_word @ weights @ to_word


#: texts per batched tokenizer call when a corpus's lengths are measured (Python keeps the pages
#: of a call's id lists afterwards: 6 MB at 32 texts of 640 tokens, 27 MB at 256)
LENGTH_BATCH = 32


def _lengths(tokenizer, texts: list[Text], max_length: int, truncate: bool) -> np.ndarray:
    """Token count of every text, int ``[N]``, as ``tokenize`` would make it.

    Batched tokenizer calls, ``LENGTH_BATCH`` texts of one kind (single texts, pairs) at a time,
    instead of a full ``tokenize`` per text: lengths need none of the offsets and word ids, and
    a bounded batch keeps the ids of a large corpus from being held at once. Texts that are
    empty after tokenising or too long go through ``tokenize``, which raises its error or
    truncates.
    """
    lengths = np.zeros(len(texts), dtype=np.int64)
    if not getattr(tokenizer, "is_fast", False):
        tokenize(tokenizer, texts[0], max_length, truncate)       # raises the tokenizer error
    for pairs in (False, True):
        kind = [i for i, t in enumerate(texts) if isinstance(t, tuple) == pairs]
        for a in range(0, len(kind), LENGTH_BATCH):
            idx = kind[a:a + LENGTH_BATCH]
            args = ([texts[i][0] for i in idx], [texts[i][1] for i in idx]) if pairs else ([texts[i] for i in idx],)
            ids = tokenizer(*args, truncation=False, verbose=False)["input_ids"]
            lengths[idx] = [len(x) for x in ids]
    for i in np.flatnonzero((lengths == 0) | (lengths > max_length)):
        lengths[i] = len(tokenize(tokenizer, texts[i], max_length, truncate))
    return lengths


class LazySamples(Sequence):
    """A corpus as a sequence of ``Sample`` objects that are made when they are read.

    Every text is checked and tokenised once up front, so a bad text fails before any work
    and ``lengths`` (int ``[N]``) is known; only the texts and their lengths are kept. A
    ``Sample`` of a 512-token text holds about 100 kB of Python lists (ids, token strings,
    spans), so keeping all of them made memory grow with the corpus; reading one tokenises
    its text again (a fraction of a millisecond with a fast tokenizer).
    """

    def __init__(self, tokenizer, texts: Any, max_length: int, truncate: bool = False):
        self.texts, _ = check_texts(texts)
        self._args = (tokenizer, max_length, truncate)
        self.lengths = _lengths(tokenizer, self.texts, max_length, truncate)

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        tokenizer, max_length, truncate = self._args
        return tokenize(tokenizer, self.texts[i], max_length, truncate)

    def by_length(self) -> list[int]:
        """Indices sorted by length, ties in corpus order (the order ``make_batches`` uses)."""
        return np.argsort(self.lengths, kind="stable").tolist()
