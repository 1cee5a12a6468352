"""Reading head names: ``(layer, head)``, ``"L1H2"`` or ``"1.2"`` (0-indexed), checked against a model."""

from __future__ import annotations

from typing import Any

from headlab.errors import InputError


def parse_head(value: Any, n_layers: int, n_heads: int) -> tuple[int, int]:
    """One head as ``(layer, head)``; ``InputError`` if unreadable or outside the model."""
    if isinstance(value, str):
        parts = value.strip().upper().replace("L", "").replace("H", ".").split(".")
    else:
        parts = value
    try:
        layer, head = (int(v) for v in parts)
    except (TypeError, ValueError):
        raise InputError(f"Cannot read head {value!r}: write (layer, head), 'L1H2' or '1.2'.") from None
    if not (0 <= layer < n_layers and 0 <= head < n_heads):
        raise InputError(f"Head {layer}.{head} does not exist: it is outside this model's {n_layers} layers x "
                         f"{n_heads} heads (0-indexed).")
    return layer, head


def parse_heads(heads, n_layers: int, n_heads: int) -> list[tuple[int, int]]:
    """One head or a list of them, as sorted distinct ``(layer, head)`` tuples."""
    if heads is None:
        raise InputError("Name the heads, e.g. heads=[(1, 2)] or '1.2'.")
    if isinstance(heads, (str, tuple)) and not (isinstance(heads, tuple) and heads and isinstance(heads[0], (tuple, list, str))):
        heads = [heads]
    out: list[tuple[int, int]] = []
    for h in heads:
        parsed = parse_head(h, n_layers, n_heads)
        if parsed not in out:
            out.append(parsed)
    if not out:
        raise InputError("No heads given.")
    return sorted(out)
