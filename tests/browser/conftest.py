"""Fixtures for real-browser tests: one JupyterLab server and one system Chromium per session."""

from __future__ import annotations

import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from labserver import CHROMIUM, FLAGS, REPO, open_notebook, start_server, stop_server, write_notebook  # noqa: E402

ARTIFACTS = REPO / "test-artifacts" / "browser"


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def chromium():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (set HEADLAB_CHROMIUM); browser tests need the system browser")
    if not (REPO / "headlab" / "static" / "index.js").exists():
        pytest.fail("headlab/static/index.js is missing: run `npm run build` first")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def lab(tmp_path_factory, artifacts):
    server = start_server(tmp_path_factory.mktemp("lab"), "lab")
    try:
        yield server
    finally:
        stop_server(server)
        shutil.copy(server.base / "lab-server.log", artifacts / "lab-server.log")


class PageLog:
    """Console messages and page errors of one page, for assertions and readable failures."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.console: list[str] = []
        self.dialogs: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(f"{e.message}\n{e.stack or ''}"))
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))

        def on_dialog(d):
            self.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", on_dialog)

    def headlab_errors(self) -> list[str]:
        """Errors raised from headlab's code (anywidget imports the bundle from a blob: URL)."""
        return [e for e in self.errors if any(k in e.lower() for k in ("headlab", "anywidget", "blob:"))]


@contextmanager
def notebook_page(chromium, server, name: str, cells: list[str], viewport=(1280, 1100)):
    """``cells`` written to ``name`` and opened on ``server`` in a fresh browser context.

    The page carries ``log`` (a ``PageLog``) and ``cell(i)`` (a locator of cell ``i``); its
    errors are printed when the block ends, so a failing test shows them.
    """
    write_notebook(server.root / name, cells)
    ctx = chromium.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = ctx.new_page()
    page.log = PageLog(page)
    page.cell = lambda i: page.locator(".jp-Notebook .jp-Cell").nth(i)
    open_notebook(page, server, name)
    try:
        yield page
    finally:
        print("page errors:", *page.log.errors, sep="\n  ")
        ctx.close()
