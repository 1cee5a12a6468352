"""The prebuilt JupyterLab extension (js/lab) in a real JupyterLab and Notebook 7, DEFAULT settings.

Saved notebooks are written here with nbformat; each output carries the headlab mime payload made
by today's Python (``widget_payload`` minus esm/css) beside a widget reference no kernel holds.
Covered: saved outputs with a fresh kernel and with no kernel, the live widget winning while the
kernel holds it (and after a page reload), the report document, the catalogue side panel, the
palette commands, and the wheel's labextension in a fresh virtual environment.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from types import SimpleNamespace

import nbformat
import numpy as np
import pytest
from playwright.sync_api import expect

from conftest import PageLog
from labserver import REPO, SAVE_STATE_SETTINGS, open_notebook, run_cell, start_server, stop_server, wait_python

pytestmark = pytest.mark.browser

MIME = "application/vnd.headlab.v1+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"

# ---------------------------------------------------------------- tiny data (as in tests/unit)
FAKES = r'''
import numpy as np, pandas as pd
from types import SimpleNamespace
from headlab.model import Attention
from headlab.text import Sample

def fake_attention(T=6, L=2, H=3, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.random((L, H, T, T)).astype(np.float32)
    w /= w.sum(-1, keepdims=True)
    tokens = ["[CLS]"] + [f"t{i}" for i in range(T - 2)] + ["[SEP]"]
    special = np.zeros(T, bool)
    special[[0, T - 1]] = True
    words = tokens[1:-1]
    starts = np.cumsum([0] + [len(t) + 1 for t in words])[:-1]
    sample = Sample(text=" ".join(words), input_ids=list(range(T)), tokens=tokens,
                    word_ids=[None] + list(range(T - 2)) + [None],
                    spans=[None] + [(int(s), int(s) + len(t)) for s, t in zip(starts, words)] + [None],
                    special_mask=special, segment_ids=np.zeros(T, dtype=np.int64))
    return Attention(w, sample, "fake-model")

def fake_report(L=2, H=3, roles=("previous", "self")):
    rng = np.random.default_rng(1)
    rows = []
    for r in roles:
        for l in range(L):
            for h in range(H):
                s, q = float(rng.random()), float(rng.random() * 0.1)
                rows.append(dict(role=r, layer=l, head=h, score=s, ci_low=s - 0.1, ci_high=s + 0.1,
                                 p_value=q / 2, q_value=q, significant=q < 0.05, n=20))
    return SimpleNamespace(table=pd.DataFrame(rows), roles=list(roles), n_layers=L, n_heads=H, alpha=0.05,
                           model_name="fake-model")

def headlab_mime(w, budget_bytes=None):
    from headlab.views import mime
    return mime.payload(w, budget_bytes=budget_bytes)
'''
fakes = SimpleNamespace()
exec(FAKES, fakes.__dict__)


def partial_payload(w) -> dict:
    """The payload of `w` under a byte budget that saves some of its heads, not all of them."""
    base = len(json.dumps(fakes.headlab_mime(w, budget_bytes=1)))
    for extra in range(100, 50_000, 50):
        doc = fakes.headlab_mime(w, budget_bytes=base + extra)
        if 1 < doc["budget"]["heads_embedded"] < doc["budget"]["heads_total"]:
            return doc
    raise AssertionError("no budget saves only some of the heads")


def saved_outputs() -> tuple[list, dict]:
    """Cells with the four views as saved outputs, and which explorer heads were saved / left out."""
    import headlab.views.widgets as W
    from headlab import catalog

    att, rep = fakes.fake_attention(), fakes.fake_report()
    views = [
        ("grid", W.HeadGrid(rep, title="saved grid")),
        ("attention", W.AttentionView(att, heads=(0, 1), title="saved attention")),
        ("explorer", W.Explorer(att, report=rep, selected=(0, 0), title="saved explorer")),
        ("catalog", W.CatalogBrowser(entries=catalog.summaries(), title="saved catalogue")),
    ]
    cells, info = [], {}
    for name, w in views:
        doc = partial_payload(w) if name == "explorer" else fakes.headlab_mime(w)
        if name == "explorer":
            saved = sorted(set(doc["state"]["preload"]) - {"L0H0"})
            missing = sorted({f"L{l}H{h}" for l in range(2) for h in range(3)} - set(doc["state"]["preload"]))
            # The catalogue index lists types whose entries the output does not carry: one from the
            # catalogue, and one no catalogue has (an output of a newer headlab, say).
            unsynced = catalog.get("induction_head")
            assert unsynced.id not in {e["id"] for e in doc["state"]["catalog"]}
            doc["state"]["catalog_index"] += [[unsynced.id, unsynced.name, "LR"], ["no_such_type", "No Such Type", "KR"]]
            info = {"saved": saved[0], "missing": missing[0], "how": doc["budget"]["how"], "unsynced": unsynced.id,
                    "unsynced_name": unsynced.name}
        cell = nbformat.v4.new_code_cell(f"# {name}: never run in these tests")
        cell.outputs = [nbformat.v4.new_output("display_data", data={
            MIME: doc,
            WIDGET_MIME: {"version_major": 2, "version_minor": 1, "model_id": w.model_id},   # dies with this kernel
            "text/plain": repr(w)})]
        cells.append(cell)
        w.close()
    return cells, info


def write_nb(path, cells, kernel=True) -> None:
    meta = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}} if kernel else {}
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata=meta), str(path))


def report_doc() -> dict:
    """What `headlab scan` writes: a real Report's JSON plus a `detect` section.

    Lifts above and below 0 (``self`` avoids its keys), a role only one sample applied to
    (``rare``: no CI, no q), and probe shares beside copying scores (-1..1).
    """
    from headlab.cli import scan_json
    from headlab.report import Report

    rng = np.random.default_rng(3)
    samples = {r: rng.normal(m, 0.1, (20, 2, 3)) for r, m in [("previous", 0.12), ("self", -0.3), ("first", 0.05)]}
    samples["rare"] = np.full((20, 2, 3), np.nan)
    samples["rare"][0] = rng.normal(0.3, 0.1, (2, 3))
    rep = Report.from_samples(samples, method="lift", n_boot=100, model_name="gpt2", catalog=False)
    probes = Report.from_samples({"induction": rng.normal(0.2, 0.1, (15, 2, 3)), "copying": rng.normal(-0.2, 0.3, (15, 2, 3))},
                                 method="probe", n_boot=100, model_name="gpt2", catalog=False)
    return scan_json(rep, [probes], {"model": "gpt2"})


def python_colours(part: dict, role: str) -> dict:
    """Head -> the colour headlab.views.scales gives its score (as the grid holds it: float32)."""
    from headlab.views import scales

    lo, hi = scales.domain(scales.score_kind(part["method"], role), [r["score"] for r in part["table"] if r["role"] == role])
    return {(r["layer"], r["head"]): scales.colour(float(np.float32(r["score"])), lo, hi)
            for r in part["table"] if r["role"] == role}


def grid_colours(part_locator, role: str) -> dict:
    """Head -> the fill of its cell in a report part's grid, after choosing `role`."""
    part_locator.locator("select.headlab-role").select_option(role)
    cells = part_locator.locator("rect.headlab-cell")
    expect(cells.first).to_have_attribute("aria-label", re.compile(rf"^L0H0 {re.escape(role)}:"))
    got = cells.evaluate_all("els => els.map(e => [+e.dataset.layer, +e.dataset.head, e.getAttribute('fill')])")
    return {(l, h): fill for l, h, fill in got}


# ---------------------------------------------------------------- servers with default settings
def default_server(tmp_path_factory, app):
    """JupyterLab / Notebook 7 as installed: no widget-manager settings at all (saveState off)."""
    server = start_server(tmp_path_factory.mktemp(f"{app}-default"), app, save_state=False)
    assert not (server.base / "settings" / SAVE_STATE_SETTINGS).exists()
    return server


@pytest.fixture(scope="module")
def lab0(tmp_path_factory):
    server = default_server(tmp_path_factory, "lab")
    cells, server.saved = saved_outputs()
    write_nb(server.root / "saved.ipynb", cells)
    write_nb(server.root / "nokernel.ipynb", cells, kernel=False)
    (server.root / "headlab-report.json").write_text(json.dumps(report_doc()))
    yield server
    stop_server(server)


@pytest.fixture
def page(chromium, artifacts, request):
    ctx = chromium.new_context(viewport={"width": 1300, "height": 1100}, permissions=["clipboard-read", "clipboard-write"])
    pg = ctx.new_page()
    pg.log = PageLog(pg)
    yield pg
    pg.screenshot(path=str(artifacts / f"lab-extension-{request.node.name}.png"), full_page=True)
    print("page errors:", *pg.log.errors, sep="\n  ")
    ctx.close()


def open_lab(pg, server) -> None:
    pg.goto(f"{server.url}/lab?token={server.token}&reset")
    pg.wait_for_function("() => window.jupyterapp !== undefined", timeout=60_000)
    pg.evaluate("async () => { await window.jupyterapp.restored; }")


def save_state_is_off(pg) -> bool:
    return pg.evaluate("() => window.jupyterapp.commands.isToggled('@jupyter-widgets/jupyterlab-manager:saveWidgetState')") is False


def cell(pg, i):
    return pg.locator(".jp-Notebook .jp-Cell").nth(i)


def check_saved_views(pg, saved: dict) -> None:
    """Every view of saved_outputs() draws from its payload, and clicks work from it."""
    outs = pg.locator(".headlab-lab-output")
    expect(outs).to_have_count(4, timeout=60_000)
    assert outs.evaluate_all("els => els.map(e => e.dataset.headlabSource)") == ["saved"] * 4
    expect(cell(pg, 0).locator("rect.headlab-cell")).to_have_count(6)
    att = cell(pg, 1).locator(".headlab-att-body")
    expect(att).to_have_attribute("data-state", "ready")
    assert cell(pg, 1).locator(".headlab-arc").count() > 0
    ex = cell(pg, 2)
    body = ex.locator(".headlab-att-body")
    expect(body).to_have_attribute("data-heads", "L0H0")
    expect(body).to_have_attribute("data-state", "ready")

    def pick(key):                                               # "L1H2" -> click layer 1, head 2
        layer, head = re.fullmatch(r"L(\d+)H(\d+)", key).groups()
        ex.locator(f'.headlab-cell[data-layer="{layer}"][data-head="{head}"]').click()

    pick(saved["saved"])                                         # saved in the output: its arcs
    expect(body).to_have_attribute("data-heads", saved["saved"])
    expect(body).to_have_attribute("data-state", "ready")
    heads = set(ex.locator(".headlab-arc").evaluate_all("els => els.map(e => e.dataset.head)"))
    assert heads == {saved["saved"]}
    expect(ex.locator(".headlab-head-info")).to_contain_text(f"Head {saved['saved']}")
    pick(saved["missing"])                                       # left out by the budget: says how
    expect(body).to_have_attribute("data-state", "error")
    expect(body).to_contain_text(f"{saved['missing']} is not saved in this output. {saved['how']}")
    assert "Re-run the cell" in saved["how"]
    # Catalogue entries the output did not sync: the shipped catalogue answers at once, and an
    # entry nobody has gets an error reply, not a wait for a kernel (the store would give up after 8 s).
    card = ex.locator(".headlab-card-box")
    ex.locator("select.headlab-entry").select_option(saved["unsynced"])
    expect(card.locator(f".headlab-card[data-entry='{saved['unsynced']}']")).to_contain_text(saved["unsynced_name"], timeout=5_000)
    ex.locator("select.headlab-entry").select_option("no_such_type")
    expect(card.locator(".headlab-error")).to_have_text(
        'Entry not available: "no_such_type" is not in the catalogue shipped with headlab\'s extension.', timeout=4_000)
    cat = cell(pg, 3)
    cat.locator("input.headlab-search").fill("induction")
    expect(cat.locator("li.headlab-cat-item[data-entry='induction_head']")).to_have_count(1)
    assert pg.log.headlab_errors() == [] and pg.log.dialogs == []


# ---------------------------------------------------------------- saved notebooks
def test_saved_notebook_with_a_fresh_kernel(lab0, page):
    open_notebook(page, lab0, "saved.ipynb")          # waits for the new kernel
    assert save_state_is_off(page)
    check_saved_views(page, lab0.saved)
    assert page.evaluate("() => window.jupyterapp.shell.currentWidget.model.cells.get(0).executionCount") is None


def test_saved_notebook_with_no_kernel(lab0, page):
    page.goto(f"{lab0.url}/lab/tree/nokernel.ipynb?token={lab0.token}&reset")
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=60_000)
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Select Kernel", timeout=60_000)
    dialog.locator("select").select_option(label="No Kernel")
    dialog.get_by_role("button", name="Select").click()
    page.wait_for_function("() => { const s = window.jupyterapp.shell.currentWidget.sessionContext;"
                           " return s.hasNoKernel && !(s.session && s.session.kernel); }", timeout=30_000)
    check_saved_views(page, lab0.saved)


@pytest.fixture(scope="module")
def nb7_0(tmp_path_factory):
    server = default_server(tmp_path_factory, "notebook")
    cells, server.saved = saved_outputs()
    write_nb(server.root / "saved.ipynb", cells)
    yield server
    stop_server(server)


def test_saved_notebook_in_notebook7(nb7_0, page):
    open_notebook(page, nb7_0, "saved.ipynb")
    assert save_state_is_off(page)
    check_saved_views(page, nb7_0.saved)


# ---------------------------------------------------------------- live widget wins
LIVE_CELLS = [
    FAKES + r'''
import headlab.views.widgets as W
from IPython.display import display
grid = W.HeadGrid(fake_report(), title="live grid")
data = grid._repr_mimebundle_()
data = dict(data[0] if isinstance(data, tuple) else data)
data.setdefault("application/vnd.headlab.v1+json", headlab_mime(grid))   # the widget may carry it already
display(data, raw=True)
''',
    'print("LIVE", grid.selected)',
    'again = display(data, raw=True, display_id=True)   # the same widget (same model id) shown again',
    'again.update({**data, "text/plain": "updated"}, raw=True)   # ... and that display updated in place',
]

# Every value data-headlab-source takes in one cell's outputs from now on (attributeOldValue keeps
# the values a renderer passed through between two observer callbacks).
WATCH_SOURCES = """(i) => {
  const node = window.jupyterapp.shell.currentWidget.content.widgets[i].node;
  const seen = (window.__headlabSources ??= {})[i] = [];
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === "attributes" && r.oldValue) seen.push(r.oldValue);
      for (const n of r.addedNodes || [])
        if (n.querySelectorAll) for (const o of [n, ...n.querySelectorAll(".headlab-lab-output")])
          if (o.dataset && o.dataset.headlabSource) seen.push(o.dataset.headlabSource);
    }
    for (const o of node.querySelectorAll(".headlab-lab-output")) seen.push(o.dataset.headlabSource);
  }).observe(node, {subtree: true, childList: true, attributes: true, attributeOldValue: true,
                    attributeFilter: ["data-headlab-source"]});
}"""


def save_and_reload(pg) -> None:
    pg.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    pg.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=20_000)
    pg.reload()
    pg.wait_for_function("() => window.jupyterapp !== undefined", timeout=60_000)


@pytest.fixture(scope="module")
def lab_save_state(tmp_path_factory):
    """JupyterLab with the widget manager's saveState on: notebooks keep (soon dead) widget models."""
    server = start_server(tmp_path_factory.mktemp("lab-save-state"), "lab", save_state=True)
    yield server
    stop_server(server)


@pytest.fixture(params=["default-settings", "saveState"])
def live_lab(request):
    return request.getfixturevalue("lab0" if request.param == "default-settings" else "lab_save_state")


def test_live_widget_wins_while_the_kernel_holds_it(live_lab, page):
    lab = live_lab
    write_nb(lab.root / "live.ipynb", [nbformat.v4.new_code_cell(c) for c in LIVE_CELLS])
    open_notebook(page, lab, "live.ipynb")
    assert save_state_is_off(page) is (not lab.save_state)
    run_cell(page, 0)
    out = cell(page, 0).locator(".headlab-lab-output")
    expect(out).to_have_attribute("data-headlab-source", "live", timeout=60_000)
    out.locator('.headlab-cell[data-layer="1"][data-head="2"]').click()
    wait_python(page, 1, "LIVE (1, 2)")                                         # front end -> Python
    # Saved and reopened while the kernel still holds the widget: the saved view first, then live.
    save_and_reload(page)
    out = cell(page, 0).locator(".headlab-lab-output")
    expect(out).to_have_attribute("data-headlab-source", "live", timeout=60_000)
    expect(out.locator(".headlab-sel[data-layer='1'][data-head='2']")).to_have_count(1, timeout=30_000)
    out.locator('.headlab-cell[data-layer="0"][data-head="1"]').click()
    wait_python(page, 1, "LIVE (0, 1)")
    # A cell that shows the same widget again (its comm is older than the page): live at once,
    # never the saved view first - the kernel's list of widget comms is already known.
    page.evaluate(WATCH_SOURCES, 2)
    run_cell(page, 2)
    again = cell(page, 2).locator(".headlab-lab-output")
    expect(again).to_have_attribute("data-headlab-source", "live", timeout=60_000)
    expect(again.locator(".headlab-sel[data-layer='0'][data-head='1']")).to_have_count(1, timeout=30_000)
    seen = page.evaluate("() => window.__headlabSources[2]")
    assert seen and set(seen) == {"live"}, seen
    # That display updated in place (same model id): the live view is kept, not rebuilt.
    page.evaluate("() => { document.querySelectorAll('.jp-Notebook .jp-Cell')[2]"
                  ".querySelector('.headlab-lab-output > .lm-Widget').__headlabKept = true; }")
    run_cell(page, 3)
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.model.cells.get(2).outputs.get(0)"
                           ".data['text/plain'] === 'updated'", timeout=30_000)  # the output was re-rendered
    page.wait_for_timeout(1500)                                                 # room for a wrong rebuild
    assert again.get_attribute("data-headlab-source") == "live"
    assert again.evaluate("e => e.querySelector(':scope > .lm-Widget').__headlabKept === true")
    assert set(page.evaluate("() => window.__headlabSources[2]")) == {"live"}
    again.locator('.headlab-cell[data-layer="1"][data-head="1"]').click()
    wait_python(page, 1, "LIVE (1, 1)")                                         # and still talks to Python
    # A restarted kernel holds nothing: reopened, the same outputs show the saved view (with
    # saveState on, the widget manager restores dead copies of the models from the notebook).
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.restartKernel()")
    page.wait_for_timeout(1000)
    save_and_reload(page)
    meta = json.loads((lab.root / "live.ipynb").read_text())["metadata"]
    # with JupyterLab's defaults the notebook keeps no widget state: the headlab payload is all there is
    assert (WIDGET_STATE_MIME in meta.get("widgets", {})) is lab.save_state
    for i in (0, 2):
        out = cell(page, i).locator(".headlab-lab-output")
        expect(out.locator("rect.headlab-cell")).to_have_count(6, timeout=60_000)
    page.wait_for_timeout(2000)                                                 # room for a wrong upgrade
    for i in (0, 2):
        assert cell(page, i).locator(".headlab-lab-output").get_attribute("data-headlab-source") == "saved"
    saved = cell(page, 0).locator(".headlab-lab-output")
    saved.locator('.headlab-cell[data-layer="1"][data-head="0"]').click()      # drawn and clickable from the file
    expect(saved.locator(".headlab-sel[data-layer='1'][data-head='0']")).to_have_count(1)
    assert page.log.headlab_errors() == []


# ---------------------------------------------------------------- report document
def test_report_json_opens_from_the_file_browser(lab0, page):
    doc = report_doc()
    open_lab(page, lab0)
    page.evaluate("() => window.jupyterapp.shell.activateById('filebrowser')")
    page.locator(".jp-DirListing-item", has_text="headlab-report.json").dblclick()
    rep = page.locator(".headlab-report[data-state='ready']")
    expect(rep).to_have_count(1, timeout=30_000)
    assert rep.evaluate("e => e.getBoundingClientRect().width") > 600           # fills the document area
    parts = rep.locator(".headlab-report-part")
    expect(parts).to_have_count(2)                                              # roles + detect
    main = parts.nth(0)
    expect(main.locator("rect.headlab-cell")).to_have_count(6)
    main.locator('.headlab-cell[data-layer="1"][data-head="0"]').click()
    card = main.locator(".headlab-report-card")
    expect(card).to_have_attribute("data-head", "L1H0")
    rows = card.locator("table.headlab-head-table tbody tr")
    expect(rows).to_have_count(4)
    want = {r["role"]: r for r in doc["table"] if (r["layer"], r["head"]) == (1, 0)}
    for tr in rows.all():
        role, score, ci, q, n, _ = tr.locator("td").all_inner_texts()
        assert float(score) == pytest.approx(want[role]["score"], rel=5e-3, abs=1e-4)   # 3 digits shown
        assert n == str(want[role]["n"])
        if role == "rare":                                                      # one sample: said, as in the grid
            assert (ci, q, n) == ("n/a (n = 1)", "n/a (n = 1)", "1")
        else:
            assert ci.startswith("[") and ci.endswith("]") and q and "n/a" not in q
    # Colours as the live grid's: each role on its kind's fixed scale (lift -1..1, probe shares
    # 0..1, copying -1..1), the same function of the score as headlab.views.scales.
    for role in doc["roles"]:
        assert grid_colours(main, role) == python_colours(doc, role), role
    assert main.locator(".headlab-own-range").count() == 0                      # no "range of this role"
    legend = main.locator(".headlab-legend")
    expect(legend).to_contain_text("-1")                                        # the negative ramp is drawn
    # n travels in the grid: a cell of the one-sample role says so to screen readers and tooltips
    main.locator("select.headlab-role").select_option("rare")
    expect(main.locator('rect.headlab-cell[data-layer="0"][data-head="2"]')).to_have_attribute(
        "aria-label", re.compile(r"^L0H2 rare: [-\d.e]+ n/a \(n = 1\), q n/a \(n = 1\), not significant$"))
    main.locator("select.headlab-role").select_option(doc["roles"][0])
    det = parts.nth(1)
    for role in doc["detect"]["roles"]:
        assert grid_colours(det, role) == python_colours(doc["detect"], role), role
    det.locator("select.headlab-role").select_option("induction")
    expect(det.locator(".headlab-role-help")).to_contain_text("share of attention on the probe's target")
    for role in doc["roles"]:
        n_sig = sum(bool(r["significant"]) for r in doc["table"] if r["role"] == role)
        box = main.locator(f"details.headlab-report-role[data-role='{role}']")
        expect(box.locator("summary")).to_have_text(f"{role}: {n_sig} significant")
        assert box.locator("table.headlab-sig-table tbody tr").count() == n_sig
    expect(parts.nth(1).locator("details.headlab-report-role[data-role='induction']")).to_have_count(1)
    assert page.log.headlab_errors() == []


def test_open_report_command_and_headlab_files(lab0, page):
    (lab0.root / "run1.headlab").write_text(json.dumps(report_doc()))
    open_lab(page, lab0)
    labels = page.evaluate("() => ['headlab:open-catalogue', 'headlab:open-report'].map(c => window.jupyterapp.commands.label(c))")
    assert labels == ["headlab: open catalogue", "headlab: open report…"]
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:activate-command-palette')")
    palette = page.locator(".jp-ModalCommandPalette .lm-CommandPalette-input")
    expect(palette).to_be_focused()
    palette.fill("headlab: open")
    items = page.locator(".lm-CommandPalette-item .lm-CommandPalette-itemLabel")
    expect(items.first).to_be_visible()
    assert {"headlab: open catalogue", "headlab: open report…"} <= set(items.all_inner_texts())
    page.keyboard.press("Escape")
    page.evaluate("() => { window.jupyterapp.commands.execute('headlab:open-report'); }")  # no path: a file dialog
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Open a headlab report")
    item = dialog.locator(".jp-DirListing-item", has_text="run1.headlab")
    item.click()
    expect(item).to_have_class(re.compile(r"\bjp-mod-selected\b"))
    dialog.get_by_role("button", name="Select").click()
    expect(page.locator(".headlab-report[data-state='ready'] rect.headlab-cell")).to_have_count(6 + 6, timeout=30_000)
    page.evaluate("() => window.jupyterapp.commands.execute('headlab:open-report', {path: 'headlab-report.json'})")
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.context.path === 'headlab-report.json'", timeout=30_000)
    expect(page.locator(".headlab-report[data-state='ready']")).to_have_count(2)


# ---------------------------------------------------------------- catalogue side panel
def test_catalogue_panel_finds_english_and_chinese_names(lab0, page):
    open_lab(page, lab0)
    page.evaluate("() => window.jupyterapp.commands.execute('headlab:open-catalogue')")
    panel = page.locator("#headlab-catalog-panel")
    expect(panel).to_be_visible()
    expect(panel).to_have_attribute("data-state", "ready", timeout=30_000)
    assert panel.evaluate("e => e.getBoundingClientRect().width") >= 200
    search = panel.locator("input.headlab-search")
    items = panel.locator("li.headlab-cat-item")
    for query in ("induction", "感应头", "归纳头", "Induction Heads"):
        search.fill(query)
        expect(items.first).to_have_attribute("data-entry", "induction_head")   # best match first
    search.fill("感应头")
    expect(items).to_have_count(1)                                               # one type has this name
    items.first.click()
    details = panel.locator(".headlab-cat-details")
    expect(details).to_contain_text("Induction Head")
    expect(details).to_contain_text("感应头")
    expect(details.locator("a[href^='https://']").first).to_be_visible()
    bib = details.locator("pre.headlab-bibtex").inner_text()
    assert bib.count("@") >= 2 and "MathFrame_21_TCT_Anthropic" in bib
    details.locator("button.headlab-copy-bibtex").click()
    expect(details).to_contain_text("copied")
    assert page.evaluate("() => navigator.clipboard.readText()").strip() == bib.strip()
    search.fill("no such head type at all")
    expect(items).to_have_count(0)
    expect(panel).to_contain_text("No head type matches")


# ---------------------------------------------------------------- the wheel in a fresh venv
def test_wheel_installs_the_labextension_in_a_fresh_venv(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(REPO), "-w", str(wheels)],
                   check=True, capture_output=True, timeout=600)
    (wheel,) = wheels.glob("headlab-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], check=True, capture_output=True, timeout=300)
    target = venv / "share" / "jupyter" / "labextensions" / "headlab"
    assert (target / "package.json").is_file() and not target.is_symlink()
    assert json.loads((target / "install.json").read_text())["packageName"] == "headlab"
    # `jupyter labextension list` run by the venv's interpreter (`python -m jupyter` would hand the
    # subcommand to the first jupyter-labextension on PATH, outside the venv).
    out = subprocess.run([str(py), "-m", "jupyterlab.labextensions", "list"], capture_output=True, text=True, timeout=120)
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
    block = text.split(str(venv / "share" / "jupyter" / "labextensions"), 1)
    assert len(block) == 2, text
    line = next(line for line in block[1].splitlines() if line.strip().startswith("headlab "))
    assert "enabled" in line and "OK" in line and "(python, headlab)" in line, text
