"""Seeded generators of probe data for decoder head roles.

Probes are token-id sequences drawn from the model's own vocabulary, not text, so they never
depend on how a tokenizer splits words:

* :func:`repeated_tokens` — Olsson et al. 2022's induction probe: ``[BOS] r_1..r_n`` repeated
  ``repeats`` times (25 random tokens × 4 by default), the tokens of a run all different.
  Previous-token, duplicate-token, induction, sink and copying scores are all read from one
  forward pass over it (copying at the queries after the first run).
* :func:`random_tokens` — one run, no repeats.
* :func:`needle_haystack` — Wu et al. 2024's needle-in-a-haystack probe in miniature:
  random "haystack" tokens, a *needle* span introduced by a marker token, and the marker again
  at the end as the cue; a model that retrieves continues with the needle.

Random tokens exclude special tokens and, following Olsson et al. ("excluding the most common
and the least common tokens"), the lowest and highest ``skip`` fraction of the remaining ids:
for BPE vocabularies (merge order) and headlab's zoo models (words by frequency) the id order
approximates the frequency rank. Pass ``vocab=`` (a list of ids) to choose the pool yourself.

Every generator takes a ``seed`` (same call → same probes) and checks the model's positions:
by default a probe that needs more positions than ``max_length`` raises ``TooLongError``;
with ``fit=True`` the run (or haystack) is shortened until it fits, and ``params`` records
the length used. ``m.detect`` fits its *default* lengths and refuses lengths you name.

Tokenizers without a BOS token: probes for causal models then start directly with a random
token (position 0 is whatever comes first; ``has_bos`` is False, so ``exclude_bos`` does not
apply and the sink score measures attention to that first random token, as Gu et al. define
it); encoders without BOS start with ``[CLS]`` when the tokenizer has one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from headlab.errors import InputError, TooLongError
from headlab.text import Sample

__all__ = ["ProbeSet", "repeated_tokens", "random_tokens", "needle_haystack", "token_pool", "start_token"]


@dataclass
class ProbeSet:
    """A batch of generated probes, all of the same length.

    Attributes (``N`` probes of ``T`` tokens):
        kind: ``"repeated"`` or ``"needle"``.
        input_ids: int64 ``[N, T]`` — what detection runs the model on.
        samples: ``N`` :class:`headlab.text.Sample` objects built from the ids.
        has_bos: whether position 0 is a start token (BOS, or [CLS] for encoders).
        lm_ids: int64 ``[N, T']`` — the sequence teacher-forced for the loss metric of
            ablations (the probe itself for repeated tokens; prompt + needle for needle probes).
        loss_mask: bool ``[N, T']`` — positions whose token's next-token loss counts: every
            token after the first run except the first token of the second run (the ones
            induction can predict), or the needle answer.
        needle: ``(start, end)`` of the needle per probe, int ``[N, 2]`` (needle probes only).
        answer: int64 ``[N, k]`` — the needle tokens a retrieving model should generate.
        params: the generator's settings (``seed``, ``length``, ``repeats``, ``fitted``...).
    """

    kind: str
    input_ids: np.ndarray
    samples: list[Sample]
    has_bos: bool
    lm_ids: np.ndarray
    loss_mask: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)
    needle: np.ndarray | None = None
    answer: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def length(self) -> int:
        """Tokens per probe (``T``)."""
        return int(self.input_ids.shape[1])

    def __repr__(self) -> str:
        extra = ", ".join(f"{k}={v}" for k, v in self.params.items() if k in ("length", "repeats", "haystack", "needle", "seed"))
        return f"ProbeSet({self.kind!r}, n={len(self)}, T={self.length}, bos={self.has_bos}, {extra})"


# ----------------------------------------------------------------------------- helpers
def _parts(model_or_tokenizer):
    """(tokenizer, max_length, is_causal) from a HeadModel or a bare tokenizer."""
    tok = getattr(model_or_tokenizer, "tokenizer", None)
    if tok is not None and hasattr(model_or_tokenizer, "max_length"):
        return tok, int(model_or_tokenizer.max_length), bool(getattr(model_or_tokenizer, "is_causal", True))
    tok = model_or_tokenizer
    if not hasattr(tok, "convert_ids_to_tokens"):
        raise InputError("Pass a HeadModel (hl.load(...)) or a transformers tokenizer.")
    mx = getattr(tok, "model_max_length", None)
    return tok, int(mx) if mx and mx < 1_000_000 else 1_000_000, True


def start_token(tokenizer, causal: bool = True) -> int | None:
    """The id a probe starts with: BOS; for encoders without BOS, [CLS]; else None."""
    bos = getattr(tokenizer, "bos_token_id", None)
    if bos is not None:
        return int(bos)
    if not causal and getattr(tokenizer, "cls_token_id", None) is not None:
        return int(tokenizer.cls_token_id)
    return None


def token_pool(tokenizer, skip: float = 0.05) -> np.ndarray:
    """Candidate ids for random probe tokens: no special tokens, and without the lowest and
    highest ``skip`` fraction of the remaining ids (Olsson et al.'s exclusion of the most and
    least common tokens, with id order standing in for frequency rank)."""
    if not 0 <= skip < 0.5:
        raise InputError(f"skip must lie in [0, 0.5), got {skip}; pass e.g. skip=0.05.")
    n = len(tokenizer)
    special = set(int(i) for i in getattr(tokenizer, "all_special_ids", []) or [])
    ids = np.array([i for i in range(n) if i not in special], dtype=np.int64)
    cut = int(len(ids) * skip)
    return ids[cut: len(ids) - cut] if cut else ids


def _pool(tokenizer, vocab, skip) -> np.ndarray:
    if vocab is None:
        return token_pool(tokenizer, skip)
    pool = np.unique(np.asarray(vocab, dtype=np.int64))
    if pool.size == 0 or pool.min() < 0 or pool.max() >= len(tokenizer):
        raise InputError("vocab must be a non-empty list of token ids of this tokenizer.")
    return pool


def _samples(tokenizer, ids: np.ndarray, has_bos: bool) -> list[Sample]:
    out = []
    T = ids.shape[1]
    special = np.zeros(T, dtype=bool)
    special[0] = has_bos
    for row in ids:
        row = [int(t) for t in row]
        tokens = tokenizer.convert_ids_to_tokens(row)
        out.append(Sample(
            text=" ".join(str(t) for t in tokens),
            input_ids=row,
            tokens=tokens,
            word_ids=[None if special[t] else t for t in range(T)],
            spans=[None] * T,
            special_mask=special.copy(),
            segment_ids=np.zeros(T, dtype=np.int64),
        ))
    return out


def _check_n(n) -> int:
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"n (number of probes) must be a positive integer, got {n!r}; pass e.g. n=50.")
    return int(n)


# ----------------------------------------------------------------------------- generators
def repeated_tokens(model_or_tokenizer, n: int = 50, length: int = 25, repeats: int = 4, seed: int = 0,
                    *, bos: bool | None = None, fit: bool = False, skip: float = 0.05,
                    vocab=None) -> ProbeSet:
    """Repeated random tokens, Olsson et al. 2022's induction probe.

    Each probe is ``[BOS] r_1..r_L r_1..r_L ...`` (``repeats`` copies of one run of ``length``
    distinct random tokens; Olsson et al. use 25 tokens × 4 repeats, with BOS prepended).

    Args:
        model_or_tokenizer: a ``HeadModel`` (its tokenizer and ``max_length`` are used) or a
            tokenizer.
        n: number of probes; seed: their seed.
        bos: prepend the start token (default: when the tokenizer has one; see
            :func:`start_token`).
        fit: shorten ``length`` to fit the model's positions instead of raising ``TooLongError``.
        skip, vocab: the random-token pool (see :func:`token_pool`).
    Returns:
        :class:`ProbeSet` of ``kind="repeated"``, ``T = [bos] + length·repeats``.
    """
    n = _check_n(n)
    if int(length) < 2 or int(repeats) < 1:
        raise InputError("length must be at least 2 tokens and repeats at least 1; pass e.g. length=25, repeats=4.")
    length, repeats = int(length), int(repeats)
    tok, max_len, causal = _parts(model_or_tokenizer)
    first = start_token(tok, causal)
    has_bos = first is not None if bos is None else bool(bos)
    if has_bos and first is None:
        raise InputError("This tokenizer has no BOS (or CLS) token: pass bos=False.")
    need = int(has_bos) + length * repeats
    fitted = False
    if need > max_len:
        if not fit:
            raise TooLongError(
                f"A probe of {length} tokens x {repeats} repeats needs {need} positions but this "
                f"model allows {max_len}. Pass a shorter length (at most {(max_len - int(has_bos)) // repeats}) "
                "or fit=True to shorten the run automatically."
            )
        length = (max_len - int(has_bos)) // repeats
        fitted = True
        if length < 2:
            raise TooLongError(f"This model allows only {max_len} positions: too few for {repeats} repeats; pass fewer repeats.")
    pool = _pool(tok, vocab, skip)
    if pool.size < length:
        raise InputError(
            f"A run of {length} distinct tokens needs at least {length} candidate ids; the pool has "
            f"{pool.size}. Pass a shorter length, a smaller skip, or vocab=[...]."
        )
    rng = np.random.default_rng(seed)
    runs = np.stack([rng.choice(pool, size=length, replace=False) for _ in range(n)])
    body = np.tile(runs, (1, repeats))
    ids = np.concatenate([np.full((n, 1), first, dtype=np.int64), body], 1) if has_bos else body.astype(np.int64)
    T = ids.shape[1]
    off = int(has_bos)
    loss_mask = np.zeros((n, T), dtype=bool)
    loss_mask[:, off + length + 1:] = True          # second run onwards, minus its first token
    params = dict(seed=seed, length=length, repeats=repeats, skip=skip, fitted=fitted,
                  pool_size=int(pool.size))
    return ProbeSet("repeated", ids, _samples(tok, ids, has_bos), has_bos, ids, loss_mask, params)


def random_tokens(model_or_tokenizer, n: int = 50, length: int = 64, seed: int = 0, **kw) -> ProbeSet:
    """Random distinct tokens without repeats (``[BOS] r_1..r_length``); see :func:`repeated_tokens`."""
    return repeated_tokens(model_or_tokenizer, n=n, length=length, repeats=1, seed=seed, **kw)


def needle_haystack(model_or_tokenizer, n: int = 20, haystack: int = 40, needle: int = 6, seed: int = 0,
                    *, bos: bool | None = None, fit: bool = False, skip: float = 0.05, vocab=None,
                    depth: tuple[float, float] = (0.1, 0.9)) -> ProbeSet:
    """Needle-in-a-haystack prompts in the style of Wu et al. 2024, from random tokens.

    Layout: ``[BOS] h_1..h_a  M n_1..n_k  h_{a+1}..h_H  M`` — ``H`` haystack tokens, a marker
    ``M``, the needle ``n_1..n_k`` inserted at a random depth (fraction of the haystack drawn
    uniformly from ``depth``, as Wu et al. vary the needle depth), and the marker again as the
    cue. All tokens of a prompt are different, so the only way to continue the cue with
    ``n_1..n_k`` is to retrieve the needle (for a small induction model, the induction
    mechanism itself does it). The answer is the needle; greedy decoding runs ``k`` steps.
    A haystack longer than the token pool allows (long-context probes on a small vocabulary)
    draws its tokens with repetition from the pool minus the marker and the needle, which
    still occur exactly where the layout puts them; ``params["haystack_repeats"]`` says so.

    Returns:
        :class:`ProbeSet` of ``kind="needle"``: ``input_ids`` the prompts ``[N, T]``,
        ``needle`` the spans ``[N, 2]``, ``answer`` ``[N, k]``, ``lm_ids`` prompt + needle
        (for the teacher-forced loss of ablations), ``loss_mask`` on the needle tokens.
    """
    n = _check_n(n)
    haystack, needle = int(haystack), int(needle)
    if haystack < 1 or needle < 1:
        raise InputError("haystack and needle must each have at least one token; pass e.g. haystack=40, needle=6.")
    tok, max_len, causal = _parts(model_or_tokenizer)
    first = start_token(tok, causal)
    has_bos = first is not None if bos is None else bool(bos)
    if has_bos and first is None:
        raise InputError("This tokenizer has no BOS (or CLS) token: pass bos=False.")
    off = int(has_bos)
    need = off + haystack + needle + 2 + needle     # the loss sequence: prompt + answer
    fitted = False
    if need > max_len:
        if not fit:
            raise TooLongError(
                f"A needle probe with a {haystack}-token haystack and a {needle}-token needle needs "
                f"{need} positions (prompt + answer) but this model allows {max_len}. Pass a shorter "
                "haystack or fit=True to shorten it automatically."
            )
        haystack = max_len - (off + 2 * needle + 2)
        fitted = True
        if haystack < 1:
            raise TooLongError(f"This model allows only {max_len} positions: too few for a {needle}-token needle; pass a shorter needle.")
    pool = _pool(tok, vocab, skip)
    repeats = pool.size < haystack + needle + 1
    if pool.size < needle + 2:
        raise InputError(
            f"A needle probe needs at least {needle + 2} different tokens (a marker, the needle and one for the "
            f"haystack); the pool has {pool.size}. Pass a shorter needle, or vocab=[...]."
        )
    lo, hi = float(depth[0]), float(depth[1])
    if not 0 <= lo <= hi <= 1:
        raise InputError("depth must be (low, high) with 0 <= low <= high <= 1; pass e.g. depth=(0.1, 0.9).")
    rng = np.random.default_rng(seed)
    T = off + haystack + needle + 2
    ids = np.empty((n, T), dtype=np.int64)
    spans = np.empty((n, 2), dtype=np.int64)
    answers = np.empty((n, needle), dtype=np.int64)
    for b in range(n):
        if not repeats:
            draw = rng.choice(pool, size=haystack + needle + 1, replace=False)
            marker, nd, hay = draw[0], draw[1:1 + needle], draw[1 + needle:]
        else:
            draw = rng.choice(pool, size=needle + 1, replace=False)
            marker, nd = draw[0], draw[1:]
            rest = np.setdiff1d(pool, draw)
            hay = rest[rng.integers(0, rest.size, size=haystack)]
        a = int(round(rng.uniform(lo, hi) * haystack))
        row = ([first] if has_bos else []) + list(hay[:a]) + [marker] + list(nd) + list(hay[a:]) + [marker]
        ids[b] = row
        start = off + a + 1
        spans[b] = (start, start + needle)
        answers[b] = nd
    lm_ids = np.concatenate([ids, answers], 1)
    loss_mask = np.zeros(lm_ids.shape, dtype=bool)
    loss_mask[:, T:] = True
    params = dict(seed=seed, haystack=haystack, needle=needle, depth=(lo, hi), skip=skip,
                  fitted=fitted, pool_size=int(pool.size), haystack_repeats=bool(repeats))
    return ProbeSet("needle", ids, _samples(tok, ids, has_bos), has_bos, lm_ids, loss_mask, params,
                    needle=spans, answer=answers)
