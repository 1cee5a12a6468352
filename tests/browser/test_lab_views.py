"""The views in a real JupyterLab, driven through the system Chromium.

One notebook runs the Explorer on the default model, a HeadGrid on a stand-in report and an
AttentionView whose tokens are HTML; the tests click, hover, type and read Python state back.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from conftest import PageLog
from labserver import cell_output, open_notebook, run_cell, wait_output, wait_python, write_notebook

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"
SETUP = r'''
import numpy as np, pandas as pd
from types import SimpleNamespace
import headlab.views as W
from headlab.model import load, Attention
from headlab.text import Sample
m = load()
ex = W.explore(m, "The quick brown fox jumps over the lazy dog because it was unbelievably bored.", selected=(0, 0))
if not any(ex.catalog_heads.values()):   # stand-in while the catalogue has nothing for this model
    ex.catalog = [{"id": "previous_token_head", "name": "Previous Token Head", "stage": "KR",
                   "definition": "Attends to the previous token.", "detector": ["previous"], "papers": [], "known_instances": []}]
    ex.catalog_heads = {"previous_token_head": [[0, 3, "top"], [1, 4, "top"], [2, 7, "top"]]}
PICK = max(ex.catalog_heads, key=lambda k: len(ex.catalog_heads[k]))
log = []
ex.observe(lambda ch: log.append(ch["new"]), "selected")
print("PICK", PICK, len(ex.catalog_heads[PICK]))
ex
'''
GRID = r'''
rows = [dict(role=r, layer=l, head=h, score=float((l * 12 + h) % 7) + (r == "b"), ci_low=0.0, ci_high=9.0,
             p_value=0.001 * (1 + h), q_value=0.004 * (1 + h), significant=h < 3, n=30)
        for r in ("a", "b") for l in range(4) for h in range(8)]
rep = SimpleNamespace(table=pd.DataFrame(rows), roles=["a", "b"], n_layers=4, n_heads=8, alpha=0.05, model_name="stand-in")
grid = W.HeadGrid(rep, title="Stand-in report")
grid
'''
XSS_CELL = r'''
toks = ["[CLS]", "<img src=x onerror=alert(1)>", "<script>alert(2)</script>", "cat", "[SEP]"]
words = toks[1:-1]
starts = np.cumsum([0] + [len(t) + 1 for t in words])[:-1]
T = len(toks)
sample = Sample(text=" ".join(words), input_ids=list(range(T)), tokens=toks, word_ids=[None, 0, 1, 2, None],
                spans=[None] + [(int(s), int(s) + len(t)) for s, t in zip(starts, words)] + [None],
                special_mask=np.array([1, 0, 0, 0, 1], bool), segment_ids=np.zeros(T, np.int64))
w = np.random.default_rng(0).random((2, 2, T, T)).astype(np.float32); w /= w.sum(-1, keepdims=True)
xv = W.AttentionView(Attention(w, sample, "synthetic"), heads=(0, 0), mode="arcs", threshold=0.0, top_k=2)
xv
'''
CELLS = [SETUP, GRID, XSS_CELL,
         'print("SELECTED", ex.selected, ex.heads, log)',
         'ex.selected = (1, 1)\nprint("SET", ex.heads)',
         'print("GRID", grid.selected, grid.role)',
         'ex.to_html("export.html"); print("EXPORTED")']
CELL_EX, CELL_GRID, CELL_XSS, CELL_PRINT, CELL_SET, CELL_GRIDPRINT, CELL_EXPORT = range(7)


@pytest.fixture(scope="module")
def nb(lab, chromium, artifacts):
    write_notebook(lab.root / "views.ipynb", CELLS)
    ctx = chromium.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = ctx.new_page()
    log = PageLog(page)
    open_notebook(page, lab, "views.ipynb")
    for i in (CELL_EX, CELL_GRID, CELL_XSS):
        run_cell(page, i)
    out = lambda i: page.locator(".jp-Notebook .jp-Cell").nth(i)
    page.log = log
    page.cell = out
    expect(out(CELL_EX).locator(".headlab-explorer")).to_have_count(1, timeout=120_000)
    yield page
    print("page errors:", *log.errors, sep="\n  ")
    print("console:", *log.console[-40:], sep="\n  ")
    ctx.close()


def arcs_signature(root) -> list[str]:
    return root.locator(".headlab-att-body .headlab-arc").evaluate_all(
        "els => els.map(e => [e.dataset.head, e.dataset.q, e.dataset.k, e.dataset.w].join(':'))")


def test_explorer_grid_click_updates_arcs_and_python(nb, artifacts):
    ex = nb.cell(CELL_EX)
    expect(ex.locator(".headlab-grid-svg rect.headlab-cell")).to_have_count(6 * 12)
    body = ex.locator(".headlab-att-body")
    expect(body).to_have_attribute("data-state", "ready", timeout=30_000)
    expect(body).to_have_attribute("data-heads", "L0H0")
    before = arcs_signature(ex)
    assert before, "no arcs for the initial head"
    t0 = time.perf_counter()
    ex.locator('.headlab-cell[data-layer="3"][data-head="5"]').click()
    expect(body).to_have_attribute("data-heads", "L3H5")
    expect(body).to_have_attribute("data-state", "ready")
    print(f"click-to-arcs {1000 * (time.perf_counter() - t0):.0f} ms")
    after = arcs_signature(ex)
    assert after and after != before
    assert all(s.startswith("L3H5:") for s in after)
    expect(ex.locator(".headlab-sel[data-layer='3'][data-head='5']")).to_have_count(1)
    expect(ex.locator(".headlab-head-info")).to_contain_text("Head L3H5")
    text = wait_python(nb, CELL_PRINT, "SELECTED (3, 5)")
    assert "SELECTED (3, 5) [[3, 5]] [(3, 5)]" in text   # observer fired once
    ex.screenshot(path=str(artifacts / "explorer-click.png"))


def test_shift_click_overlays_heads_in_distinct_colours(nb):
    ex = nb.cell(CELL_EX)
    ex.locator('.headlab-cell[data-layer="4"][data-head="2"]').click(modifiers=["Shift"])
    body = ex.locator(".headlab-att-body")
    expect(body).to_have_attribute("data-heads", "L3H5,L4H2")
    expect(body).to_have_attribute("data-state", "ready")
    heads = set(ex.locator(".headlab-arc").evaluate_all("els => els.map(e => e.dataset.head)"))
    colours = set(ex.locator("path.headlab-arc").evaluate_all("els => els.map(e => e.getAttribute('stroke'))"))
    assert heads == {"L3H5", "L4H2"} and len(colours) == 2
    expect(ex.locator(".headlab-chip")).to_have_count(2)
    # the notebook's own shift-click cell selection was not triggered
    assert nb.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets.filter(c => window.jupyterapp.shell.currentWidget.content.isSelectedOrActive(c)).length") == 1


def test_hover_shows_tooltip_with_stats_and_catalogue(nb):
    g = nb.cell(CELL_GRID)
    expect(g.locator("rect.headlab-cell")).to_have_count(4 * 8)
    expect(g.locator("circle.headlab-sig")).to_have_count(4 * 3)     # significance is a dot, not a colour
    g.locator('.headlab-cell[data-layer="2"][data-head="1"]').hover()
    tip = g.locator(".headlab-tooltip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("L2H1 · a")
    expect(tip).to_contain_text("CI [0, 9]")
    expect(tip).to_contain_text("q = 0.008")
    expect(tip).to_contain_text("significant")
    expect(tip).to_contain_text("catalogue: no published role")
    ex = nb.cell(CELL_EX)
    ex.locator("rect.headlab-hit").first.hover()
    expect(ex.locator("svg.headlab-arcs.is-focus")).to_have_count(1)
    expect(ex.locator(".headlab-info")).to_contain_text("attends to")


def test_grid_role_selector_keyboard_and_python_sync(nb):
    g = nb.cell(CELL_GRID)
    g.locator("select.headlab-role").select_option("b")
    svg = g.locator(".headlab-grid-svg")
    svg.focus()
    for key in ("ArrowDown", "ArrowDown", "ArrowRight", "Enter"):
        nb.keyboard.press(key)
    expect(g.locator(".headlab-sel[data-layer='2'][data-head='1']")).to_have_count(1)
    wait_python(nb, CELL_GRIDPRINT, "GRID (2, 1) b")


def test_python_sets_selected_and_view_follows(nb):
    run_cell(nb, CELL_SET)
    wait_output(nb, CELL_SET, "SET")
    ex = nb.cell(CELL_EX)
    expect(ex.locator(".headlab-sel[data-layer='1'][data-head='1']")).to_have_count(1)
    expect(ex.locator(".headlab-att-body")).to_have_attribute("data-heads", "L1H1")


def test_catalogue_pick_lights_up_heads(nb):
    pick = re.search(r"PICK (\S+) (\d+)", cell_output(nb, CELL_EX))
    assert pick, cell_output(nb, CELL_EX)
    ex = nb.cell(CELL_EX)
    ex.locator("select.headlab-entry").select_option(pick.group(1))
    expect(ex.locator("rect.headlab-hl")).to_have_count(int(pick.group(2)))
    expect(ex.locator(".headlab-card")).to_have_count(1)


def test_controls_words_threshold_and_matrix(nb):
    ex = nb.cell(CELL_EX)
    body = ex.locator(".headlab-att-body")
    n_tok = ex.locator("text.headlab-token").count()
    ex.locator("input.headlab-words").check()
    expect(body).to_have_attribute("data-state", "ready")
    n_word = ex.locator("text.headlab-token").count()
    assert 0 < n_word < n_tok          # "unbelievably" is several pieces
    ex.locator("input.headlab-topk").fill("1")
    ex.locator("input.headlab-topk").press("Enter")
    expect(ex.locator(".headlab-arc")).to_have_count(n_word, timeout=10_000)   # one key per query
    # a high threshold keeps only the strongest edges
    ex.locator("input.headlab-threshold").evaluate(
        "e => { e.value = '0.6'; e.dispatchEvent(new Event('input', { bubbles: true })); }")
    expect(ex.locator(".headlab-thr-val")).to_have_text(" 0.6")
    weights = ex.locator(".headlab-arc").evaluate_all("els => els.map(e => Number(e.dataset.w))")
    assert len(weights) < n_word and all(w >= 0.6 for w in weights)
    ex.locator("input.headlab-threshold").evaluate(
        "e => { e.value = '0.05'; e.dispatchEvent(new Event('input', { bubbles: true })); }")
    ex.locator("select.headlab-mode").select_option("lines")
    expect(ex.locator("svg.headlab-lines")).to_have_count(1)
    expect(ex.locator("svg.headlab-lines text.headlab-token[data-side='query']")).to_have_count(n_word)
    ex.locator("select.headlab-mode").select_option("matrix")
    canvas = ex.locator("canvas.headlab-matrix")
    expect(canvas).to_have_count(1)
    canvas.hover(position={"x": 3, "y": 3})
    expect(ex.locator(".headlab-att .headlab-tooltip")).to_contain_text("query #0")
    ex.locator("select.headlab-mode").select_option("arcs")
    ex.locator("input.headlab-words").uncheck()


def test_download_svg_of_the_current_view(nb, artifacts):
    g = nb.cell(CELL_GRID)
    with nb.expect_download() as d:
        g.locator("button[data-export='svg']").click()
    path = artifacts / "grid-download.svg"
    d.value.save_as(path)
    text = path.read_text()
    assert text.startswith("<svg") and text.count('class="headlab-cell"') == 32
    with nb.expect_download() as d:
        nb.cell(CELL_EX).locator(".headlab-att button[data-export='png']").click()
    png = artifacts / "attention-download.png"
    d.value.save_as(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_html_tokens_render_as_text_and_run_nothing(nb, artifacts):
    xv = nb.cell(CELL_XSS)
    tokens = xv.locator("text.headlab-token")
    expect(tokens).to_have_count(5)
    assert tokens.nth(1).text_content() == XSS
    assert tokens.nth(2).text_content() == "<script>alert(2)</script>"
    assert xv.locator(".jp-OutputArea-output img").count() == 0
    assert xv.locator(".jp-OutputArea-output script").count() == 0
    assert nb.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0
    xv.locator("rect.headlab-hit[data-i='1']").hover()
    expect(xv.locator(".headlab-info")).to_contain_text(XSS)
    assert nb.log.dialogs == []
    xv.screenshot(path=str(artifacts / "xss-tokens.png"))


def test_static_export_works_with_network_blocked(nb, lab, chromium, artifacts):
    run_cell(nb, CELL_EXPORT)
    wait_output(nb, CELL_EXPORT, "EXPORTED")
    ctx = chromium.new_context(viewport={"width": 1280, "height": 1000})
    blocked = []

    def route(r):
        if r.request.url.startswith(("file:", "blob:", "data:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    ctx.route("**/*", route)
    page = ctx.new_page()
    log = PageLog(page)
    page.goto((lab.root / "export.html").as_uri())
    expect(page.locator("[data-headlab-ready]")).to_have_count(1, timeout=15_000)
    expect(page.locator("rect.headlab-cell")).to_have_count(72)
    page.locator('.headlab-cell[data-layer="5"][data-head="7"]').click()
    body = page.locator(".headlab-att-body")
    expect(body).to_have_attribute("data-heads", "L5H7")
    expect(body).to_have_attribute("data-state", "ready")
    assert page.locator(".headlab-arc").count() > 0
    page.screenshot(path=str(artifacts / "export-offline.png"), full_page=True)
    assert log.errors == [] and blocked == [] and log.dialogs == []
    ctx.close()


def test_dark_theme(nb, artifacts):
    ex = nb.cell(CELL_EX)
    root = ex.locator(".headlab-root").first
    light = root.evaluate("e => getComputedStyle(e).color")
    token_light = ex.locator("text.headlab-token").first.evaluate("e => getComputedStyle(e).fill")
    nb.cell(CELL_EX).screenshot(path=str(artifacts / "explorer-light.png"))
    nb.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    nb.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=20_000)
    nb.wait_for_timeout(300)
    dark = root.evaluate("e => getComputedStyle(e).color")
    token_dark = ex.locator("text.headlab-token").first.evaluate("e => getComputedStyle(e).fill")
    assert light != dark and token_light != token_dark
    bright = lambda c: sum(map(int, re.findall(r"\d+", c)[:3]))
    assert bright(dark) > bright(light)
    ex.screenshot(path=str(artifacts / "explorer-dark.png"))
    nb.cell(CELL_GRID).screenshot(path=str(artifacts / "grid-dark.png"))
    assert nb.log.headlab_errors() == []
