"""One name per head: ``L{layer}H{head}``, 0-indexed, everywhere headlab writes a head.

Labels, table cells, error messages, reprs, widget keys and the front end's data attributes all
use :func:`head_label` (``"L1H8"``). Reading is more forgiving: :func:`parse_head` takes a
``(layer, head)`` pair of integers, ``"L1H8"`` (any case) or ``"1.8"``, and rejects anything
that is not exactly two whole numbers inside the model - a float such as ``(1.7, 0.9)`` or a
bool such as ``(True, False)`` would otherwise silently become head ``L1H0``.
"""

from __future__ import annotations

import numbers
import re
from typing import Any

from headlab.errors import InputError
from headlab.validate import describe

__all__ = ["head_label", "parse_head", "parse_heads", "parse_label"]

_LABEL = re.compile(r"^\s*L(\d+)H(\d+)\s*$", re.IGNORECASE)
_DOTTED = re.compile(r"^\s*(\d+)\.(\d+)\s*$")
_HOW = "write a head as (layer, head) with whole numbers, or as 'L1H2' (0-indexed)"


def head_label(layer: int, head: int) -> str:
    """The one printed name of a head: ``head_label(1, 8) == "L1H8"``."""
    return f"L{int(layer)}H{int(head)}"


def parse_label(text: str) -> tuple[int, int]:
    """``"L1H8"`` -> ``(1, 8)`` without a model to check against (``InputError`` otherwise)."""
    match = _LABEL.match(text) if isinstance(text, str) else None
    if match is None:
        raise InputError(f"Cannot read head {text!r}: {_HOW}.")
    return int(match.group(1)), int(match.group(2))


def _whole(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool) and type(v).__name__ != "bool_"


def parse_head(value: Any, n_layers: int, n_heads: int) -> tuple[int, int]:
    """One head as ``(layer, head)``; ``InputError`` if unreadable or outside the model."""
    if isinstance(value, str):
        match = _LABEL.match(value) or _DOTTED.match(value)
        if match is None:
            raise InputError(f"Cannot read head {value!r}: {_HOW}.")
        layer, head = int(match.group(1)), int(match.group(2))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(_whole(v) for v in value):
        layer, head = int(value[0]), int(value[1])
    else:
        raise InputError(f"Cannot read head {describe(value)}: {_HOW}.")
    if not (0 <= layer < n_layers and 0 <= head < n_heads):
        raise InputError(f"Head {head_label(layer, head)} does not exist: this model has {n_layers} layers x "
                         f"{n_heads} heads, so use layers 0-{n_layers - 1} and heads 0-{n_heads - 1}.")
    return layer, head


def parse_heads(heads: Any, n_layers: int, n_heads: int) -> list[tuple[int, int]]:
    """One head or a list of them, as sorted distinct ``(layer, head)`` tuples."""
    if heads is None:
        raise InputError("Name the heads to use, e.g. heads=[(1, 2)] or heads='L1H2'.")
    single = isinstance(heads, str) or (isinstance(heads, tuple) and len(heads) == 2 and all(_whole(v) for v in heads))
    if single:
        heads = [heads]
    elif not isinstance(heads, (list, tuple)):
        raise InputError(f"Cannot read heads {describe(heads)}: {_HOW}, or pass a list of them.")
    out: list[tuple[int, int]] = []
    for h in heads:
        parsed = parse_head(h, n_layers, n_heads)
        if parsed not in out:
            out.append(parsed)
    if not out:
        raise InputError("The list of heads is empty: name at least one, e.g. heads=[(1, 2)].")
    return sorted(out)
