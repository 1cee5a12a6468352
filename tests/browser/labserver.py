"""Start a real `jupyter lab` (or `jupyter notebook`) on a free localhost port, and drive it.

Used by the browser tests (tests/browser/conftest.py) and by benchmarks/widget_payload.py.
No browser is downloaded: Playwright launches the system Chromium.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("HEADLAB_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def write_notebook(path: Path, cells: list[str]) -> None:
    nb = {
        "cells": [{"cell_type": "code", "id": f"c{i}", "execution_count": None, "metadata": {},
                   "outputs": [], "source": src} for i, src in enumerate(cells)],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb, indent=1))


#: the widget manager's settings file (under JUPYTERLAB_SETTINGS_DIR); "saveState" is off by default
SAVE_STATE_SETTINGS = "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings"


def start_server(base: Path, app: str = "lab", save_state: bool = True) -> SimpleNamespace:
    """`jupyter lab|notebook` in a temporary root with isolated settings; returns url, token, root, proc.

    ``save_state=True`` turns the widget manager's "save widget state" on (notebooks then carry
    every widget model in their metadata, and dead copies come back on reload); ``False`` leaves
    JupyterLab's default, off: no settings file for the widget manager is written at all.
    """
    root, settings, workspaces = base / "root", base / "settings", base / "workspaces"
    for d in (root, settings, workspaces):
        d.mkdir(parents=True, exist_ok=True)
    if save_state:
        write_json(settings / SAVE_STATE_SETTINGS, {"saveState": True})
    write_json(settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings",
               {"fetchNews": "false", "checkForUpdates": False})
    port, token = free_port(), secrets.token_hex(16)
    expose = "--LabApp.expose_app_in_browser=True" if app == "lab" else "--JupyterNotebookApp.expose_app_in_browser=True"
    argv = [sys.executable, "-m", "jupyter", app, "--no-browser", f"--port={port}", "--port-retries=0",
            "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
            expose, "--LabApp.news_url=None" if app == "lab" else "--ServerApp.open_browser=False",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate" if app == "lab" else "--ServerApp.quit_button=False"]
    if os.geteuid() == 0:
        argv.append("--allow-root")
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings), "JUPYTERLAB_WORKSPACES_DIR": str(workspaces),
           "PYTHONPATH": os.pathsep.join([str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    log = open(base / f"{app}-server.log", "w")
    proc = subprocess.Popen(argv, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter {app} exited early; see {base / f'{app}-server.log'}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.time() > deadline:
            stop_server(SimpleNamespace(proc=proc, log=log))
            raise RuntimeError(f"jupyter {app} did not start in 90 s")
        time.sleep(0.3)
    return SimpleNamespace(url=url, token=token, root=root, proc=proc, log=log, base=base, app=app,
                           save_state=bool(save_state))


def stop_server(server) -> None:
    proc = server.proc
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    server.log.close()


# ---------------------------------------------------------------- driving a notebook page

# Fire and forget: awaiting the command can hang when the kernel restarts; tests wait on outputs.
RUN_CELL = """(i) => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  panel.content.deselectAll();
  panel.content.activeCellIndex = i;
  app.commands.execute('notebook:run-cell');
}"""

# The toolbar may read "idle" before the kernel connection is up; ask the session itself.
KERNEL_READY = """() => {
  const p = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = p && p.sessionContext && p.sessionContext.session && p.sessionContext.session.kernel;
  return !!k && k.connectionStatus === 'connected' && k.status === 'idle';
}"""

CELL_OUTPUT = """(i) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cell = panel.content.widgets[i];
  return cell.node.querySelector('.jp-OutputArea') ? cell.node.querySelector('.jp-OutputArea').innerText : '';
}"""


def open_notebook(page, server, name: str) -> None:
    path = "lab/tree" if server.app == "lab" else "notebooks"
    suffix = "&reset" if server.app == "lab" else ""
    page.goto(f"{server.url}/{path}/{name}?token={server.token}{suffix}")
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=60_000)
    page.wait_for_function(KERNEL_READY, timeout=120_000, polling=200)


def run_all(page) -> None:
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def run_cell(page, i: int) -> None:
    page.evaluate(RUN_CELL, i)


def cell_output(page, i: int) -> str:
    return page.evaluate(CELL_OUTPUT, i)


def wait_output(page, i: int, needle: str, timeout: float = 60.0) -> str:
    deadline = time.time() + timeout
    text = ""
    while time.time() < deadline:
        text = cell_output(page, i)
        if needle in text:
            return text
        page.wait_for_timeout(100)
    raise AssertionError(f"cell {i} output never contained {needle!r}; last output: {text[:500]!r}")


def wait_python(page, i: int, needle: str, timeout: float = 30.0) -> str:
    """Re-run cell i until its output contains needle (widget updates reach the kernel
    asynchronously: ipywidgets buffers changes while an earlier message is unacknowledged)."""
    deadline = time.time() + timeout
    text = ""
    while time.time() < deadline:
        before = page.evaluate("(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.executionCount", i)
        run_cell(page, i)
        end = time.time() + 10
        while time.time() < end:
            if page.evaluate("(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.executionCount", i) != before:
                break
            page.wait_for_timeout(50)
        page.wait_for_timeout(100)
        text = cell_output(page, i)
        if needle in text:
            return text
        page.wait_for_timeout(400)
    raise AssertionError(f"cell {i} output never contained {needle!r}; last output: {text[:500]!r}")
