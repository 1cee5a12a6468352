"""Writing the HTML report is atomic: real interrupted writes leave the previous report intact.

Each case runs ``write_html`` in a child process and interrupts it for real - a file-size limit
(``RLIMIT_FSIZE``) that cuts the write, and a ``SIGKILL`` in the middle of it - then checks that the
previous report is byte for byte what it was and that no partial file sits under its name.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE and SIGKILL are POSIX")

BUILD = textwrap.dedent("""
    import sys
    import numpy as np
    import headlab as hl
    from headlab.report.html import render_html, write_html
    rng = np.random.default_rng(0)
    rep = hl.Report.from_samples({"local": rng.normal(0.3, 0.1, (10, 2, 3)), "cls": rng.normal(0.1, 0.1, (10, 2, 3))},
                                 method="lift", null=0.1, n_boot=20, catalog=False, model_name="tiny")
    target = sys.argv[1]
""")

OLD = "<!DOCTYPE html><p>the previous report</p>\n"


def _child(code: str, target, limit: int | None = None, **kw):
    def preexec():
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.Popen([sys.executable, "-c", BUILD + textwrap.dedent(code), str(target)],
                            preexec_fn=preexec, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _previous(tmp_path):
    target = tmp_path / "r.html"
    target.write_text(OLD, encoding="utf-8")
    return target


def test_a_complete_write_replaces_the_report(tmp_path):
    target = _previous(tmp_path)
    proc = _child("write_html(rep, target)", target)
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.endswith("</html>\n") and "L1H2" in html
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]


def test_file_size_limit_leaves_previous_report(tmp_path):
    target = _previous(tmp_path)
    limit = 8_000
    proc = _child("""
        assert len(render_html(rep).encode()) > 2 * 8_000   # the limit really cuts the page
        write_html(rep, target)
    """, target, limit=limit)
    assert proc.wait(timeout=120) != 0
    err = proc.stderr.read()
    assert "File too large" in err
    assert target.read_text(encoding="utf-8") == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]      # the temporary file was removed


def test_kill_during_write_leaves_previous_report(tmp_path):
    target = _previous(tmp_path)
    # The child writes half the page, makes it durable, says so and waits: the kill lands mid-write.
    proc = _child("""
        import os, pathlib, time
        def slow(self, data):
            with open(self, "wb") as fh:
                fh.write(data[: len(data) // 2]); fh.flush(); os.fsync(fh.fileno())
                print("HALF", len(data) // 2, flush=True)
                time.sleep(300)
                fh.write(data[len(data) // 2:])
        pathlib.Path.write_bytes = slow
        write_html(rep, target)
    """, target)
    try:
        line = proc.stdout.readline().split()
        assert line and line[0] == "HALF", proc.stderr.read()
        proc.kill()
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -9
    assert target.read_text(encoding="utf-8") == OLD
    leftovers = [p for p in tmp_path.iterdir() if p.name != "r.html"]
    # what the kill left is a hidden temporary file with the half page, never the target's name
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".r.html.") and leftovers[0].name.endswith(".part.html")
    assert leftovers[0].stat().st_size == int(line[1])


def test_write_html_returns_the_path_and_creates_folders(tmp_path):
    import numpy as np

    import headlab as hl
    from headlab.report.html import write_html

    rep = hl.Report.from_samples({"local": np.random.default_rng(0).normal(0.3, 0.1, (8, 2, 2))}, method="lift",
                                 null=0.1, n_boot=20, catalog=False)
    path = write_html(rep, tmp_path / "a" / "b" / "r.html")
    assert path == tmp_path / "a" / "b" / "r.html" and path.read_text(encoding="utf-8").startswith("<!DOCTYPE")
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
