"""``headlab catalog ...`` through add_subparser/run, and ``python -m headlab.catalog``."""

from __future__ import annotations

import argparse
import io
import json
import runpy
import sys

import pytest

import headlab.catalog as catalog
from headlab.catalog import cli


@pytest.fixture(autouse=True)
def clean_catalog():
    catalog.reset()
    yield
    catalog.reset()


def headlab_parser() -> argparse.ArgumentParser:
    """What the top-level headlab CLI does with our sub-command."""
    parser = argparse.ArgumentParser(prog="headlab")
    subparsers = parser.add_subparsers(dest="command")
    cli.add_subparser(subparsers)
    return parser


def call(*argv: str) -> tuple[int, str, str]:
    args = headlab_parser().parse_args(["catalog", *argv])
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(args, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_search_prints_ranked_ids():
    code, out, err = call("search", "name", "mover")
    assert code == 0 and err == ""
    assert out.splitlines()[0].startswith("name_mover_head")


def test_search_in_chinese_and_as_json():
    code, out, _ = call("search", "检索头", "--json")
    assert code == 0 and json.loads(out)[0]["id"] == "retrieval_head"


def test_search_without_match_says_so():
    code, out, _ = call("search", "zzzzqqqq")
    assert code == 0 and "No head type matches" in out


def test_show_a_head_type_and_a_paper():
    code, out, _ = call("show", "S-Inhibition Head")
    assert code == 0 and out.startswith("Inhibition Head  [inhibition_head]") and "L7H3" in out
    code, out, _ = call("show", "2211.00593")
    assert code == 0 and "Interpretability in the Wild" in out
    code, out, _ = call("show", "copy suppression", "--json")
    assert json.loads(out)["instances"][0]["label"] == "L10H7"


def test_bibtex_for_several_ids():
    code, out, _ = call("bibtex", "IOI_23_ICLR_Redwood", "2310.04625")
    assert code == 0 and out.count("@") == 2 and "CopySupression_23_arXiv_Google" in out


def test_list_and_head_commands():
    code, out, _ = call("list", "--stage", "EP")
    assert code == 0 and "amplification_head" in out and "induction_head" not in out
    code, out, _ = call("head", "gpt2", "10", "7")
    assert code == 0 and "copy_suppression_head" in out


@pytest.mark.parametrize("argv,fragment", [
    (("show", "indcution"), "induction_head"),
    (("bibtex", "IOI_23_ICLR_Redwood", "nope"), "neither a paper"),
    (("list", "--stage", "XX"), "Unknown stage"),
    (("head", "gpt2", "40", "0"), "12 layers"),
    (("head", "gpt-9", "0", "0"), "No known instances"),
    (("--extend", "/no/such/file.yaml", "search", "x"), "not found"),
])
def test_user_errors_exit_2_with_one_line_and_no_traceback(argv, fragment):
    code, out, err = call(*argv)
    assert code == 2 and out == ""
    assert err.startswith("headlab catalog: error: ") and fragment in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_extend_option_reports_file_problems_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("heads:\n- id: x_head\n  name: X\n", encoding="utf-8")
    code, _, err = call("--extend", str(bad), "search", "x")
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1
    assert err.startswith("headlab catalog: error: ") and "bad.yaml:2" in err and "more problem" in err


def test_python_dash_m_entry_point(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["python -m headlab.catalog", "show", "induction"])
    with pytest.raises(SystemExit) as info:
        runpy.run_module("headlab.catalog", run_name="__main__")
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("Induction Head")


def test_main_returns_2_on_user_error(capsys):
    assert cli.main(["show", "no-such-head-type"]) == 2
    assert "error" in capsys.readouterr().err
