"""Notebook output size and browser latency of headlab's Explorer vs BertViz and CircuitsVis.

For the same text cut to 128, 512 and 1,024 tokens this prints:

* headlab: the Explorer's notebook output as saved with widget state (JSON state, base64
  buffers, the bundle), its kernel-free output (``application/vnd.headlab.v1+json``, every
  head's sparse pattern within the 1 MB budget), the page written by ``to_html`` and the bytes
  one click fetches (one head's sparse rows);
* BertViz ``head_view`` (all layers, ``html_action="return"``) and CircuitsVis
  ``attention_patterns`` (one layer; its offline output, which inlines the bundle, and its CDN
  output, which holds only the data): the size of the HTML each puts into the notebook;
* in a real JupyterLab driven by the system Chromium: time to first paint of the Explorer
  (cell run -> grid and attention view drawn; the widgets are built beforehand) and
  click-to-view latency (click a head in the grid -> its pattern fetched from the kernel and
  drawn), in the default ``auto`` mode (a heat-strip with windowed arcs above 80 tokens) and in
  arc mode (windowed around the focused token).

Models: 128 and 512 tokens use the embedded default (all-MiniLM-L6-v2, 6 x 12 heads, 512
positions). 1,024 tokens exceeds MiniLM's positions, so that row uses a random-weight BERT
of the same shape (6 x 12 heads, ``max_position_embeddings=1100``) with MiniLM's tokenizer,
``truncate=False``. Sizes do not depend on the weights.

Peers are optional and only for this benchmark; they must not pull a CUDA torch:

    pip install --no-deps bertviz circuitsvis && pip install importlib-metadata

BertViz at 1,024 tokens would be a ~3.5 GB string; it runs only with ``--full`` and is
otherwise reported as an n^2 extrapolation of the 512-token measurement (marked "est.").

Usage: python3 benchmarks/widget_payload.py [--lengths 128 512 1024] [--no-browser] [--full]
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "browser"))


from headlab.views.protocol import MIME_TYPE as MIME  # noqa: E402
from headlab.views.sparse import pack_sparse, packed_nbytes  # noqa: E402

PARAGRAPH = (
    "The committee met on a cold Tuesday morning to discuss the proposal that had been circulating "
    "for weeks. Several members argued that the budget was unrealistic, while others insisted that "
    "the project would pay for itself within three years. After a long debate, the chair asked "
    "whether anyone could summarise the main risks. A junior analyst, who had said nothing so far, "
    "explained that the supplier contracts were unbelievably fragile and that a single delay could "
    "cascade through the schedule. The room fell silent; then the treasurer, visibly uncomfortable, "
    "admitted that she had reached the same conclusion but had not wanted to spoil the mood. "
)


def mb(n: float) -> str:
    return f"{n / 1e6:8.2f} MB" if n >= 1e5 else f"{n / 1e3:8.1f} kB"


# ------------------------------------------------------------------ text and models
def word_prefix(tokenizer, n_tokens: int) -> str:
    """The shortest word prefix of a long text whose tokenisation has exactly n_tokens tokens
    (special tokens included), or as close as WordPiece allows from below."""
    words = (PARAGRAPH * (1 + n_tokens // 60)).split()
    count = lambda k: len(tokenizer(" ".join(words[:k]))["input_ids"])
    lo, hi = 1, len(words)
    while lo < hi:                       # largest k with count(k) <= n_tokens
        mid = (lo + hi + 1) // 2
        if count(mid) <= n_tokens:
            lo = mid
        else:
            hi = mid - 1
    return " ".join(words[:lo])


def models():
    import headlab.model as hm
    from headlab.loading import default_model_path
    from transformers import AutoTokenizer, BertConfig, BertModel

    mini = hm.load()
    tok = AutoTokenizer.from_pretrained(default_model_path())
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=384, num_hidden_layers=mini.n_layers,
                     num_attention_heads=mini.n_heads, intermediate_size=512, max_position_embeddings=1100)
    import torch

    torch.manual_seed(0)
    # MiniLM's tokenizer (same vocabulary), allowed the longer model's 1,100 positions
    tok_long = AutoTokenizer.from_pretrained(default_model_path(), model_max_length=1100)
    big = hm.load(model=BertModel(cfg).eval(), tokenizer=tok_long, name="random-bert-1100pos")
    return mini, big, tok


def attention_for(n: int, mini, big, tok):
    text = word_prefix(tok, n)
    if n <= mini.max_length:
        return mini, mini.attention(text, truncate=True), "all-MiniLM-L6-v2"
    return big, big.attention(text, truncate=False), "random BERT, 1100 positions (truncate=False)"


# ------------------------------------------------------------------ sizes
def saved_state_bytes(widget) -> int:
    """Bytes the widget adds to a saved notebook: its state entry in metadata.widgets
    (buffers base64, as JupyterLab and nbclient store them) plus the output's view mimebundle."""
    from headlab.views.static_page import split_buffers

    clean, bufs = split_buffers(widget.get_state())
    entry = {"model_name": "AnyModel", "model_module": "anywidget", "model_module_version": "~0.11.*",
             "state": clean, "buffers": [{"path": p, "encoding": "base64", "data": base64.b64encode(b).decode()}
                                         for p, b in bufs]}
    view = {"application/vnd.jupyter.widget-view+json": {"version_major": 2, "version_minor": 0,
                                                          "model_id": "0" * 32}, "text/plain": "Explorer(...)"}
    return len(json.dumps({widget.model_id if hasattr(widget, "model_id") else "id": entry})) + len(json.dumps(view))


def state_without_bundle(widget) -> int:
    from headlab.views.static_page import split_buffers

    st = widget.get_state()
    st.pop("_esm", None)
    st.pop("_css", None)
    clean, bufs = split_buffers(st)
    return len(json.dumps(clean)) + sum(len(b) for _, b in bufs)


def bertviz_size(att) -> int | None:
    try:
        import torch
        from bertviz import head_view
    except ImportError:
        return None
    # att.layer works for the dense and the lazy form (m.attention goes lazy above 256 MB)
    w = [torch.from_numpy(att.layer(l)).unsqueeze(0) for l in range(att.n_layers)]
    html = head_view(w, list(att.tokens), html_action="return")
    n = len(html.data)
    del html, w
    gc.collect()
    return n


def circuitsvis_sizes(att, layer: int = 0):
    try:
        import torch
        from circuitsvis.attention import attention_patterns
    except ImportError:
        return None
    r = attention_patterns(tokens=list(att.tokens), attention=torch.from_numpy(att.layer(layer)))
    out = (len(r.local_src), len(r.cdn_src))
    del r
    gc.collect()
    return out


# ------------------------------------------------------------------ browser timing
FIRST_PAINT = """async ([i, n]) => {
  const app = window.jupyterapp, panel = app.shell.currentWidget, nb = panel.content;
  const cell = nb.widgets[i];
  const t0 = performance.now();
  nb.deselectAll(); nb.activeCellIndex = i;
  app.commands.execute('notebook:run-cell');
  return await new Promise((resolve, reject) => {
    const deadline = t0 + 120000;
    const tick = () => {
      const cells = cell.node.querySelectorAll('.headlab-grid-svg rect.headlab-cell').length;
      const body = cell.node.querySelector('.headlab-att-body');
      if (cells === n && body && body.dataset.state === 'ready') return resolve(performance.now() - t0);
      if (performance.now() > deadline) return reject(new Error('no paint'));
      requestAnimationFrame(tick);
    };
    tick();
  });
}"""

CLICK = """async ([i, layer, head]) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[i];
  const rect = cell.node.querySelector(`.headlab-cell[data-layer="${layer}"][data-head="${head}"]`);
  const body = cell.node.querySelector('.headlab-att-body');
  const want = `L${layer}H${head}`;
  const t0 = performance.now();
  rect.dispatchEvent(new MouseEvent('click', { bubbles: true }));
  return await new Promise((resolve, reject) => {
    const tick = () => {
      if (body.dataset.heads === want && body.dataset.state === 'ready') {
        // wait for the frame that shows it
        return requestAnimationFrame(() => resolve(performance.now() - t0));
      }
      if (body.dataset.state === 'error') return reject(new Error(body.innerText));
      if (performance.now() - t0 > 60000) return reject(new Error('timeout'));
      requestAnimationFrame(tick);
    };
    tick();
  });
}"""


def browser_timings(lengths: list[int]) -> dict:
    from labserver import CHROMIUM, FLAGS, open_notebook, start_server, stop_server, wait_output, write_notebook
    from playwright.sync_api import sync_playwright

    setup = (
        "import sys, time\n"
        f"sys.path.insert(0, {str(REPO / 'benchmarks')!r})\n"
        "import widget_payload as B\n"
        "import headlab.views as W\n"
        "mini, big, tok = B.models()\n"
        "ex = {}\n"
        f"for n in {lengths!r}:\n"
        "    m, att, _ = B.attention_for(n, mini, big, tok)\n"
        "    ex[n] = W.explore(m, att, selected=(0, 0))\n"
        "    ex[n + 1] = W.explore(m, att, selected=(0, 0), mode='arcs')\n"
        "print('READY', {n: len(e.tokens) for n, e in ex.items()})\n"
    )
    cells = [setup] + [f"ex[{n + k}]" for n in lengths for k in (0, 1)]
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        srv = start_server(Path(tmp), "lab")
        try:
            write_notebook(srv.root / "bench.ipynb", cells)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                open_notebook(page, srv, "bench.ipynb")
                page.evaluate("() => { const nb = window.jupyterapp.shell.currentWidget.content; nb.activeCellIndex = 0; window.jupyterapp.commands.execute('notebook:run-cell'); }")
                wait_output(page, 0, "READY", timeout=600)
                for j, n in enumerate(lengths):
                    for k, mode in enumerate(("auto", "arcs")):
                        i = 1 + 2 * j + k
                        paint = page.evaluate(FIRST_PAINT, [i, 72])
                        clicks = [page.evaluate(CLICK, [i, l, h]) for l, h in ((1, 2), (2, 5), (3, 7), (4, 1), (5, 10))]
                        out[(n, mode)] = (paint, statistics.median(clicks))
                browser.close()
        finally:
            stop_server(srv)
    return out


# ------------------------------------------------------------------ main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lengths", type=int, nargs="+", default=[128, 512, 1024])
    ap.add_argument("--no-browser", action="store_true", help="sizes only")
    ap.add_argument("--full", action="store_true", help="also run BertViz at lengths above 512 (GBs of RAM)")
    args = ap.parse_args(argv)

    import headlab.views as W

    mini, big, tok = models()
    rows = []
    bv_512 = None
    for n in args.lengths:
        m, att, label = attention_for(n, mini, big, tok)
        T = len(att.tokens)
        t = time.perf_counter()
        ex = W.explore(m, att, selected=(0, 0))
        build = time.perf_counter() - t
        ex.wait()
        saved = saved_state_bytes(ex)
        synced = state_without_bundle(ex)
        with tempfile.TemporaryDirectory() as tmp:
            page = ex.to_html(Path(tmp) / "explorer.html").stat().st_size
        mime_doc = ex._repr_mimebundle_()[0][MIME]
        output = len(json.dumps(mime_doc, indent=1))
        click = packed_nbytes(pack_sparse(ex.sparse(5, 11)))
        if n <= 512 or args.full:
            bv = bertviz_size(att)
            bv_note = ""
            if n == 512:
                bv_512 = bv
        else:
            bv = bv_512 * (T / 512) ** 2 if bv_512 else None
            bv_note = " est."
        cv = circuitsvis_sizes(att)
        rows.append(dict(n=n, T=T, label=label, saved=saved, synced=synced, page=page, click=click,
                         bv=bv, bv_note=bv_note, cv=cv, build=build, output=output,
                         heads=f"{mime_doc['budget']['heads_embedded']}/{mime_doc['budget']['heads_total']}"))
        del ex, att
        gc.collect()

    import anywidget

    bundle = (REPO / "headlab" / "static" / "index.js").stat().st_size
    print(f"headlab front-end bundle: {bundle / 1e3:.1f} kB minified (anywidget {anywidget.__version__})")
    print("\nNotebook output size (same text, cut to each length; 6 layers x 12 heads)")
    hdr = f"{'tokens':>6} | {'headlab saved':>13} | {'synced data':>11} | {'kernel-free output':>18} | {'one click':>11} | {'to_html':>11} | {'BertViz head_view':>18} | {'CircuitsVis 1 layer':>19} | {'(CDN variant)':>13} | model"
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        bv = f"{mb(r['bv'])}{r['bv_note']}" if r["bv"] else "not installed"
        cv = (mb(r["cv"][0]), mb(r["cv"][1])) if r["cv"] else ("not installed", "")
        print(f"{r['T']:>6} | {mb(r['saved']):>13} | {mb(r['synced']):>11} | {mb(r['output']) + ' ' + r['heads']:>18} | {mb(r['click']):>11} | {mb(r['page']):>11} | "
              f"{bv:>18} | {cv[0]:>19} | {cv[1]:>13} | {r['label']}")
    print("\nheadlab saved = Explorer widget state in the notebook (incl. the bundle, buffers base64);")
    print("synced data = the same without the bundle; kernel-free output = the headlab mime payload beside")
    print("the live widget (heads embedded / total); one click = one head's sparse rows (each query's")
    print("strongest keys), fetched on demand; to_html = self-contained offline page.")
    for r in rows:
        if r["bv"]:
            ratio = r["bv"] / r["saved"]
            cvr = f", CircuitsVis/headlab = {r['cv'][0] / r['saved']:.0f}x" if r["cv"] else ""
            print(f"  {r['T']:>5} tokens: BertViz/headlab = {ratio:.0f}x{r['bv_note']}{cvr}  (Explorer built in {r['build']:.1f} s)")

    chromium = os.environ.get("HEADLAB_CHROMIUM", "/usr/bin/chromium")
    if not args.no_browser and not os.path.exists(chromium):
        print(f"\nBrowser timings skipped: no Chromium at {chromium} (set HEADLAB_CHROMIUM).")
    elif not args.no_browser:
        print("\nBrowser (JupyterLab + system Chromium, headless, widgets built beforehand)")
        try:
            tim = browser_timings(args.lengths)
        except Exception as exc:  # pragma: no cover - environment problem
            print(f"  browser timing failed: {exc}")
            return 1
        print(f"{'tokens':>6} | {'mode':>12} | {'first paint':>11} | {'click-to-view (median of 5)':>28}")
        for n in args.lengths:
            for mode in ("auto", "arcs"):
                paint, click = tim[(n, mode)]
                shown = "strip" if mode == "auto" and n > 80 else "arcs"
                print(f"{n:>6} | {mode + ' (' + shown + ')':>12} | {paint:8.0f} ms | {click:25.0f} ms")
        print("first paint: cell run -> 72 grid cells and the attention view drawn; click-to-view: click a")
        print("head -> its sparse pattern requested from the kernel (custom message, binary buffers) and drawn.")
        print("BertViz and CircuitsVis load their JavaScript from CDNs (or inline it after a network probe);")
        print("on this offline machine their browser timings are not comparable and are not measured.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
