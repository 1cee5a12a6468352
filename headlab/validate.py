"""Checks for the options of public functions, run once where a call enters headlab.

Every check returns the value in its canonical type or raises ``InputError`` with a message
that names the option, says what it got and what to pass instead. Booleans are refused where
a number is expected (``True`` is an ``int`` in Python, and ``n_boot=True`` is never meant),
as are NaN and infinities, strings that look like numbers, and numpy arrays.
"""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path
from typing import Any, Iterable

from headlab.errors import InputError

__all__ = ["integer", "number", "choice", "flag", "seed", "path", "describe"]

#: the largest seed numpy's generators take is 2**128 - 1; we keep to 64 bits for JSON provenance
MAX_SEED = 2**63 - 1


def describe(value: Any) -> str:
    """A short, safe description of a bad value for an error message (never a huge repr)."""
    kind = type(value).__name__
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a hostile __repr__ must not hide the real error
        return f"a {kind}"
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} (a {kind})"


def integer(name: str, value: Any, *, min: int | None = None, max: int | None = None,
            example: int | None = None) -> int:
    """``value`` as a Python int within ``[min, max]``; numpy integers are accepted."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{name} must be a whole number{_range(min, max)}; got {describe(value)}. "
                         f"Pass e.g. {name}={_example(example, min, max)}.")
    v = int(value)
    if (min is not None and v < min) or (max is not None and v > max):
        raise InputError(f"{name} must be a whole number{_range(min, max)}; got {v}. "
                         f"Pass e.g. {name}={_example(example, min, max)}.")
    return v


def number(name: str, value: Any, *, lo: float | None = None, hi: float | None = None,
           lo_open: bool = False, hi_open: bool = False, example: float | None = None) -> float:
    """``value`` as a finite float within the bounds (open or closed at each end)."""
    bounds = _interval(lo, hi, lo_open, hi_open)
    good = example if example is not None else _mid(lo, hi)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a number{bounds}; got {describe(value)}. Pass e.g. {name}={good}.")
    v = float(value)
    if not math.isfinite(v):
        raise InputError(f"{name} must be a finite number{bounds}; got {v}. Pass e.g. {name}={good}.")
    if (lo is not None and (v < lo or (lo_open and v == lo))) or (hi is not None and (v > hi or (hi_open and v == hi))):
        raise InputError(f"{name} must be a number{bounds}; got {v:g}. Pass e.g. {name}={good}.")
    return v


def choice(name: str, value: Any, allowed: Iterable[str]) -> str:
    """``value`` if it is one of ``allowed`` (strings), else an error listing them."""
    allowed = tuple(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise InputError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {describe(value)}. "
                         f"Pass e.g. {name}={allowed[0]!r}.")
    return value


def flag(name: str, value: Any) -> bool:
    """``value`` if it is a bool (numpy bools too); 0/1 and strings are refused."""
    if type(value).__name__ in ("bool", "bool_"):
        return bool(value)
    raise InputError(f"{name} must be True or False; got {describe(value)}. Pass {name}=True or {name}=False.")


def seed(value: Any, name: str = "seed") -> int:
    """A seed for numpy's generators: a whole number from 0 to 2**63 - 1."""
    return integer(name, value, min=0, max=MAX_SEED, example=0)


def path(name: str, value: Any) -> Path:
    """A file-system path given as ``str`` or ``os.PathLike`` (not None, not empty)."""
    if isinstance(value, (str, os.PathLike)) and str(os.fspath(value)).strip():
        return Path(value).expanduser()
    raise InputError(f"{name} must be a path (a str or pathlib.Path); got {describe(value)}. "
                     f"Pass e.g. {name}='results/run1'.")


def _range(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f" from {lo:,} to {hi:,}"
    if lo is not None:
        return f" >= {lo:,}"
    if hi is not None:
        return f" <= {hi:,}"
    return ""


def _interval(lo, hi, lo_open, hi_open) -> str:
    if lo is not None and hi is not None:
        return f" in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if lo is not None:
        return f" {'>' if lo_open else '>='} {lo:g}"
    if hi is not None:
        return f" {'<' if hi_open else '<='} {hi:g}"
    return ""


def _example(example, lo, hi):
    if example is not None:
        return example
    return lo if lo is not None else (hi if hi is not None else 1)


def _mid(lo, hi):
    if lo is not None and hi is not None:
        return round((lo + hi) / 2, 3)
    return lo if lo is not None else (hi if hi is not None else 0)
