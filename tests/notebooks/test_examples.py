"""The example notebooks run top to bottom, offline, and their saved views render without a kernel.

Each notebook is executed with nbclient (kernel ``python3``, 300 s per cell, ``HF_HUB_OFFLINE=1``)
from a temporary copy, in an empty temporary working directory, so the files in ``examples/``
are never modified (``python examples/run_all.py`` re-executes and saves them).
"""

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

_spec = importlib.util.spec_from_file_location("headlab_examples_run_all", EXAMPLES / "run_all.py")
run_all = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_all)

NOTEBOOKS = run_all.notebooks()
EXPECTED = ["01_quickstart", "02_induction_heads", "03_catalog_tour", "04_bring_your_own_attention"]


def test_the_notebooks_are_there():
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_saved_notebook_is_executed_small_and_renders_without_a_kernel(path):
    """The committed file: executed (outputs, no errors), under 2 MB, every view kernel-free."""
    import nbformat

    assert path.stat().st_size < run_all.MAX_BYTES, f"{path.name} is {path.stat().st_size / 1e6:.1f} MB"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count for c in code), f"{path.name} is not fully executed"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name} was saved with an error: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    assert sum(c.cell_type == "markdown" for c in nb.cells) >= 5, "notebooks teach in markdown cells"
    if path.stem in run_all.WITH_VIEWS:
        _check_views(nb, path.name)


def _check_views(nb, name):
    """Each view's output carries the extension's payload, an SVG picture and a text line, and
    the file keeps no widget state: with it nbconvert (and GitHub) would show the widget
    output, which needs a CDN, instead of the picture."""
    views = run_all.view_outputs(nb)
    assert views, f"{name} draws no headlab view"
    for data in views:
        assert {"image/svg+xml", "text/plain"} <= set(data), f"{name}: a view without its static fallbacks"
        payload = data[run_all.HEADLAB_MIME]
        assert payload.get("view") and payload.get("buffers") is not None, f"{name}: an empty kernel-free payload"
        assert "<script" not in data["image/svg+xml"]
    assert "widgets" not in nb.metadata, f"{name} keeps widget state; re-run python examples/run_all.py"
    blank = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if run_all._is_progress_bar(o)]
    assert not blank, f"{name} saves widget outputs that nothing can draw without a kernel"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes_offline(path, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    work = tmp_path / "cwd"
    work.mkdir()
    nb, seconds = run_all.execute(copy, timeout=300, cwd=work)
    print(f"{path.name}: {seconds:.1f} s")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    if path.stem in run_all.WITH_VIEWS:
        _check_views(nb, path.name)
        saved = json.loads(copy.read_text(encoding="utf-8"))     # written to the file, not only in memory
        assert run_all.view_outputs(nbformat_node(saved))
    assert copy.stat().st_size < run_all.MAX_BYTES


def nbformat_node(raw: dict):
    import nbformat

    return nbformat.from_dict(raw)
