"""How numbers, intervals and references are written in the HTML report.

One place decides what a reader sees for a missing value, so no cell ever says "n/a – n/a":
an interval or a q-value that could not be computed says why, with its ``n`` visible
("n/a (n = 1)" for one sample, "no test (same score on all 5 samples)" for a constant column).
"""

from __future__ import annotations

import html
import math
import re

from headlab.head_names import head_label

__all__ = ["esc", "num", "q_text", "ci_text", "q_or_reason", "slug", "first_sentence", "short", "head_label",
           "methods_ref", "role_anchor", "role_description", "SCORE_ANCHORS"]

esc = html.escape

#: docs/methods.md anchors of each built-in role's sieve or probe (the page explains the role there)
_ROLE_ANCHORS = {
    "local": "methods-sieve-local",
    "previous": "methods-sieve-offsets", "self": "methods-sieve-offsets", "next": "methods-sieve-offsets",
    "delimiter": "methods-sieve-delimiters", "cls": "methods-sieve-delimiters", "sep": "methods-sieve-delimiters",
    "bos": "methods-sieve-bos", "block": "methods-sieve-block", "punctuation": "methods-sieve-punctuation",
    "previous_token": "methods-previous-token", "duplicate_token": "methods-duplicate-token",
    "induction": "methods-induction", "sink": "methods-sink", "retrieval": "methods-retrieval",
    "copying": "methods-copying",
}

#: docs/methods.md anchors of each kind of score (report.method)
SCORE_ANCHORS = {"lift": "methods-lift", "pande": "methods-sieve-bias", "probe": "methods-probe-roles",
                 "compare": "methods-compare"}


def _finite(x) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def num(x, digits: int = 3) -> str:
    """A score or bound: ``0.412``; tiny values in ``g`` form; ``n/a`` when missing."""
    if not _finite(x):
        return "n/a"
    x = float(x)
    return f"{x:.{digits}g}" if abs(x) < 1e-3 and x != 0 else f"{x:.{digits}f}"


def q_text(x) -> str:
    """A p- or q-value; an exact 0 (underflow) is written ``<1e-300``."""
    if not _finite(x):
        return "n/a"
    x = float(x)
    if x == 0:
        return "<1e-300"
    return f"{x:.2g}" if x >= 1e-3 else f"{x:.1e}"


def _why_missing(n) -> str:
    """Why a CI or test is missing, with ``n`` visible: ``n/a (n = 1)``."""
    n = int(n) if _finite(n) else 0
    if n < 2:
        return f"n/a (n = {n})"
    return f"no test (same score on all {n} samples)"


def ci_text(low, high, n) -> str:
    """``low – high``, or the reason there is no interval (never ``n/a – n/a``)."""
    if _finite(low) and _finite(high):
        return f"{num(low)} – {num(high)}"
    return _why_missing(n)


def q_or_reason(q, n) -> str:
    """A q-value, or why there is none (``n/a (n = 1)``)."""
    return q_text(q) if _finite(q) else _why_missing(n)


def slug(role: str) -> str:
    """A role id as an HTML id fragment (``syn:nsubj`` -> ``syn-nsubj``)."""
    return "".join(ch if ch.isalnum() else "-" for ch in str(role))


def first_sentence(text: str, limit: int = 220) -> str:
    """The first sentence (a full stop followed by a capital, outside quotes), or a cut."""
    text = " ".join(str(text or "").split())
    for match in re.finditer(r"[.!?] (?=[A-Z])", text):
        end = match.start() + 1
        if end > limit:
            break
        if text[:end].count('"') % 2 == 0:
            return text[:end]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def short(value, limit: int = 160) -> str:
    s = str(value)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def methods_ref(anchor: str | None) -> str:
    """Where docs/methods.md explains something, as text (the page is offline: no link leaves it)."""
    if not anchor:
        return ""
    return f'<span class="ref">docs/methods.md#{esc(anchor)}</span>'


def role_anchor(role: str) -> str | None:
    """The docs/methods.md anchor of a role, or None for roles the page does not describe."""
    if role.startswith("syn:"):
        return "methods-sieve-syntax"
    return _ROLE_ANCHORS.get(role)


def role_description(role: str) -> str:
    """The role registry's one-line description; empty for a role this session has not registered."""
    try:
        from headlab import roles

        return roles.get(role).description
    except Exception:  # noqa: BLE001 - a saved report may carry a user's role that is not registered here
        return ""
