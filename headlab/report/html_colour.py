"""Colours of the HTML report, all taken from ``headlab.views.scales`` (the views' scale too).

Each role's heatmap uses the fixed domain of its kind of score, so one colour means one number
in every report and every view: lift runs over [-1, 1] with 0..1 on viridis and values below 0
on the separate orange ramp; probe shares over [0, 1]; copying over [-1, 1]. Only scores
without a natural range (Pande's sieve bias, differences) span their own values, and the page
says so under the heatmap.
"""

from __future__ import annotations

import numpy as np

from headlab.views import scales

__all__ = ["score_kind", "role_domain", "cell_colour", "dot_class", "legend_svg", "luminance"]


def score_kind(report, role: str) -> str:
    """The kind of score a role's column holds: ``lift``, ``copying``, ``share`` or ``own``.

    The views' decision (``scales.score_kind`` of ``report.method``), so a role has the same
    colour scale in the page as in the live grid and the JupyterLab report viewer.
    """
    return scales.score_kind(getattr(report, "method", None), role)


def role_domain(report, role: str) -> tuple[float, float]:
    """The colour domain ``(low, high)`` of one role (scales.domain of its kind)."""
    kind = score_kind(report, role)
    values = None if kind in scales.FIXED_DOMAINS else report.matrix(role).ravel()
    lo, hi = scales.domain(kind, values)
    return float(lo), float(hi)


def cell_colour(value, lo: float, hi: float) -> str:
    """``scales.colour`` of one score (grey for NaN)."""
    v = None if value is None or not np.isfinite(value) else float(value)
    return scales.colour(v, lo, hi)


def luminance(hex_colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    h = hex_colour.lstrip("#")
    chans = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in chans]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def dot_class(fill: str) -> str:
    """The significance dot that stands out on ``fill``: dark (``d``) on bright cells, white (``w``) on dark."""
    return "d" if luminance(fill) > 0.25 else "w"


def _stops(colours: list[str]) -> str:
    last = len(colours) - 1
    return "".join(f'<stop offset="{i / last:.2f}" stop-color="{c}"/>' for i, c in enumerate(colours))


def legend_svg(lo: float, hi: float, gradient_id: str, *, own: bool = False) -> str:
    """The colour bar of a domain and the meaning of the dot.

    With a negative low end the bar has two parts, as the scale does: the orange ramp from
    ``lo`` (light peach) up to just below 0 (dark, next to viridis' dark purple at 0), then
    viridis from 0 to ``hi``: the further from 0, the brighter, on either side.
    """
    label = (lambda v: f"{v:.3g}")
    parts = ['<svg class="legend" width="440" height="36" viewBox="0 0 440 36" role="img">'
             "<title>colour scale and significance mark</title><defs>"]
    pos_stops = _stops([scales.viridis(i / 10) for i in range(11)])
    parts.append(f'<linearGradient id="{gradient_id}">{pos_stops}</linearGradient>')
    if lo < 0 <= hi:
        # NEGATIVE runs from just below 0 (dark) to lo (light): reversed, the bar's left end is lo
        neg_stops = _stops(list(reversed(scales.NEGATIVE)))
        parts.append(f'<linearGradient id="{gradient_id}n">{neg_stops}</linearGradient></defs>')
        parts.append(f'<rect x="0" y="4" width="80" height="12" fill="url(#{gradient_id}n)"/>'
                     f'<rect x="80" y="4" width="160" height="12" fill="url(#{gradient_id})"/>'
                     f'<text x="0" y="30" class="st">{label(lo)}</text><text x="80" y="30">0</text>'
                     f'<text x="240" y="30" class="end">{label(hi)}</text>')
        x = 258
    else:
        parts.append("</defs>")
        parts.append(f'<rect x="0" y="4" width="200" height="12" fill="url(#{gradient_id})"/>'
                     f'<text x="0" y="30" class="st">{label(lo)}</text>'
                     f'<text x="200" y="30" class="end">{label(hi)}</text>')
        x = 218
    if own:
        parts.append(f'<text x="{x}" y="30" class="st">(range of these scores)</text>')
    fill = scales.viridis(0.5)
    parts.append(f'<rect x="{x}" y="3" width="13" height="13" fill="{fill}"/>'
                 f'<circle class="sig {dot_class(fill)}" cx="{x + 6.5}" cy="9.5" r="3"/>'
                 f'<text x="{x + 19}" y="14" class="st">significant (q &lt; alpha)</text></svg>')
    return "".join(parts)
