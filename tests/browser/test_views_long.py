"""Views at several thousand tokens in a real JupyterLab (Chromium): heat-strip, windowed arcs,
adaptive thresholds and their message, the zoomable matrix, and the Explorer's progressive
first paint (the shown role first, the rest filled in with visible progress).

The attention is a stand-in with the lazy attention's interface (``head``, ``layer``,
``top_k``; no ``.weights``): patterns are made per head on request, as the lazy form of
long inputs makes them, so nothing here holds ``[L, H, T, T]``.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from conftest import notebook_page
from labserver import run_cell, wait_output, wait_python

pytestmark = pytest.mark.browser
MIME = "application/vnd.headlab.v1+json"

#: a lazy-attention stand-in: structured heads (a local band at an offset, a sink, noise), made on request
STANDIN = r'''
import time
import numpy as np
from headlab.attention import _Readers, top_k_rows
from headlab.text import Sample

class LazyStandIn(_Readers):
    """head / layer / top_k like hl.Attention, no .weights: each head is made when asked for."""

    def __init__(self, T, n_layers=2, n_heads=3, seed=0, model_name="stand-in", is_causal=False):
        words = [f"w{i}" for i in range(T - 2)]
        words[5] = "<img src=x onerror=alert(1)>"
        starts = np.cumsum([0] + [len(w) + 1 for w in words])[:-1]
        special = np.zeros(T, bool)
        special[[0, T - 1]] = True
        self.sample = Sample(text=" ".join(words), input_ids=list(range(T)), tokens=["[CLS]"] + words + ["[SEP]"],
                             word_ids=[None] + list(range(T - 2)) + [None],
                             spans=[None] + [(int(s), int(s) + len(w)) for s, w in zip(starts, words)] + [None],
                             special_mask=special, segment_ids=np.zeros(T, np.int64))
        self.n_layers, self.n_heads, self.seed = n_layers, n_heads, seed
        self.model_name, self.is_causal = model_name, is_causal
        self.calls = 0

        self.top_k_delay = 0.0     # seconds a whole head's top-k takes on top (a head still to be computed)

    def rows(self, layer, head, q0=0, q1=None):
        layer, head = self._check(layer, head)
        self.calls += 1
        T = len(self.sample)
        q1 = T if q1 is None else q1
        rng = np.random.default_rng([self.seed, layer, head])
        i = np.arange(T, dtype=np.float32)
        offset = (layer * self.n_heads + head) % 3 - 1            # previous, self or next token
        noise = rng.standard_normal((T, T), dtype=np.float32)[q0:q1]
        logits = -np.abs(i[q0:q1, None] - i[None, :] - offset) * (1.0 + head) + noise
        logits[:, 0] += 2.0 + layer                                 # a sink on [CLS]
        logits -= logits.max(1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(1, keepdims=True)
        return logits

    def head(self, layer, head):
        return self.rows(layer, head)

    def top_k(self, layer, head, k=8):
        time.sleep(self.top_k_delay)
        return super().top_k(layer, head, k)

    def layer(self, layer):
        return np.stack([self.head(layer, h) for h in range(self.n_heads)])

def slow_scorer(att, delay):
    """A scorer that takes `delay` seconds per call after the first: the progressive grid has time to show."""
    first = [True]
    def score(roles):
        if not first[0]:
            time.sleep(delay)
        first[0] = False
        rng = np.random.default_rng(len(roles))
        return {r: rng.random((att.n_layers, att.n_heads)).astype(np.float32) for r in roles if r != "bos"}
    return score
'''

SETUP = STANDIN + r'''
import headlab.views as W
att = LazyStandIn(3000)
view = W.AttentionView(att, heads=(1, 2))
print("READY", len(view.tokens))
'''
EXPLORER = r'''
ex = W.Explorer(att, roles=["previous", "next", "self", "local", "cls", "bos"], scorer=slow_scorer(att, 2.5),
                selected=(0, 1), role="previous")
ex
'''
SLOW = r'''
slow = LazyStandIn(3000, seed=1)
slow.top_k_delay = 4.0
early = W.AttentionView(slow, heads=(0, 2))
early
'''
DETACH = r'''
lone = LazyStandIn(600, seed=2)
dv = W.AttentionView(lone, heads=(0, 0))
asks = []                                   # pattern requests the kernel receives from the page
dv.on_msg(lambda _w, msg, _b: asks.append(msg.get("kind")))
dv
'''
CELLS = [SETUP, "view", EXPLORER, 'print("FOCUS", view.focus_token, "PENDING", ex.pending, ex.roles)', SLOW,
         'early.focus_token = 1500\nearly.heads = [(1, 0)]\nprint("SWITCHED", early.heads)', DETACH,
         'before = asks.count("pattern")\ndv.heads = [(1, 1)]\nprint("SET")', 'print("ASKED", asks.count("pattern") - before)']
CELL_SETUP, CELL_VIEW, CELL_EX, CELL_PRINT, CELL_SLOW, CELL_SWITCH, CELL_DETACH, CELL_HEADS, CELL_ASKED = range(9)


@pytest.fixture(scope="module")
def nb(lab, chromium, artifacts):
    with notebook_page(chromium, lab, "long.ipynb", CELLS) as page:
        run_cell(page, CELL_SETUP)
        wait_output(page, CELL_SETUP, "READY", timeout=120)
        yield page


def test_explorer_paints_the_shown_role_first_and_fills_in_the_rest(nb, artifacts):
    run_cell(nb, CELL_EX)
    ex = nb.cell(CELL_EX)
    grid = ex.locator(".headlab-grid")
    expect(ex.locator("rect.headlab-cell")).to_have_count(6, timeout=60_000)
    # first paint: the shown role has scores, the others are still coming, with visible progress
    expect(grid).not_to_have_attribute("data-pending", "0")
    expect(ex.locator(".headlab-progress-row")).to_be_visible()
    expect(ex.locator(".headlab-progress-row")).to_contain_text("scoring roles in the background")
    assert ex.locator("rect.headlab-cell.is-missing").count() == 0          # "previous" is drawn
    assert "(scoring…)" in " ".join(ex.locator("select.headlab-role option").all_text_contents())
    ex.screenshot(path=str(artifacts / "long-explorer-first-paint.png"))
    # ...and the background fills the rest in; "bos" does not apply and leaves the list
    expect(grid).to_have_attribute("data-pending", "0", timeout=30_000)
    expect(ex.locator(".headlab-progress-row")).to_be_hidden()
    options = ex.locator("select.headlab-role option").all_text_contents()
    assert options == ["previous", "next", "self", "local", "cls"]
    wait_python(nb, CELL_PRINT, "PENDING []")
    # the saved output is completed through its display id: the kernel-free payload gets every role
    saved = {}
    for _ in range(120):
        saved = nb.evaluate(f"""() => {{
          const cell = window.jupyterapp.shell.currentWidget.content.widgets[{CELL_EX}];
          const out = cell.model.outputs.get(0).data["{MIME}"];
          return {{ notice: out.state.notice, roles: out.state.roles, budget: out.budget }};
        }}""")
        if saved["budget"]["heads_embedded"]:
            break
        nb.wait_for_timeout(500)
    assert saved["notice"] == "" and saved["roles"] == options, saved
    assert saved["budget"]["heads_total"] == 6 and saved["budget"]["heads_embedded"] >= 1


def test_click_a_head_draws_strip_and_windowed_arcs_at_3000_tokens(nb, artifacts):
    run_cell(nb, CELL_EX)
    ex = nb.cell(CELL_EX)
    body = ex.locator(".headlab-att-body")
    expect(body).to_have_attribute("data-state", "ready", timeout=60_000)
    expect(body).to_have_attribute("data-mode", "strip")
    picked = body.get_attribute("data-focus")
    t0 = time.perf_counter()
    ex.locator('.headlab-cell[data-layer="1"][data-head="2"]').click()
    expect(body).to_have_attribute("data-heads", "L1H2")
    expect(body).to_have_attribute("data-state", "ready", timeout=30_000)
    assert body.get_attribute("data-focus") == picked        # the page's pick stays across heads
    print(f"click-to-strip at 3,000 tokens: {1000 * (time.perf_counter() - t0):.0f} ms (incl. computing the head)")
    expect(ex.locator(".headlab-strip-tok")).to_have_count(3000)
    arcs = ex.locator("svg.headlab-arcs")
    lo, hi = int(arcs.get_attribute("data-lo")), int(arcs.get_attribute("data-hi"))
    assert hi - lo <= 48 and ex.locator("svg.headlab-arcs text.headlab-token").count() == hi - lo
    assert ex.locator(".headlab-arc").count() > 0
    width = float(arcs.get_attribute("width"))
    assert width < 4000, width                      # a window, not a 3,000-token strip
    info = ex.locator(".headlab-info").inner_text()
    assert "(auto)" in info and "of 3000" in info and not info.startswith("0 of")
    # the token with markup is text on the strip
    assert ex.locator(".headlab-strip-tok").nth(6).text_content() == "<img src=x onerror=alert(1)>"
    assert nb.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0
    # clicking a token on the strip moves the focus and the arcs' window
    ex.locator('.headlab-strip-tok[data-i="2500"]').click()
    expect(body).to_have_attribute("data-focus", "2500")
    lo2 = int(ex.locator("svg.headlab-arcs").get_attribute("data-lo"))
    assert lo2 <= 2500 < lo2 + 48 and lo2 != lo
    expect(ex.locator('.headlab-strip-tok[data-i="2500"]')).to_have_class("headlab-strip-tok is-focus")
    # the strongest colour on the strip is next to the focus (this head attends to i+1)
    ex.screenshot(path=str(artifacts / "long-strip.png"))
    assert nb.log.dialogs == []


def test_threshold_says_how_to_see_hidden_edges(nb):
    run_cell(nb, CELL_VIEW)
    v = nb.cell(CELL_VIEW)
    body = v.locator(".headlab-att-body")
    expect(body).to_have_attribute("data-state", "ready", timeout=60_000)
    v.locator("input.headlab-threshold").evaluate(
        "e => { e.value = '0.99'; e.dispatchEvent(new Event('input', { bubbles: true })); }")
    info = v.locator(".headlab-info")
    expect(info).to_contain_text("(set)")
    expect(info).to_contain_text("lower the threshold")
    expect(info).to_contain_text("press auto")
    v.locator("button.headlab-thr-auto").click()
    expect(info).to_contain_text("(auto)")
    assert v.locator(".headlab-arc").count() > 0
    expect(v.locator(".headlab-kept")).to_contain_text("of its attention")


def test_zoomable_matrix_with_block_max_overview(nb, artifacts):
    v = nb.cell(CELL_VIEW)
    v.locator("select.headlab-mode").select_option("matrix")
    expect(v.locator("canvas.headlab-matrix-overview")).to_have_count(1, timeout=30_000)
    detail = v.locator("canvas.headlab-matrix-detail")
    expect(detail).to_have_count(1)
    before = detail.get_attribute("aria-label")
    over = v.locator("canvas.headlab-matrix-overview")
    box = over.bounding_box()
    over.click(position={"x": box["width"] * 0.9, "y": box["height"] * 0.9})
    expect(v.locator("canvas.headlab-matrix-detail")).not_to_have_attribute("aria-label", before)
    v.locator("button[data-zoom='in']").click()
    expect(v.locator(".headlab-matrix-bar")).to_contain_text("32 × 32")
    v.screenshot(path=str(artifacts / "long-matrix.png"))
    v.locator("select.headlab-mode").select_option("auto")
    expect(v.locator(".headlab-att-body")).to_have_attribute("data-mode", "strip")
    assert nb.log.headlab_errors() == []


def test_a_slow_long_head_draws_the_rows_around_the_focus_before_the_rest(nb, artifacts):
    """The kernel sends the 256 queries around the focus first (cheap), then the whole head
    (here 4 s late): the strip and its windowed arcs are drawn from the first, then redrawn.
    With no focus yet, the page picks one among the first 128 queries, which the first rows hold."""
    run_cell(nb, CELL_SLOW)
    v = nb.cell(CELL_SLOW)
    body = v.locator(".headlab-att-body")
    expect(body).to_have_attribute("data-state", "early", timeout=60_000)
    focus = int(body.get_attribute("data-focus"))
    assert 0 < focus < 128
    expect(v.locator(".headlab-kept")).to_contain_text("the rest of the pattern is coming")
    arcs = v.locator("svg.headlab-arcs")
    lo, hi = int(arcs.get_attribute("data-lo")), int(arcs.get_attribute("data-hi"))
    assert lo <= focus < hi and v.locator(".headlab-arc").count() > 0
    early_edges = v.locator(".headlab-info").inner_text()
    v.screenshot(path=str(artifacts / "long-early-rows.png"))
    expect(body).to_have_attribute("data-state", "ready", timeout=30_000)
    expect(v.locator(".headlab-kept")).not_to_contain_text("coming")
    assert body.get_attribute("data-focus") == str(focus)            # the whole head keeps the page's pick
    assert v.locator(".headlab-info").inner_text() == early_edges     # the same rows, now from the whole head
    # another head and a focus from Python: early rows again, around it; colours *to* the focus wait for every row
    run_cell(nb, CELL_SWITCH)
    wait_output(nb, CELL_SWITCH, "SWITCHED")
    expect(body).to_have_attribute("data-heads", "L1H0")
    expect(body).to_have_attribute("data-focus", "1500")
    expect(body).to_have_attribute("data-state", "early", timeout=30_000)
    v.locator("select.headlab-direction").select_option("to")
    expect(body).to_have_attribute("data-state", "loading")
    expect(body).to_have_attribute("data-state", "ready", timeout=30_000)
    assert body.get_attribute("data-focus") == "1500"
    assert nb.log.headlab_errors() == []


def test_a_view_taken_off_the_page_asks_for_nothing_until_shown_again(nb):
    """jupyterlab_widgets renders an updated output into a new view and leaves the old one alive
    off the page; such a view must not keep asking the kernel for patterns."""
    run_cell(nb, CELL_DETACH)
    v = nb.cell(CELL_DETACH)
    body = v.locator(".headlab-att-body")
    expect(body).to_have_attribute("data-state", "ready", timeout=60_000)
    nb.evaluate(f"""() => {{
      const att = window.jupyterapp.shell.currentWidget.content.widgets[{CELL_DETACH}].node.querySelector('.headlab-att');
      window.__headlabParked = [att, att.parentNode];
      att.remove();
    }}""")
    run_cell(nb, CELL_HEADS)
    wait_output(nb, CELL_HEADS, "SET")
    nb.wait_for_timeout(2000)            # a request would reach the kernel now, between cells
    run_cell(nb, CELL_ASKED)
    assert "ASKED 0" in wait_output(nb, CELL_ASKED, "ASKED")
    nb.evaluate("() => { const [att, parent] = window.__headlabParked; parent.appendChild(att); att.scrollIntoView(); }")
    expect(body).to_have_attribute("data-heads", "L1H1")
    expect(body).to_have_attribute("data-state", "ready", timeout=30_000)
    assert nb.log.headlab_errors() == []
