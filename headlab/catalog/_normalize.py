"""Turning what people type into lookup keys.

"S-Inhibition Head", "s_inhibition_head", "S inhibition" and "s-inhibition heads" must all find the same
entry, so keys ignore case, punctuation, spacing and a trailing "head(s)" (or 头 / 头部 / 注意力头 in Chinese).
"""

from __future__ import annotations

import re
import unicodedata

# Trailing words that only say "this is a head"; dropping them lets "induction" find "Induction Head".
_TRAILING_EN = ("heads", "head")
_TRAILING_ZH = ("注意力头", "头部", "头")

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def key(text: str) -> str:
    """Lookup key: NFKC, case-folded, punctuation and spaces removed, trailing 'head(s)' dropped.

    >>> key("S-Inhibition Head") == key("s_inhibition") == "sinhibition"
    True
    """
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    words = [w for w in _NON_WORD.split(text.replace("_", " ")) if w]
    while len(words) > 1 and words[-1] in _TRAILING_EN:
        words.pop()
    joined = "".join(words)
    for suffix in _TRAILING_ZH:
        if joined.endswith(suffix) and len(joined) > len(suffix):
            joined = joined[: -len(suffix)]
            break
    return joined


def model_keys(name: str) -> list[str]:
    """Keys under which a model spelling is looked up: the whole name, then the part after the hub owner."""
    keys = [_model_key(name)]
    if "/" in name:
        keys.append(_model_key(name.rsplit("/", 1)[1]))
    return keys


def _model_key(text: str) -> str:
    # Model names keep every word ("gpt2-small" must not lose "small" into "gpt2"), so only case and
    # punctuation are ignored here.
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return "".join(w for w in _NON_WORD.split(text.replace("_", " ")) if w)


def words(text: str) -> list[str]:
    """Lower-case word tokens used for search scoring."""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return [w for w in _NON_WORD.split(text.replace("_", " ")) if w]


def has_cjk(text: str) -> bool:
    """True when the text contains CJK ideographs, which search matches as substrings, not words."""
    return any("\u3400" <= ch <= "\u9fff" for ch in text)
