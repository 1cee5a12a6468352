"""Views that teach (issue #15) in a real JupyterLab: explanations where the numbers are, grid
cells with accessible names, pattern thumbnails, keyboard access to the tokens, arrowheads,
tooltips that sit on what they explain, text contrast of at least 4.5:1 in the light and the
dark theme (computed from computed styles), and screenshots of the Explorer in both themes.

Screenshots go to ``test-artifacts/browser/``; with ``HEADLAB_UPDATE_SCREENSHOTS=1`` the
Explorer's also replace ``docs/images/explorer-light.png`` and ``docs/images/explorer-dark.png``.
"""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest
from playwright.sync_api import expect

import contrast
from contrast import MIN_CONTRAST
from conftest import notebook_page
from labserver import REPO, cell_output, run_cell, wait_python

pytestmark = pytest.mark.browser
IMAGES = REPO / "docs" / "images"

SETUP = r'''
import json
import numpy as np, pandas as pd
from types import SimpleNamespace
import headlab as hl
import headlab.views as W
from headlab.views import scales
m = hl.load()
rep = m.roles(hl.corpus.sentences(24) + hl.corpus.pairs(4), n_boot=200,
              roles=["local", "previous", "next", "self", "cls", "sep", "delimiter", "punctuation", "block"])
ex = hl.explore(m, "The keys to the cabinet are on the table.", report=rep, role="previous", selected=(0, 2))
t = ex.thumbs
u8 = np.frombuffer(bytes(t["buf"]), np.uint8).reshape(t["shape"])
print("THUMB", json.dumps({"S": t["shape"][2], "colours": [[scales.colour(v / 255, 0.0, 1.0) for v in row] for row in u8[0, 2]]}))
print("ROLES", json.dumps(sorted(((r, float(rep.table.query("role == @r and layer == 0 and head == 2").score.iloc[0]))
                                  for r in rep.roles), key=lambda x: -x[1])))
ex
'''
GRID = r'''
rows = [dict(role=r, layer=l, head=h, score=0.1 * (l + h) if r == "local" else 0.5, ci_low=0.05 if r == "local" else np.nan,
             ci_high=0.9 if r == "local" else np.nan, p_value=1e-6 if r == "local" else np.nan,
             q_value=(1e-5 if h < 2 else 0.2) if r == "local" else np.nan, significant=(h < 2) if r == "local" else False,
             n=30 if r == "local" else 1, method="lift")
        for r in ("local", "sep") for l in range(3) for h in range(4)]
grid = W.HeadGrid(SimpleNamespace(table=pd.DataFrame(rows), roles=["local", "sep"], n_layers=3, n_heads=4, alpha=0.05,
                                  model_name="stand-in"), title="Stand-in report")
grid
'''
CATALOG = r'''
cb = hl.catalog.browse()
cb.entry = cb.entries[0]["id"]
cb
'''
ARCS = r'''
av = W.AttentionView(m.attention("The cat sat on the mat."), heads=(0, 2), mode="arcs")
av
'''
MATRIX = r'''
mv = W.AttentionView(m.attention("The cat sat on the mat."), heads=[(0, 2), (1, 4)], mode="matrix")
mv
'''
PRINT = 'print("STATE", av.focus_token, ex.grid_mode)'
CELLS = [SETUP, GRID, CATALOG, ARCS, MATRIX, PRINT]
CELL_EX, CELL_GRID, CELL_CAT, CELL_ARCS, CELL_MATRIX, CELL_PRINT = range(6)


@pytest.fixture(scope="module")
def nb(lab, chromium, artifacts):
    with notebook_page(chromium, lab, "teach.ipynb", CELLS) as page:
        for i in range(CELL_PRINT):
            run_cell(page, i)
        expect(page.cell(CELL_EX).locator(".headlab-explorer")).to_have_count(1, timeout=180_000)
        expect(page.cell(CELL_MATRIX).locator("canvas.headlab-matrix")).to_have_count(1, timeout=60_000)
        yield page


def _box(locator) -> dict:
    b = locator.bounding_box()
    return {"left": b["x"], "top": b["y"], "right": b["x"] + b["width"], "bottom": b["y"] + b["height"]}


def _corner_inside(tip: dict, cell: dict) -> bool:
    """Whether the tooltip's top-left (or, flipped, top-right) corner lies in the cell's box."""
    def inside(x, y):
        return cell["left"] - 0.5 <= x <= cell["right"] + 0.5 and cell["top"] - 0.5 <= y <= cell["bottom"] + 0.5
    return inside(tip["left"], tip["top"]) or inside(tip["right"], tip["top"]) or inside(tip["left"], tip["bottom"])


# ---------------------------------------------------------------- explanations and names
def test_grid_cells_have_accessible_names_and_n1_says_so(nb):
    g = nb.cell(CELL_GRID)
    expect(g.locator("rect.headlab-cell")).to_have_count(12, timeout=60_000)
    cell = g.get_by_role("gridcell", name="L0H1 local: 0.1 [0.05, 0.9], q < 1e-4, significant")
    expect(cell).to_have_count(1)
    expect(g.get_by_role("gridcell", name="L2H3 local: 0.5 [0.05, 0.9], q = 0.2, not significant")).to_have_count(1)
    assert g.get_by_role("gridcell").count() == 12 and g.get_by_role("row").count() == 3
    g.locator("select.headlab-role").select_option("sep")
    expect(g.get_by_role("gridcell", name="L1H1 sep: 0.5 n/a (n = 1), q n/a (n = 1), not significant")).to_have_count(1)
    g.locator('.headlab-cell[data-layer="1"][data-head="1"]').hover()
    tip = g.locator(".headlab-tooltip")
    expect(tip).to_contain_text("95% CI n/a (n = 1)")
    expect(tip).to_contain_text("q n/a (n = 1)")
    assert not re.search(r"n/a\s*[–-]\s*n/a", tip.inner_text())
    g.locator("select.headlab-role").select_option("local")


def test_tooltips_say_what_the_numbers_mean(nb):
    ex = nb.cell(CELL_EX)
    ex.locator('.headlab-cell[data-layer="0"][data-head="2"]').hover()
    tip = ex.locator(".headlab-grid .headlab-tooltip")
    expect(tip).to_be_visible()
    text = tip.inner_text()
    assert text.startswith("L0H2 · previous")
    assert re.search(r"lift \S+ · 95% CI \[\S+, \S+\] · n = 28", text), text
    assert "0 = attention as if uniform over the keys the query sees, 1 = all of it on the role's keys" in text
    assert "95% bootstrap interval" in text and "Benjamini–Hochberg-adjusted p" in text
    assert "n: the samples (texts) the role applied to" in text


def test_role_help_explains_the_sieve_and_the_head_card_ranks_by_effect(nb):
    ex = nb.cell(CELL_EX)
    help_line = ex.locator(".headlab-role-help")
    expect(help_line).to_have_text(re.compile(r"^previous: each query's sieve is the previous token\. Lift: 0 = "))
    ex.locator("select.headlab-role").select_option("local")
    expect(help_line).to_contain_text("keys within ±2 positions, itself included")
    ex.locator("select.headlab-role").select_option("previous")
    card = ex.locator(".headlab-head-info")
    expect(card).to_contain_text("Roles by effect size (lift), largest first")
    expect(card).to_contain_text("not by p or q")
    want = json.loads(re.search(r"ROLES (.*)", cell_output(nb, CELL_EX)).group(1))
    shown = card.locator("ul.headlab-role-ranks li").evaluate_all("els => els.map(e => e.dataset.role)")
    assert shown == [r for r, _ in want][:len(shown)] and len(shown) == 5
    # one name for a head everywhere in the Explorer
    expect(card).to_contain_text("Head L0H2")
    expect(ex.locator(".headlab-chip")).to_have_text("L0H2")
    assert re.search(r"Selected L0H2\.", ex.locator(".headlab-status").inner_text())


# ---------------------------------------------------------------- thumbnails
def test_thumbnail_mode_draws_every_heads_pattern_from_the_keyboard(nb, artifacts):
    ex = nb.cell(CELL_EX)
    btn = ex.locator("button[data-grid-mode='patterns']")
    btn.focus()
    nb.keyboard.press("Enter")
    expect(ex.locator(".headlab-grid")).to_have_attribute("data-mode", "patterns")
    expect(btn).to_have_attribute("aria-pressed", "true")
    wait_python(nb, CELL_PRINT, "patterns")
    image = ex.locator("image.headlab-thumbs")
    expect(image).to_have_count(1)
    expect(ex.locator(".headlab-legend")).to_contain_text("blocks of one token")
    info = json.loads(re.search(r"THUMB (.*)", cell_output(nb, CELL_EX)).group(1))
    S, colours = info["S"], info["colours"]
    # read the drawn pixels back: head L0H2's blocks are the colours Python computed for its pooled pattern
    got = image.evaluate("""(img, S) => new Promise((resolve) => {
        const H = 12, w = Number(img.getAttribute('width')), c = w / H, k = (c - 2) / S;
        const im = new Image();
        im.onload = () => {
          const cv = document.createElement('canvas'); cv.width = im.width; cv.height = im.height;
          const ctx = cv.getContext('2d'); ctx.drawImage(im, 0, 0);
          const hex = (x, y) => '#' + Array.from(ctx.getImageData(x, y, 1, 1).data.slice(0, 3)).map(v => v.toString(16).padStart(2, '0')).join('');
          const out = [];
          for (let a = 0; a < S; a++) { const row = []; for (let b = 0; b < S; b++)
            row.push(hex(Math.floor(2 * c + 1 + b * k + k / 2), Math.floor(1 + a * k + k / 2))); out.push(row); }
          resolve(out);
        };
        im.src = img.getAttribute('href');
      })""", S)
    assert got == colours
    # every head has its own drawing, and the tooltip says what a thumbnail shows
    ex.locator('.headlab-cell[data-layer="3"][data-head="7"]').hover()
    expect(ex.locator(".headlab-grid .headlab-tooltip")).to_contain_text("rows: queries")
    ex.screenshot(path=str(artifacts / "explorer-patterns.png"))
    ex.locator("button[data-grid-mode='scores']").click()
    expect(ex.locator(".headlab-grid")).to_have_attribute("data-mode", "scores")


# ---------------------------------------------------------------- tooltips on what they explain
def test_tooltip_sits_on_the_hovered_cell_and_hides_on_mode_change(nb):
    g = nb.cell(CELL_GRID)
    cell = g.locator('.headlab-cell[data-layer="2"][data-head="1"]')
    cell.hover()
    tip = g.locator(".headlab-tooltip")
    expect(tip).to_be_visible()
    assert _corner_inside(_box(tip), _box(cell)), (_box(tip), _box(cell))
    ex = nb.cell(CELL_EX)
    ex.locator("select.headlab-mode").select_option("matrix")
    canvas = ex.locator("canvas.headlab-matrix")
    expect(canvas).to_have_count(1)
    n = int(canvas.get_attribute("width"))
    c = canvas.bounding_box()["width"] / n
    for q, k in ((2, 3), (n - 1, n - 1), (0, n - 2)):
        canvas.hover(position={"x": (k + 0.5) * c, "y": (q + 0.5) * c})
        box = canvas.bounding_box()                                    # after hover() scrolled it into view
        tip = ex.locator(".headlab-att .headlab-tooltip")
        expect(tip).to_be_visible()
        expect(tip).to_contain_text(f"query #{q}")
        hovered = {"left": box["x"] + k * c, "top": box["y"] + q * c, "right": box["x"] + (k + 1) * c,
                   "bottom": box["y"] + (q + 1) * c}
        assert _corner_inside(_box(tip), hovered), (q, k, _box(tip), hovered)
    ex.locator("select.headlab-mode").select_option("arcs")
    expect(ex.locator(".headlab-att-body")).to_have_attribute("data-mode", "arcs")
    expect(ex.locator(".headlab-att .headlab-tooltip")).to_be_hidden()


# ---------------------------------------------------------------- keyboard and arrows
def test_tab_reaches_the_tokens_arrows_move_enter_pins_escape_unpins(nb):
    av = nb.cell(CELL_ARCS)
    body = av.locator(".headlab-att-body")
    expect(body).to_have_attribute("data-state", "ready", timeout=60_000)
    av.locator(".headlab-att button[data-export='png']").focus()
    nb.keyboard.press("Tab")
    focused = lambda: nb.evaluate("() => { const e = document.activeElement; return e && e.classList.contains('headlab-hit') ? Number(e.dataset.i) : null; }")
    assert focused() == 0
    for _ in range(3):
        nb.keyboard.press("ArrowRight")
    assert focused() == 3
    expect(av.locator("svg.headlab-arcs")).to_have_class(re.compile(r"is-focus"))
    expect(av.locator(".headlab-info")).to_contain_text("(#3) attends to")
    av.locator("svg.headlab-arcs").evaluate("s => { s.dataset.before = '1'; }")
    nb.keyboard.press("Enter")
    expect(av.locator(".headlab-att")).to_have_attribute("data-pinned", "3")
    # Enter also focuses the token (as a click does): the view redraws, and the focus comes back
    expect(av.locator("svg.headlab-arcs:not([data-before])")).to_have_count(1)
    expect(body).to_have_attribute("data-state", "ready")
    expect(av.locator("text.headlab-token.is-pinned")).to_have_attribute("data-i", "3")
    assert focused() == 3
    assert nb.evaluate("() => window.jupyterapp.shell.currentWidget.content.mode") == "command"
    wait_python(nb, CELL_PRINT, "STATE 3 ")
    # the pinned token's edges stay shown when the pointer leaves
    av.locator("rect.headlab-hit[data-i='5']").hover()
    nb.mouse.move(5, 5)
    expect(av.locator("svg.headlab-arcs")).to_have_class(re.compile(r"is-pinned"))
    on = av.locator(".headlab-arc.is-on").evaluate_all("els => els.map(e => [e.dataset.q, e.dataset.k])")
    assert on and all("3" in qk for qk in on)
    expect(av.locator(".headlab-info")).to_contain_text("Pinned (Esc unpins)")
    av.locator("rect.headlab-hit[data-i='3']").focus()
    nb.keyboard.press("Escape")
    expect(av.locator(".headlab-att")).to_have_attribute("data-pinned", "")
    expect(av.locator("text.headlab-token.is-pinned")).to_have_count(0)
    # the notebook did not treat the keys as its own (Enter would have opened a cell's editor)
    assert nb.evaluate("() => window.jupyterapp.shell.currentWidget.content.mode") == "command"


def test_arcs_point_from_query_to_key_with_a_legend(nb):
    av = nb.cell(CELL_ARCS)
    arcs = av.locator("path.headlab-arc")
    assert arcs.count() > 0
    check = arcs.evaluate_all("""els => els.map(p => {
        const svg = p.ownerSVGElement;
        const id = (p.getAttribute('marker-end') || '').match(/url\\(#(.+)\\)/);
        const m = id && svg.querySelector('marker#' + CSS.escape(id[1]));
        const tokX = i => { const t = svg.querySelector(`text.headlab-token[data-i="${i}"]`); return Number(t.getAttribute('x')); };
        const d = p.getAttribute('d').trim().split(/[ ,MC]+/).filter(Boolean).map(Number);
        return { marker: !!m, fill: m && m.querySelector('path').getAttribute('fill'), stroke: p.getAttribute('stroke'),
                 startX: d[0], endX: d[d.length - 2], q: tokX(p.dataset.q), k: tokX(p.dataset.k) };
    })""")
    for a in check:
        assert a["marker"] and a["fill"] == a["stroke"], a
        assert abs(a["endX"] - a["k"]) < 0.2 and abs(a["startX"] - a["q"]) < 0.2, a   # the arrowhead is at the key
    legend = av.locator(".headlab-arc-legend")
    expect(legend).to_contain_text("arc: from a query token to the key it attends to")
    expect(legend).to_contain_text("above the tokens: earlier keys")


# ---------------------------------------------------------------- contrast in both themes, screenshots
# Contrast of every text in headlab's views against the background it sits on (tests/browser/contrast.py),
# over a white base: the views draw their own backgrounds in both themes.
_CONTRAST = contrast.script("""
  const out = [];
  for (const root of document.querySelectorAll('.headlab-root')) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const seen = new Set();
    while (walker.nextNode()) {
      const node = walker.currentNode, el = node.parentElement;
      if (!node.textContent.trim() || seen.has(el) || el.closest('option, style, title')) continue;
      seen.add(el);
      const cs = getComputedStyle(el);
      if (cs.visibility === 'hidden' || !el.getClientRects().length) continue;
      const svg = el instanceof SVGElement;
      const bg = background(el, [255, 255, 255, 1]);
      const fg = over(parse(svg ? cs.fill : cs.color), bg);
      const op = Number(cs.opacity);
      out.push({text: node.textContent.trim().slice(0, 50), tag: el.tagName, cls: String(el.className.baseVal ?? el.className),
                selected: !!el.closest('.headlab-cat-item.is-selected'), tooltip: !!el.closest('.headlab-tooltip'),
                ratio: ratio(over([...fg.slice(0, 3), op], bg), bg)});
    }
  }
  return out;
""")


def _measure(nb) -> list[dict]:
    nb.cell(CELL_EX).locator('.headlab-cell[data-layer="1"][data-head="3"]').hover()   # a tooltip too
    return nb.evaluate(_CONTRAST)


def _shot(locator, name: str, artifacts) -> None:
    locator.screenshot(path=str(artifacts / name))
    if os.environ.get("HEADLAB_UPDATE_SCREENSHOTS") == "1":
        shutil.copy(artifacts / name, IMAGES / name)


def _theme(nb, name: str, light: bool) -> None:
    nb.evaluate(f"() => window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{name}'}})")
    nb.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{str(light).lower()}'", timeout=20_000)
    nb.wait_for_timeout(500)


def test_text_contrast_in_light_and_dark_theme_and_screenshots(nb, artifacts):
    ex = nb.cell(CELL_EX)
    expect(nb.cell(CELL_CAT).locator("li.headlab-cat-item.is-selected")).to_have_count(1)
    ex.locator('.headlab-cell[data-layer="0"][data-head="2"]').click()
    expect(ex.locator(".headlab-att-body")).to_have_attribute("data-state", "ready")
    nb.mouse.move(5, 5)
    nb.evaluate("() => window.scrollTo(0, 0)")
    ex.scroll_into_view_if_needed()
    _shot(ex.locator(".headlab-root").first, "explorer-light.png", artifacts)
    light = _measure(nb)
    _theme(nb, "JupyterLab Dark", light=False)
    try:
        ex.scroll_into_view_if_needed()
        nb.mouse.move(5, 5)
        _shot(ex.locator(".headlab-root").first, "explorer-dark.png", artifacts)
        dark = _measure(nb)
        # the multi-head matrix is painted on the theme's background, not on white
        mv = nb.cell(CELL_MATRIX).locator("canvas.headlab-matrix")
        expect(mv).to_have_attribute("data-background", re.compile(r"^#1[01]1[01]1[01]$"))
        corner = mv.evaluate("""c => { const ctx = c.getContext('2d'); const n = c.width;
            let best = null; for (let q = 0; q < n; q++) for (let k = 0; k < n; k++) {
              const d = ctx.getImageData(k, q, 1, 1).data; const s = d[0] + d[1] + d[2]; if (best === null || s < best) best = s; }
            return best; }""")
        assert corner < 3 * 40, corner                         # its empty cells are dark, as the page is
        nb.cell(CELL_CAT).screenshot(path=str(artifacts / "catalog-dark.png"))
    finally:
        _theme(nb, "JupyterLab Light", light=True)
    for name, texts in (("light", light), ("dark", dark)):
        assert len(texts) > 150, (name, len(texts))
        classes = " ".join(t["cls"] for t in texts).split()
        for needed in ("headlab-axis", "headlab-token", "headlab-role-help", "headlab-tip-help", "headlab-badge",
                       "headlab-muted", "headlab-btn"):
            assert needed in classes, (name, needed)
        assert any(t["selected"] for t in texts) and any(t["tooltip"] for t in texts), name
        low = [t for t in texts if t["ratio"] < MIN_CONTRAST]
        assert low == [], (name, low[:10])
        print(name, len(texts), "texts; lowest contrast", min(t["ratio"] for t in texts),
              "; selected catalogue row", min(t["ratio"] for t in texts if t["selected"]))
    assert nb.log.headlab_errors() == []
