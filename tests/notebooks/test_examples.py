"""The example notebooks run top to bottom, offline, and their saved copies carry widget state.

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
def test_saved_notebook_is_executed_small_and_keeps_widget_state(path):
    """The committed file: executed (outputs, no errors), under 2 MB, widget state saved."""
    import nbformat

    assert path.stat().st_size < run_all.MAX_BYTES, f"{path.name} is {path.stat().st_size / 1e6:.1f} MB"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count for c in code), f"{path.name} is not fully executed"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name} was saved with an error: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    assert sum(c.cell_type == "markdown" for c in nb.cells) >= 5, "notebooks teach in markdown cells"
    if path.stem in run_all.WITH_WIDGETS:
        _check_widget_state(nb, path.name)


def _check_widget_state(nb, name):
    state = run_all.widget_state(nb)
    assert state, f"{name} has no saved widget state (metadata.widgets)"
    views = [o.data["application/vnd.jupyter.widget-view+json"]["model_id"]
             for c in nb.cells if c.cell_type == "code" for o in c.outputs
             if "data" in o and "application/vnd.jupyter.widget-view+json" in o.data]
    assert views, f"{name} displays no widget"
    missing = [v for v in views if v not in state]
    assert not missing, f"{name}: displayed widgets without saved state: {missing}"
    headlab_views = [s for s in state.values() if s.get("state", {}).get("_view") in
                     ("grid", "attention", "explorer", "catalog")]
    assert headlab_views, f"{name}: no headlab view among the saved widgets"
    assert all(s["state"].get("_esm") for s in headlab_views), "headlab views must carry their front-end code"


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
    if path.stem in run_all.WITH_WIDGETS:
        _check_widget_state(nb, path.name)
    if path.stem in run_all.WITH_WIDGETS:   # the state is written into the file, not only kept in memory
        saved = json.loads(copy.read_text(encoding="utf-8"))
        assert saved["metadata"]["widgets"][run_all.WIDGET_STATE]["state"]
    assert copy.stat().st_size < run_all.MAX_BYTES
