"""The documentation builds with Sphinx, warnings as errors, nitpicky (broken references fail).

Runs ``sphinx-build -b html -W --keep-going -n docs <tmp>``: the concept pages (MyST
Markdown) and the API reference generated from the docstrings of ``headlab``.
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _toctree_pages() -> list[str]:
    text = (DOCS / "index.md").read_text(encoding="utf-8")
    block = re.search(r"```\{toctree\}(.*?)```", text, re.S)
    assert block, "docs/index.md has no toctree"
    return [ln.strip() for ln in block.group(1).splitlines() if ln.strip() and not ln.strip().startswith(":")]


def test_every_page_of_the_toctree_exists():
    pages = _toctree_pages()
    assert {"roles", "detectors", "methods", "catalog", "views", "cli", "architecture", "api"} <= set(pages)
    missing = [p for p in pages if not any((DOCS / f"{p}{ext}").is_file() for ext in (".md", ".rst"))]
    assert not missing, f"docs/index.md lists pages that do not exist: {missing}"


def test_api_reference_covers_the_public_modules():
    api = next(p for p in (DOCS / "api.md", DOCS / "api.rst") if p.is_file()).read_text(encoding="utf-8")
    for target in ("headlab.load", "headlab.HeadModel", "headlab.Attention", "headlab.Report",
                   "headlab.compare", "headlab.scores", "headlab.stats", "headlab.roles",
                   "headlab.catalog", "headlab.catalog.links", "headlab.views", "headlab.analyses",
                   "headlab.report"):
        assert target in api, f"docs/api.md does not document {target}"


def test_docstring_hook_fixes_plain_text_habits_and_leaves_rest_alone():
    spec = importlib.util.spec_from_file_location("headlab_docs_conf", DOCS / "conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    fixed = conf._rst_safe(["Intro:", "- a", "- b", "After."])
    assert fixed == ["Intro:", "", "- a", "- b", "", "After."]
    assert conf._rst_safe(["Attributes (T = tokens):", "    x: y"]) == ["T = tokens.", "", "Attributes:", "    x: y"]
    assert conf._rst_safe(["weighs 1/|pieces| but ``a|b|c`` stays"]) == ["weighs 1/\\|pieces\\| but ``a|b|c`` stays"]
    clean = ["Args:", "    x: one", "", "- item", "  more", "", "Text."]
    assert conf._rst_safe(clean) == clean


def test_sphinx_build_has_no_warnings(tmp_path):
    if importlib.util.find_spec("sphinx") is None or importlib.util.find_spec("myst_parser") is None:
        pytest.fail("The docs build needs Sphinx and MyST: pip install sphinx myst-parser")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    out = tmp_path / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-n", "-q",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, f"sphinx-build failed:\n{proc.stderr[-8000:]}\n{proc.stdout[-2000:]}"
    for page in ("index", "roles", "api", "catalog", "detectors"):
        assert (out / f"{page}.html").is_file()
    api = (out / "api.html").read_text(encoding="utf-8")
    for name in ("headlab.load", "headlab.Report", "headlab.scores.sieve.sieve_lift", "headlab.stats.one_sample",
                 "headlab.catalog.for_head", "headlab.views.HeadGrid"):
        assert f'id="{name}"' in api, f"{name} is missing from the API reference"
