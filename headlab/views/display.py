"""Showing a view in IPython at once, and completing its saved output when background work ends.

``show(view)`` (what ``_ipython_display_`` calls) publishes the view's bundle straight away -
the live widget paints, the kernel-free payload holds what is ready - under a display id; a
daemon thread then waits for the view's background work (roles still being scored, per-head
patterns for the payload), builds the complete bundle and replaces the output through that
display id. JupyterLab, Notebook 7, VS Code and nbclient keep display ids, so saved notebooks
get the complete output.

In non-interactive runs (``jupyter nbconvert --execute``, nbclient: the execute request allows
no stdin) the kernel waits up to ``SETTLE_SECONDS`` after the cell for that update, because
those clients stop listening when the cell ends. Interactive front ends keep listening, so
there the kernel stays free for clicks. Work that takes longer still updates live front ends
when it ends, and a saved payload written before then says which roles and heads it lacks.
"""

from __future__ import annotations

import logging
import threading
import uuid

__all__ = ["show", "SETTLE_SECONDS"]

#: how long the kernel waits after a cell for a view's output to be completed
SETTLE_SECONDS = 3.0

_log = logging.getLogger(__name__)


def show(view) -> None:
    """Display ``view``: its bundle now; the complete bundle when its background work ends."""
    from IPython.display import display

    if not view._deferred():
        data, meta = view._bundle(final=True)
        display(data, metadata=meta, raw=True)
        return
    display_id = uuid.uuid4().hex
    data, meta = view._bundle(final=False)
    display(data, metadata=meta, raw=True, display_id=display_id)
    thread = threading.Thread(target=_finish, args=(view, display_id), name="headlab-output", daemon=True)
    thread.start()
    _settle_after_cell(thread)


def _finish(view, display_id: str) -> None:
    from IPython.display import update_display

    try:
        data, meta = view._bundle(final=True)
        update_display(data, metadata=meta, raw=True, display_id=display_id)
    except Exception:   # noqa: BLE001 - a failed update leaves the first output in place
        _log.exception("headlab: could not complete the output of %s", type(view).__name__)


def _settle_after_cell(thread: threading.Thread) -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None or getattr(getattr(ip, "kernel", None), "_allow_stdin", False):
        return            # no IPython, or an interactive front end (it keeps the display id)

    def settle(*_args):
        ip.events.unregister("post_run_cell", settle)
        thread.join(SETTLE_SECONDS)

    ip.events.register("post_run_cell", settle)
