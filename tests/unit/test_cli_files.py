"""``headlab scan`` replaces its two files together and atomically: interrupted for real (a
file-size limit, a SIGKILL) it leaves the previous HTML report and JSON table as they were."""

from __future__ import annotations

import resource
import subprocess
import sys
import textwrap

import pytest

from headlab import cli

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE and SIGKILL are POSIX")

OLD_HTML, OLD_JSON = "<p>previous report</p>\n", '{"previous": true}\n'
CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from headlab import cli
    html, js = Path(sys.argv[1]), Path(sys.argv[2])
    PAGE, TABLE = "<html>" + "h" * 4000 + "</html>", '{"t": "' + "j" * 200_000 + '"}'
""")


def _previous(tmp_path):
    html, js = tmp_path / "r.html", tmp_path / "r.json"
    html.write_text(OLD_HTML, encoding="utf-8")
    js.write_text(OLD_JSON, encoding="utf-8")
    return html, js


def _run(code, html, js, limit=None):
    def preexec():
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.Popen([sys.executable, "-c", CHILD + textwrap.dedent(code), str(html), str(js)],
                            preexec_fn=preexec, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_both_files_are_written(tmp_path):
    html, js = _previous(tmp_path)
    proc = _run("cli.write_outputs(html, PAGE, js, TABLE)", html, js)
    assert proc.wait(timeout=60) == 0, proc.stderr.read()
    assert html.read_text().startswith("<html>hhh") and js.read_text().endswith('j"}')
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "r.json"]


def test_file_size_limit_on_the_table_keeps_both_previous_files(tmp_path):
    # The page (4 kB) fits under the limit, the table (200 kB) does not: neither file may change,
    # or the folder would hold a new report next to an old table.
    html, js = _previous(tmp_path)
    proc = _run("""
        try:
            cli.write_outputs(html, PAGE, js, TABLE)
        except cli.UserError as exc:
            print(exc)
            sys.exit(2)
    """, html, js, limit=50_000)
    assert proc.wait(timeout=60) == 2
    message = proc.stdout.read()
    assert "File too large" in message and "previous files are unchanged" in message and "--out" in message
    assert (html.read_text(), js.read_text()) == (OLD_HTML, OLD_JSON)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "r.json"]


def test_kill_while_writing_the_table_keeps_both_previous_files(tmp_path):
    html, js = _previous(tmp_path)
    proc = _run("""
        import os, pathlib, time
        real = pathlib.Path.write_bytes
        def slow(self, data):
            if not self.name.startswith(".r.json."):
                return real(self, data)
            with open(self, "wb") as fh:
                fh.write(data[:1000]); fh.flush(); os.fsync(fh.fileno())
                print("HALF", flush=True)
                time.sleep(300)
        pathlib.Path.write_bytes = slow
        cli.write_outputs(html, PAGE, js, TABLE)
    """, html, js)
    try:
        assert proc.stdout.readline().strip() == "HALF", proc.stderr.read()
        proc.kill()
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -9
    assert (html.read_text(), js.read_text()) == (OLD_HTML, OLD_JSON)
    names = sorted(p.name for p in tmp_path.iterdir())
    # the killed process leaves its hidden temporary files behind, never a cut file under a target's name
    assert names[-2:] == ["r.html", "r.json"] and all(n.startswith((".r.html.", ".r.json.")) for n in names[:-2])


def test_write_failure_is_a_user_error_with_a_next_step(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(cli.UserError, match="previous files are unchanged. Free some space or choose another folder"):
        cli.write_outputs(blocker / "r.html", "<p>", tmp_path / "r.json", "{}")
    assert not (tmp_path / "r.json").exists()
