"""Re-execute the example notebooks and save them with their outputs.

    python examples/run_all.py                 # every notebook in examples/
    python examples/run_all.py 01 03           # only those whose name starts with 01 or 03
    python examples/run_all.py --check         # execute in a temporary copy, write nothing

Each notebook runs top to bottom in a fresh ``python3`` kernel, offline (``HF_HUB_OFFLINE=1``),
with an empty temporary folder as working directory. Every headlab view saves, beside its live
widget, a kernel-free payload (``application/vnd.headlab.v1+json``, drawn by the headlab
JupyterLab extension), an SVG picture and a text line. No widget state is stored: with it,
nbconvert's HTML and other static viewers pick the widget output (a script that loads the widget
manager from a CDN) over the SVG picture, and show nothing offline. The test suite
(``tests/notebooks/test_examples.py``) uses the same ``execute`` function on a temporary copy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADLAB_MIME = "application/vnd.headlab.v1+json"
#: notebooks that display headlab views (their saved outputs must render without a kernel)
WITH_VIEWS = {"01_quickstart", "02_induction_heads", "03_catalog_tour", "04_bring_your_own_attention"}
MAX_BYTES = 2_000_000


def notebooks(prefixes: list[str] | None = None) -> list[Path]:
    found = sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
    if prefixes:
        found = [p for p in found if any(p.name.startswith(x) for x in prefixes)]
    return found


def offline_env() -> None:
    """Kernels inherit the environment: no network, quiet tokenizers."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def execute(path: Path, out: Path | None = None, timeout: int = 300, cwd: Path | None = None):
    """Execute ``path`` and write the result to ``out`` (default: in place).

    Returns ``(notebook, seconds)``. Raises ``nbclient.exceptions.CellExecutionError`` on the
    first failing cell.
    """
    import nbformat
    from nbclient import NotebookClient

    offline_env()
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", store_widget_state=False, record_timing=False,
        resources={"metadata": {"path": str(cwd or path.parent)}},
    )
    t0 = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - t0
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)           # state of an earlier run (see the module docstring)
    for cell in nb.cells:                      # progress bars (tqdm widgets) would be blank boxes once saved
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not _is_progress_bar(o)]
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nbformat.validate(nb)
    nbformat.write(nb, out or path)
    return nb, seconds


def _is_progress_bar(output) -> bool:
    """A widget output that is not a headlab view (tqdm's bars): nothing to show without its kernel."""
    data = output.get("data", {})
    return "application/vnd.jupyter.widget-view+json" in data and HEADLAB_MIME not in data


def view_outputs(nb) -> list[dict]:
    """The outputs that draw a headlab view (their mime bundles)."""
    return [o.data for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if HEADLAB_MIME in o.get("data", {})]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("prefixes", nargs="*", help="run only notebooks whose name starts with one of these")
    ap.add_argument("--check", action="store_true", help="execute in a temporary copy and write nothing")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per cell (default 300)")
    a = ap.parse_args(argv)
    paths = notebooks(a.prefixes)
    if not paths:
        print("no notebooks matched", file=sys.stderr)
        return 1
    failed = 0
    total = time.perf_counter()
    for path in paths:
        with tempfile.TemporaryDirectory() as tmp:
            target = path
            if a.check:
                target = Path(tmp) / path.name
                shutil.copy(path, target)
            try:
                nb, seconds = execute(target, timeout=a.timeout, cwd=Path(tmp))
            except Exception as exc:  # noqa: BLE001 - report and go on with the others
                failed += 1
                print(f"FAIL {path.name}: {type(exc).__name__}: {str(exc)[-2000:]}", file=sys.stderr)
                continue
            size = target.stat().st_size
            n_views = len(view_outputs(nb))
            flag = "" if size <= MAX_BYTES else f"  (larger than {MAX_BYTES / 1e6:.0f} MB!)"
            print(f"ok   {path.name}: {seconds:6.1f} s, {size / 1e3:7.1f} kB, {n_views} headlab views{flag}")
    print(f"total {time.perf_counter() - total:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
