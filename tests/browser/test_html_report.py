"""The offline HTML report of ``headlab scan`` in a real Chromium, with the network cut off.

The report is opened by ``file://`` URL; every request that is not a local file is aborted
and recorded, so "no request left the machine" is checked, not assumed.  A full-page
screenshot goes to ``test-artifacts/scan-report/``; with ``HEADLAB_UPDATE_SCREENSHOTS=1`` it
also replaces ``docs/images/scan-report.png``, the picture the README shows (the page carries
its creation time, so every run differs by a few pixels and a test run must not dirty the tree).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "docs" / "images" / "scan-report.png"
ARTIFACTS = REPO / "test-artifacts" / "scan-report"


@pytest.fixture(scope="module")
def scan(minilm, tmp_path_factory):
    """A default-style scan (every default role, sentences and pairs) on a small subset."""
    import headlab as hl
    from headlab.report.html import write_html

    texts = hl.corpus.sentences(16) + hl.corpus.pairs(6)
    report = minilm.roles(texts, n_boot=200)
    path = write_html(report, tmp_path_factory.mktemp("report") / "headlab-report.html",
                      run={"command": "headlab scan (16 sentences + 6 pairs)", "seconds": None})
    return report, path


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

    def open(self, path: Path):
        page = self.context.new_page()
        page.on("request", lambda req: self.requests.append(req.url))
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.goto(path.as_uri(), wait_until="load")
        return page

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.context.close()


def test_report_draws_offline(chromium, scan):
    browser = chromium
    report, path = scan
    with _Offline(browser, viewport={"width": 1200, "height": 900}, color_scheme="light") as offline:
        page = offline.open(path)
        L, H = report.n_layers, report.n_heads
        for role in report.roles:
            cells = page.evaluate(
                """(role) => {
                    const svg = [...document.querySelectorAll('svg.hm')].find(s => s.dataset.role === role);
                    if (!svg) return null;
                    return [...svg.querySelectorAll('g.row > use')].map(u => {
                        const r = u.getBoundingClientRect();
                        return [r.width, r.height, u.querySelector('title') ? 1 : 0];
                    });
                }""",
                role,
            )
            assert cells is not None, f"no heatmap for {role}"
            assert len(cells) == L * H, role
            assert all(w > 5 and h > 5 and t for w, h, t in cells), role
            marks = page.locator(f'svg.hm[data-role="{role}"] circle.sig').count()
            assert marks == len(report.significant(role)), role
        assert page.locator("circle.sig").count() > 0
        first = page.locator("svg.hm g.row > use").first
        assert "[" in first.locator("title").text_content()   # tooltip with the CI
        assert page.locator("table.sig").count() == sum(bool(report.significant(r)) for r in report.roles)

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "scan-report.png"), full_page=True)
        if os.environ.get("HEADLAB_UPDATE_SCREENSHOTS") == "1":
            shutil.copy(ARTIFACTS / "scan-report.png", SCREENSHOT)
        shutil.copy(path, ARTIFACTS / "headlab-report.html")
    assert offline.errors == []
    assert offline.blocked == []
    assert offline.requests and all(u.startswith("file://") for u in offline.requests)


def test_report_dark_scheme(chromium, scan):
    browser = chromium
    _, path = scan
    with _Offline(browser, viewport={"width": 1000, "height": 700}, color_scheme="dark") as offline:
        page = offline.open(path)
        bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
        fg = page.evaluate("getComputedStyle(document.body).color")
        page.screenshot(path=str(ARTIFACTS / "scan-report-dark.png"))
    brightness = [sum(int(v) for v in c[c.index("(") + 1:c.index(")")].split(",")[:3]) for c in (bg, fg)]
    assert brightness[0] < 150 < brightness[1], (bg, fg)   # dark page, light text
    assert offline.errors == [] and offline.blocked == []
