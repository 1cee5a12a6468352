"""Every user mistake on the ``headlab scan`` command line ends in one line that says what to do,
exit code 2, before any model loads; ``--pairs`` JSON lines are read with the depth cap."""

from __future__ import annotations

import os
import re

import pytest

from headlab import cli

#: words that start a next step in headlab's messages
NEXT_STEP = re.compile(r"\b(give|use|pass|run|drop|choose|check|write|save|add|make|free|name|install|see|"
                       r"shorten|pip install)\b", re.IGNORECASE)


@pytest.fixture
def no_model(monkeypatch):
    monkeypatch.setattr(cli, "_load", lambda name: pytest.fail("model loaded for a bad command line"))


def _error_line(capsys, argv) -> str:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == 2 and out == "", (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("case", [
    "unknown role", "probe role as text", "text role as probe", "alpha", "alpha text", "seed", "n-boot", "probes",
    "missing texts", "texts folder", "empty texts", "latin-1 texts", "missing pairs", "bad tsv", "json list",
    "json strings", "deep json", "nan json", "broken json", "empty pairs", "out folder", "json in a file",
    "read-only out", "out equals json", "out equals texts",
])
def test_every_error_says_what_to_do(case, capsys, no_model, tmp_path, monkeypatch):
    if case == "read-only out" and os.geteuid() == 0:
        pytest.skip("root may write read-only files")
    monkeypatch.chdir(tmp_path)
    texts = _write(tmp_path, "t.txt", "A sentence.\n")
    ro = _write(tmp_path, "ro.html", "old")
    (tmp_path / "ro.html").chmod(0o444)
    argv = {
        "unknown role": ["scan", "--roles", "locl"],
        "probe role as text": ["scan", "--roles", "induction"],
        "text role as probe": ["scan", "--detect", "local"],
        "alpha": ["scan", "--alpha", "1.5"],
        "alpha text": ["scan", "--alpha", "abc"],
        "seed": ["scan", "--seed", "-1"],
        "n-boot": ["scan", "--n-boot", "1"],
        "probes": ["scan", "--probes", "0"],
        "missing texts": ["scan", "--texts", str(tmp_path / "no.txt")],
        "texts folder": ["scan", "--texts", str(tmp_path)],
        "empty texts": ["scan", "--texts", _write(tmp_path, "e.txt", "\n \n")],
        "latin-1 texts": ["scan", "--texts", str(_latin1(tmp_path))],
        "missing pairs": ["scan", "--pairs", str(tmp_path / "no.jsonl")],
        "bad tsv": ["scan", "--pairs", _write(tmp_path, "p.tsv", "only one column\n")],
        "json list": ["scan", "--pairs", _write(tmp_path, "l.jsonl", '["a", "b"]\n')],
        "json strings": ["scan", "--pairs", _write(tmp_path, "s.jsonl", '{"a": "x", "b": 3}\n')],
        "deep json": ["scan", "--pairs", _write(tmp_path, "d.jsonl", '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}\n")],
        "nan json": ["scan", "--pairs", _write(tmp_path, "n.jsonl", '{"a": "x", "b": NaN}\n')],
        "broken json": ["scan", "--pairs", _write(tmp_path, "b.jsonl", '{"a": "x",\n')],
        "empty pairs": ["scan", "--pairs", _write(tmp_path, "ep.jsonl", "\n")],
        "out folder": ["scan", "--texts", texts, "--out", str(tmp_path)],
        "json in a file": ["scan", "--texts", texts, "--json", f"{texts}/sub/r.json"],
        "read-only out": ["scan", "--texts", texts, "--out", ro],
        "out equals json": ["scan", "--out", "r.x", "--json", "r.x"],
        "out equals texts": ["scan", "--texts", texts, "--out", texts],
    }[case]
    line = _error_line(capsys, argv)
    assert line.startswith(("headlab: error:", "headlab scan: error:")), line
    assert NEXT_STEP.search(line.split("error:", 1)[1]), f"no next step in: {line}"


def _latin1(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\xe9\n".encode("latin-1"))
    return path


def test_deeply_nested_pairs_line_is_one_clear_error(capsys, no_model, tmp_path):
    deep = tmp_path / "deep.jsonl"
    deep.write_text('{"a": "x", "b": "y"}\n{"a": ' + "[" * 200 + "]" * 200 + ', "b": "y"}\n', encoding="utf-8")
    line = _error_line(capsys, ["scan", "--pairs", str(deep)])
    assert f"{deep} line 2" in line and "nests" in line and "Check that it is the file you meant" in line


def test_pairs_reader_keeps_jsonl_and_tsv(tmp_path):
    jl = tmp_path / "p.jsonl"
    jl.write_text('{"a": " One. ", "b": "Two."}\n\n{"a": "Three?", "b": "Four!", "label": 1}\n'
                  "[Note] a TSV line\tstarting with a bracket\n", encoding="utf-8")
    assert cli.read_pairs(str(jl)) == [("One.", "Two."), ("Three?", "Four!"),
                                       ("[Note] a TSV line", "starting with a bracket")]


def test_library_option_spelling_is_translated(monkeypatch, capsys):
    from headlab.errors import TooLongError

    def too_long(args, out=None, err=None):
        raise TooLongError("The input has 900 tokens but this model allows at most 512. Shorten the text, or pass "
                           "truncate=True to keep the first 512 tokens.")

    monkeypatch.setattr(cli, "run_scan", too_long)
    monkeypatch.setattr(cli, "_terminal_warnings", lambda quiet: _nullcontext())
    line = _error_line(capsys, ["scan"])
    assert "pass --truncate" in line and "truncate=True" not in line


def _nullcontext():
    import contextlib

    return contextlib.nullcontext()
