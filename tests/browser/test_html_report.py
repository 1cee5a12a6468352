"""The offline HTML report of ``headlab scan`` in a real Chromium, with the network cut off.

The report is opened by ``file://`` URL; every request that is not a local file is aborted
and recorded, so "no request left the machine" is checked, not assumed. Checked here: the
heatmaps and their tooltips, the per-head sections (anchors, drawings), the thumbnail grid and
its script-free switch, and text contrast of at least 4.5:1 in the light and the dark theme,
computed from the computed styles of every rendered text.

Screenshots go to ``test-artifacts/scan-report/``; with ``HEADLAB_UPDATE_SCREENSHOTS=1`` they
also replace the pictures in ``docs/images/`` (``scan-report.png`` - the one the README shows -
``scan-report-dark.png``, ``scan-report-head.png``, ``scan-report-patterns.png``). The page
carries its creation time, so every run differs by a few pixels and a test run must not dirty
the tree.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

import contrast
from contrast import MIN_CONTRAST

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "docs" / "images"
ARTIFACTS = REPO / "test-artifacts" / "scan-report"


@pytest.fixture(scope="module")
def scan(minilm, tmp_path_factory):
    """A default-style scan (every default role, sentences and pairs) on a small subset, with the
    example text ``headlab scan`` draws (the first built-in sentence)."""
    import headlab as hl
    from headlab.report.html import write_html

    texts = hl.corpus.sentences(16) + hl.corpus.pairs(6)
    report = minilm.roles(texts, n_boot=200)
    attention = minilm.attention(hl.corpus.sentences(1)[0])
    path = write_html(report, tmp_path_factory.mktemp("report") / "headlab-report.html", attention=attention,
                      run={"command": "headlab scan (16 sentences + 6 pairs)", "seconds": None,
                           "skipped": [{"role": "bos", "reason": "for causal (GPT-style) models only, and "
                                                                 "all-MiniLM-L6-v2 is an encoder"}]})
    return report, path, attention


class _Offline:
    """A browser context whose only reachable URLs are local files; everything else is
    aborted and remembered."""

    def __init__(self, browser, **context_args):
        self.context = browser.new_context(**context_args)
        self.requests: list[str] = []
        self.blocked: list[str] = []
        self.errors: list[str] = []

        def route(r):
            if r.request.url.startswith("file://"):
                r.continue_()
            else:
                self.blocked.append(r.request.url)
                r.abort()

        self.context.route("**/*", route)

    def open(self, path: Path, fragment: str = ""):
        page = self.context.new_page()
        page.on("request", lambda req: self.requests.append(req.url))
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.goto(path.as_uri() + fragment, wait_until="load")
        return page

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.context.close()

    def check(self):
        assert self.errors == []
        assert self.blocked == []
        assert self.requests and all(u.startswith("file://") for u in self.requests)


def _shot(page, name: str, clip_to: str | None = None):
    """A screenshot to the artifacts (and to docs/images on request), from the top of the page down
    to the element ``clip_to``, or of the element itself with ``element:`` prefix."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / name
    if clip_to and clip_to.startswith("element:"):
        page.locator(clip_to[len("element:"):]).screenshot(path=str(target))
    else:
        bottom = page.evaluate(f"document.querySelector({clip_to!r}).getBoundingClientRect().top + window.scrollY")
        width = page.viewport_size["width"]
        page.screenshot(path=str(target), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": bottom})
    if os.environ.get("HEADLAB_UPDATE_SCREENSHOTS") == "1":
        shutil.copy(target, IMAGES / name)


def test_report_draws_offline(chromium, scan):
    report, path, _ = scan
    with _Offline(chromium, viewport={"width": 1200, "height": 900}, color_scheme="light") as offline:
        page = offline.open(path)
        L, H = report.n_layers, report.n_heads
        for role in report.roles:
            cells = page.evaluate(
                """(role) => {
                    const svg = [...document.querySelectorAll('svg.hm')].find(s => s.dataset.role === role);
                    if (!svg) return null;
                    return [...svg.querySelectorAll('g.row > a > use')].map(u => {
                        const r = u.getBoundingClientRect();
                        const a = u.parentElement;
                        return [r.width, r.height, a.querySelector(':scope > title') ? 1 : 0,
                                a.getAttribute('href')];
                    });
                }""",
                role,
            )
            assert cells is not None, f"no heatmap for {role}"
            assert len(cells) == L * H, role
            assert all(w > 5 and h > 5 and t for w, h, t, _ in cells), role
            assert [href for *_, href in cells] == [f"#L{la}H{h}" for la in range(L) for h in range(H)], role
            marks = page.locator(f'svg.hm[data-role="{role}"] circle.sig').count()
            assert marks == len(report.significant(role)), role
        assert page.locator("circle.sig").count() > 0
        first = page.locator("svg.hm g.row > a").first
        assert "[" in first.locator("title").text_content()   # tooltip with the CI
        assert page.locator("table.sig").count() == sum(bool(report.significant(r)) for r in report.roles)
        # grid cells are links with accessible names: head, score, CI, q, n
        named = page.get_by_role("link", name=re.compile(r"^L0H2 \S+ \[.+\] q=.+ n=\d+"))
        assert named.count() == len(report.roles)
        _shot(page, "scan-report.png", clip_to="#significant")
        shutil.copy(path, ARTIFACTS / "headlab-report.html")
    offline.check()


def test_report_dark_scheme(chromium, scan):
    _, path, _ = scan
    with _Offline(chromium, viewport={"width": 1200, "height": 900}, color_scheme="dark") as offline:
        page = offline.open(path)
        bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
        fg = page.evaluate("getComputedStyle(document.body).color")
        _shot(page, "scan-report-dark.png", clip_to="#significant")
    brightness = [sum(int(v) for v in c[c.index("(") + 1:c.index(")")].split(",")[:3]) for c in (bg, fg)]
    assert brightness[0] < 150 < brightness[1], (bg, fg)   # dark page, light text
    offline.check()


# Contrast of every rendered text against the background it sits on (tests/browser/contrast.py), over
# the page's own background (or the scheme's default). Token labels of the drawings live in <use>
# shadow trees and take the fill of their <use>.
_CONTRAST = contrast.script("""
  let base = parse(getComputedStyle(document.documentElement).backgroundColor) || [255, 255, 255, 1];
  if (base[3] < 1) base = matchMedia('(prefers-color-scheme: dark)').matches ? [18, 18, 18, 1] : [255, 255, 255, 1];
  const out = [];
  const measure = (el, text, svg) => {
    const cs = getComputedStyle(el);
    if (cs.visibility === 'hidden' || !el.getClientRects().length) return;
    const bg = background(el, base);
    const fg = over(parse(svg ? cs.fill : cs.color), bg);
    out.push({text: text.slice(0, 40), tag: el.tagName, ratio: ratio(fg, bg)});
  };
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || seen.has(el) || el.closest('title, style, symbol, defs')) continue;
    seen.add(el);
    measure(el, node.textContent.trim(), el instanceof SVGElement);
  }
  document.querySelectorAll('svg use.tk').forEach(u => measure(u, 'token labels', true));
  return out;
""")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_in_both_themes(chromium, scan, scheme):
    _, path, _ = scan
    with _Offline(chromium, viewport={"width": 1200, "height": 900}, color_scheme=scheme) as offline:
        page = offline.open(path, "#L0H2")                  # a :target head section has its own background
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        texts = page.evaluate(_CONTRAST)
        page.click("label[for=mode-patterns]")              # the thumbnail view's labels too
        texts += page.evaluate(_CONTRAST)
    assert len(texts) > 500
    tags = {t["tag"] for t in texts}
    assert {"text", "A", "TD", "TH", "LABEL", "use"} <= tags, tags
    low = [t for t in texts if t["ratio"] < MIN_CONTRAST]
    assert low == [], low[:10]
    offline.check()


def test_head_sections_and_their_drawings(chromium, scan):
    report, path, attention = scan
    L, H, T = report.n_layers, report.n_heads, len(attention.tokens)
    with _Offline(chromium, viewport={"width": 1200, "height": 900}, color_scheme="light") as offline:
        page = offline.open(path)
        # clicking a grid cell lands on the head's section
        page.click('svg.hm[data-role="previous"] a[href="#L0H2"]')
        assert page.evaluate("location.hash") == "#L0H2"
        top = page.evaluate("document.getElementById('L0H2').getBoundingClientRect().top")
        assert abs(top) < 5
        info = page.evaluate("""() => [...document.querySelectorAll('section.head')].map(s => {
            const svg = s.querySelector('svg.lines');
            const box = svg.getBoundingClientRect();
            const tok = svg.querySelector('use.tk').getBBox();
            const paths = [...svg.querySelectorAll('path')];
            const lines = paths.reduce((n, p) => n + (p.getAttribute('d').match(/M/g) || []).length, 0);
            const inside = paths.every(p => { const r = p.getBoundingClientRect();
                return r.left >= box.left - 1 && r.right <= box.right + 1 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1; });
            const rows = [...s.querySelectorAll('table.hr tbody tr')].map(tr => tr.cells[0].textContent);
            return {id: s.id, w: box.width, h: box.height, tok: tok.width, lines, inside, rows};
        })""")
        assert [i["id"] for i in info] == [f"L{la}H{h}" for la in range(L) for h in range(H)]
        for i in info:
            assert i["w"] > 200 and i["h"] > 12 * T and i["tok"] > 100, i
            assert T <= i["lines"] <= 3 * T and i["inside"], i
            assert sorted(i["rows"]) == sorted(report.roles), i["id"]
        # the previous-token head L0H2 draws each query to the token before it
        ds = page.evaluate("""() => [...document.querySelectorAll('#L0H2 svg.lines path[stroke-opacity="1"]')]
                                     .map(p => p.getAttribute('d')).join('')""")
        assert all(f"M0 {i + 0.5:g}L1 {i - 0.5:g}" in ds for i in range(2, T - 1))
        _shot(page, "scan-report-head.png", clip_to="element:#L0H2")
    offline.check()


def test_thumbnail_grid_switches_without_script(chromium, scan):
    report, path, attention = scan
    L, H = report.n_layers, report.n_heads
    with _Offline(chromium, viewport={"width": 1200, "height": 900}, color_scheme="dark") as offline:
        page = offline.open(path, "#grids")
        assert page.locator(".by-scores").is_visible() and not page.locator(".by-patterns").is_visible()
        page.focus("#mode-scores")
        page.keyboard.press("ArrowRight")                   # radios switch from the keyboard
        assert page.locator("#mode-patterns").is_checked()
        assert not page.locator(".by-scores").is_visible() and page.locator(".by-patterns").is_visible()
        assert page.get_by_role("link", name="L0H2 attention pattern", exact=True).count() == 1
        thumbs = page.evaluate("""() => [...document.querySelectorAll('.thumbs a > img')].map(i => {
            const r = i.getBoundingClientRect();
            return [i.parentElement.getAttribute('href'), i.alt, i.complete, i.naturalWidth, r.width, i.src];
        })""")
        assert [t[0] for t in thumbs] == [f"#L{la}H{h}" for la in range(L) for h in range(H)]
        assert all(t[1] == f"{t[0][1:]} attention pattern" and t[2] and t[3] == 14 and t[4] >= 48 for t in thumbs)
        assert len({t[5] for t in thumbs}) == L * H           # every head draws its own pattern
        # a thumbnail's pixels are the grid view's pooling of the head (views.thumbnails.pool) on
        # the share palette: the previous-token head L0H2, read back from the decoded image
        pixels = page.evaluate("""() => { const img = document.querySelector('.thumbs a[href="#L0H2"] > img');
            const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
            const g = c.getContext('2d'); g.drawImage(img, 0, 0);
            const d = g.getImageData(0, 0, c.width, c.height).data, out = [];
            for (let i = 0; i < d.length; i += 4) out.push('#' + [d[i], d[i + 1], d[i + 2]].map(v => v.toString(16).padStart(2, '0')).join(''));
            return out; }""")
        assert pixels == _thumbnail_colours(_attention_weights(attention)[0, 2])
        _shot(page, "scan-report-patterns.png", clip_to="element:.by-patterns")
        page.click('.thumbs a[href="#L1H8"]')
        assert page.evaluate("location.hash") == "#L1H8"
    offline.check()


def _attention_weights(attention):
    from headlab.views.thumbnails import held_weights

    return held_weights(attention)


def _thumbnail_colours(head_weights) -> list[str]:
    """``#rrggbb`` per pixel, row by row, of one head's thumbnail as the views pool it."""
    import numpy as np

    from headlab.report.html_png import LEVELS, share_palette
    from headlab.views.thumbnails import pool

    pooled, _ = pool(head_weights)
    index = np.rint(np.clip(pooled, 0.0, 1.0) * (LEVELS - 1)).astype(int)
    palette = share_palette()
    return [palette[i] for i in index.ravel()]
