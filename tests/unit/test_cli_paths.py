"""``headlab scan`` refuses output paths that would overwrite the other output or an input,
however the paths are spelt, before any model loads."""

from __future__ import annotations

import os

import pytest

from headlab import cli


@pytest.fixture
def no_model(monkeypatch):
    monkeypatch.setattr(cli, "_load", lambda name: pytest.fail("model loaded for a bad command line"))


@pytest.fixture
def corpus(tmp_path):
    texts = tmp_path / "texts.txt"
    texts.write_text("One sentence.\nAnother one.\n", encoding="utf-8")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("One.\tTwo.\n", encoding="utf-8")
    return texts, pairs


def _refused(capsys, argv, *needles):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("headlab: error: ")
    for n in needles:
        assert n in err, err
    return err


def test_out_equal_to_json(capsys, no_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    err = _refused(capsys, ["scan", "--out", "x.out", "--json", "x.out"], "--out and --json", "different names")
    assert "--json report.json" in err
    # the same file through other spellings
    (tmp_path / "sub").mkdir()
    _refused(capsys, ["scan", "--out", "x.out", "--json", "./sub/../x.out"], "same file")
    _refused(capsys, ["scan", "--out", str(tmp_path / "x.out"), "--json", "x.out"], "same file")
    # the default --out given again as --json
    _refused(capsys, ["scan", "--json", cli.DEFAULT_HTML], "same file")


def test_same_file_through_links(capsys, no_model, tmp_path):
    real = tmp_path / "r.html"
    real.write_text("old", encoding="utf-8")
    soft = tmp_path / "soft.html"
    soft.symlink_to(real)
    hard = tmp_path / "hard.html"
    os.link(real, hard)
    for other in (soft, hard):
        _refused(capsys, ["scan", "--out", str(real), "--json", str(other)], "same file")
    assert real.read_text(encoding="utf-8") == "old"


@pytest.mark.parametrize("flag", ["--out", "--json"])
def test_output_equal_to_an_input(capsys, no_model, corpus, flag, tmp_path):
    texts, pairs = corpus
    before = texts.read_bytes(), pairs.read_bytes()
    other = "--json" if flag == "--out" else "--out"
    err = _refused(capsys, ["scan", "--texts", str(texts), flag, str(texts), other, str(tmp_path / "o")],
                   f"{flag} names", "your --texts file", f"choose another file name for {flag}")
    assert "overwrite" in err
    spelt = str(tmp_path / "." / "pairs.tsv")
    _refused(capsys, ["scan", "--pairs", str(pairs), flag, spelt, other, str(tmp_path / "o")], "your --pairs file")
    assert (texts.read_bytes(), pairs.read_bytes()) == before


def test_distinct_paths_pass_and_stdin_is_no_file(tmp_path, corpus):
    texts, pairs = corpus
    cli.check_paths(str(tmp_path / "a.html"), str(tmp_path / "a.json"), str(texts), str(pairs))
    cli.check_paths("-", str(tmp_path / "a.json"), "-", None)       # '-' reads stdin: nothing to collide with
    cli.check_paths(str(tmp_path / "a.html"), str(tmp_path / "a.json"), str(texts), str(texts))  # one file, both inputs
