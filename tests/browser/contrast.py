"""WCAG 2 contrast of rendered text, measured in the page from computed styles.

Shared by the browser tests of the views and of the HTML report: ``color`` for HTML text,
``fill`` for SVG text, backgrounds composed up the ancestors over a base colour, relative
luminance and the contrast ratio as WCAG 2 defines them. ``script(body)`` wraps a test's own
walk over the texts it measures; the body sees ``parse``, ``over``, ``background(el, base)``
and ``ratio``, and returns what the test checks against ``MIN_CONTRAST``.
"""

#: WCAG 2 AA for normal text
MIN_CONTRAST = 4.5

_HELPERS = """
  const parse = c => { const m = c && c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const background = (el, base) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let bg = base;
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
"""


def script(body: str) -> str:
    """A ``page.evaluate`` function: the shared colour maths, then ``body`` (which returns the list)."""
    return "() => {" + _HELPERS + body + "}"
