"""Colour scales shared by every view, the kernel-free pictures and the HTML report.

One fixed, meaningful range per kind of score, so a colour means the same number everywhere
(``js/src/scales.ts`` is the front end's twin and is tested against this module):

* ``lift`` (and shares, sink, retrieval): 0 -> 1 on viridis (colour-blind safe, readable in
  grey); values below 0 - attention *away* from the sieve - get a separate orange ramp that
  darkens towards -1, so they never look like weak positive structure;
* ``copying``: -1 -> 1 on the same two ramps (0 is the boundary);
* anything else (Pande's sieve bias, differences from ``hl.compare``): its own finite range
  on viridis, flagged in the legend as "range of this role".

A random model's lifts of ±3e-6 therefore stay at the bottom of the scale instead of
stretching over it.
"""

from __future__ import annotations

import math

__all__ = ["VIRIDIS", "NEGATIVE", "NAN_COLOUR", "viridis", "negative", "colour", "domain", "FIXED_DOMAINS"]

#: matplotlib's viridis at 0, 0.1, ..., 1
VIRIDIS = ["#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c",
           "#22a884", "#44bf70", "#7ad151", "#bddf26", "#fde725"]
#: the ramp for values below zero, from just below 0 (light) to the bottom of the domain (dark)
NEGATIVE = ["#fdd0a2", "#fdae6b", "#fd8d3c", "#e6550d", "#a63603"]
#: cells without a score
NAN_COLOUR = "#9e9e9e"

#: fixed colour domains ``(low, high)`` by score kind; the low end may be below zero
FIXED_DOMAINS = {"lift": (-1.0, 1.0), "share": (0.0, 1.0), "copying": (-1.0, 1.0)}


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _ramp(stops: list[str], t: float) -> str:
    t = min(1.0, max(0.0, float(t)))
    x = t * (len(stops) - 1)
    i = min(int(x), len(stops) - 2)
    f = x - i
    a, b = _rgb(stops[i]), _rgb(stops[i + 1])
    return "#" + "".join(f"{round(a[k] + (b[k] - a[k]) * f):02x}" for k in range(3))


def viridis(t: float) -> str:
    """Viridis at ``t`` in [0, 1] (clipped), as ``#rrggbb``; linear between the 11 stops."""
    return _ramp(VIRIDIS, t)


def negative(t: float) -> str:
    """The below-zero ramp at ``t`` in [0, 1]: 0 just below zero, 1 at the bottom of the domain."""
    return _ramp(NEGATIVE, t)


def domain(kind: str, values=None) -> tuple[float, float]:
    """The colour domain of a score kind; ``"own"`` spans the finite ``values`` (0 included)."""
    if kind in FIXED_DOMAINS:
        return FIXED_DOMAINS[kind]
    finite = [float(v) for v in (values if values is not None else []) if v is not None and math.isfinite(v)]
    lo, hi = (min(0.0, min(finite)), max(finite)) if finite else (0.0, 1.0)
    return (lo, hi) if hi - lo > 1e-12 else (lo, lo + 1.0)


def colour(value: float | None, low: float = 0.0, high: float = 1.0) -> str:
    """The colour of one score: viridis from ``max(low, 0)`` to ``high`` for values >= 0, the
    negative ramp from 0 down to ``low`` for values < 0, grey for NaN/None."""
    if value is None or not math.isfinite(value):
        return NAN_COLOUR
    if value < 0 <= high and low < 0:
        return negative(value / low)
    start = max(low, 0.0) if low < 0 else low
    span = high - start
    return viridis((value - start) / span if span > 0 else 0.5)
