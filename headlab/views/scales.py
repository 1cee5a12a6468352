"""Colour scales shared by every view, the kernel-free pictures and the HTML report.

One fixed, meaningful range per kind of score, so a colour means the same number everywhere
(``js/src/scales.ts`` is the front end's twin: the same stops, the same function of value and
domain, held to this module by ``tests/unit/test_views_scales.py`` and ``js/tests/scales.test.ts``,
which both check the cases in ``js/tests/scale-cases.json``):

* ``lift``: 0 -> 1 on viridis (colour-blind safe, readable in grey); values below 0 -
  attention *away* from the sieve - get a separate orange ramp, so they never look like weak
  positive structure. The domain is [-1, 1]; the orange ramp runs from dark just below 0 (so
  -0.01 looks almost like 0, which is dark purple on viridis) to light peach at -1: the
  further from 0, the brighter, on either side;
* ``share`` (probe shares, pattern thumbnails): 0 -> 1 on viridis;
* ``copying``: -1 -> 1 on the same two ramps (0 is the boundary);
* ``own`` - anything else (Pande's sieve bias, differences from ``hl.compare``): its own finite
  range (0 included) on the same two ramps, flagged in every legend as "range of this role".

A random model's lifts of ±3e-6 therefore stay at the bottom of the scale instead of
stretching over it.
"""

from __future__ import annotations

import math

__all__ = ["VIRIDIS", "NEGATIVE", "NAN_COLOUR", "FIXED_DOMAINS", "KINDS", "viridis", "negative", "colour",
           "domain", "score_kind"]

#: matplotlib's viridis at 0, 0.1, ..., 1
VIRIDIS = ["#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c",
           "#22a884", "#44bf70", "#7ad151", "#bddf26", "#fde725"]
#: the ramp for values below zero, from just below 0 (dark, next to viridis' dark purple 0) to the
#: bottom of the domain (light): ColorBrewer's Oranges, darkest first, led by a near-black red
NEGATIVE = ["#3d0a12", "#7f2704", "#a63603", "#d94801", "#f16913", "#fd8d3c", "#fdae6b", "#fdd0a2"]
#: cells without a score
NAN_COLOUR = "#9e9e9e"

#: fixed colour domains ``(low, high)`` by score kind; the low end may be below zero
FIXED_DOMAINS = {"lift": (-1.0, 1.0), "share": (0.0, 1.0), "copying": (-1.0, 1.0)}
#: every kind of score a view can be told about; ``own`` spans the values shown
KINDS = ("lift", "share", "copying", "own")


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _round(v: float) -> int:
    """Round half up, as JavaScript's ``Math.round`` does (Python's ``round`` rounds half to even)."""
    return max(0, min(255, math.floor(v + 0.5)))


def _ramp(stops: list[str], t: float) -> str:
    t = float(t)
    t = min(1.0, max(0.0, t)) if math.isfinite(t) else 0.0
    x = t * (len(stops) - 1)
    i = min(int(math.floor(x)), len(stops) - 2)
    f = x - i
    a, b = _rgb(stops[i]), _rgb(stops[i + 1])
    return "#" + "".join(f"{_round(a[k] + (b[k] - a[k]) * f):02x}" for k in range(3))


def viridis(t: float) -> str:
    """Viridis at ``t`` in [0, 1] (clipped), as ``#rrggbb``; linear between the 11 stops."""
    return _ramp(VIRIDIS, t)


def negative(t: float) -> str:
    """The below-zero ramp at ``t`` in [0, 1]: 0 just below zero (dark), 1 at the bottom of the domain (light)."""
    return _ramp(NEGATIVE, t)


def domain(kind: str, values=None) -> tuple[float, float]:
    """The colour domain of a score kind; ``"own"`` (or an unknown kind) spans the finite ``values``, 0 included."""
    if kind in FIXED_DOMAINS:
        return FIXED_DOMAINS[kind]
    finite = [float(v) for v in (values if values is not None else []) if v is not None and math.isfinite(v)]
    lo, hi = (min(0.0, min(finite)), max(0.0, max(finite))) if finite else (0.0, 1.0)
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


def score_kind(method: str | None, role: str = "") -> str:
    """The kind of score a report's role holds (``report.method``): ``lift``, ``copying``,
    ``share`` (probe scores) or ``own`` (Pande's sieve bias, differences, anything unknown)."""
    if method == "lift":
        return "lift"
    if method == "probe":
        return "copying" if role == "copying" else "share"
    return "own"
