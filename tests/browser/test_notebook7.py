"""Notebook 7 smoke test (same labextension as JupyterLab) plus the CatalogBrowser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conftest import notebook_page
from labserver import run_cell, start_server, stop_server, wait_python

pytestmark = pytest.mark.browser

CELLS = [
    r'''
import pandas as pd
from types import SimpleNamespace
import headlab.views as W
rows = [dict(role="a", layer=l, head=h, score=float(l + h), q_value=0.01 * h, significant=h < 2) for l in range(3) for h in range(5)]
rep = SimpleNamespace(table=pd.DataFrame(rows), roles=["a"], n_layers=3, n_heads=5, alpha=0.05, model_name="stand-in")
grid = W.HeadGrid(rep)
grid
''',
    r'''
cb = W.CatalogBrowser()
if not cb.entries:   # stand-in while headlab.catalog has no data
    cb = W.CatalogBrowser(entries=[
        {"id": "induction_head", "name": "Induction Head", "stage": "ICI", "definition": "Copies the token after an earlier occurrence <b>of</b> the current one.",
         "papers": [{"title": "In-context learning and induction heads", "year": 2022, "url": "https://example.org"},
                    {"title": "Bad link", "url": "javascript:alert(1)"}], "known_instances": [{"model": "gpt2-small", "layer": 5, "head": 5}]},
        {"id": "previous_token_head", "name": "Previous Token Head", "stage": "KR", "papers": []}])
cb
''',
    'print("NB7", grid.selected, cb.entry, cb.query)',
]


@pytest.fixture(scope="module")
def nb7(tmp_path_factory, chromium, artifacts):
    server = start_server(tmp_path_factory.mktemp("nb7"), "notebook")
    try:
        with notebook_page(chromium, server, "nb7.ipynb", CELLS, viewport=(1200, 1000)) as page:
            run_cell(page, 0)
            run_cell(page, 1)
            yield page
    finally:
        stop_server(server)


def test_grid_renders_and_syncs_in_notebook7(nb7, artifacts):
    g = nb7.cell(0)
    expect(g.locator("rect.headlab-cell")).to_have_count(15, timeout=60_000)
    expect(g.locator("circle.headlab-sig")).to_have_count(6)
    g.locator('.headlab-cell[data-layer="2"][data-head="4"]').click()
    expect(g.locator(".headlab-sel")).to_have_count(1)
    wait_python(nb7, 2, "NB7 (2, 4)")
    g.screenshot(path=str(artifacts / "notebook7-grid.png"))


def test_catalog_browser_search_filter_and_details(nb7, artifacts):
    c = nb7.cell(1)
    items = c.locator("li.headlab-cat-item")
    expect(items.first).to_be_visible(timeout=60_000)
    total = items.count()
    c.locator("input.headlab-search").fill("induction")
    expect(items).not_to_have_count(total)
    assert items.count() >= 1
    items.filter(has_text="Induction").first.click()
    details = c.locator(".headlab-cat-details .headlab-card")
    expect(details).to_contain_text("Induction")
    # only http(s) links become anchors; markup in definitions stays text
    hrefs = details.locator("a").evaluate_all("els => els.map(a => a.href)")
    assert all(h.startswith(("http://", "https://")) for h in hrefs)
    assert details.locator("b").count() == 0
    c.locator("input.headlab-search").fill("")
    stages = c.locator("select.headlab-stage option").evaluate_all("els => els.map(o => o.value).filter(Boolean)")
    assert stages
    c.locator("select.headlab-stage").select_option(stages[0])
    badges = c.locator("li.headlab-cat-item .headlab-badge").all_text_contents()
    assert badges and set(badges) == {stages[0]}
    wait_python(nb7, 2, "induction", timeout=30)
    c.screenshot(path=str(artifacts / "notebook7-catalog.png"))
    print("page errors:", nb7.log.errors)
    assert nb7.log.headlab_errors() == [] and nb7.log.dialogs == []
