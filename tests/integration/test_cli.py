"""The ``headlab`` command line: ``scan`` end to end on a small subset, exit codes, ``catalog``.

The scans here use 12 corpus lines and three roles so that the file stays fast; the
in-process runs reuse the session's MiniLM (``cli._MODELS``), the subprocess run pays one
model load to prove the installed entry point works outside pytest.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from html import escape as html_escape

import pytest

import headlab as hl
from headlab import cli

ROLES = ["local", "cls", "previous"]


@pytest.fixture(scope="module")
def texts_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "texts.txt"
    path.write_text("\n".join(hl.corpus.sentences(12)) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def shared_model(minilm, monkeypatch):
    """main() loads the default model through cli._MODELS; hand it the session's copy."""
    monkeypatch.setitem(cli._MODELS, None, minilm)
    return minilm


def _scan_args(texts_file, tmp_path, *extra):
    return ["scan", "--texts", str(texts_file), "--roles", ",".join(ROLES), "--n-boot", "200",
            "--out", str(tmp_path / "r.html"), "--json", str(tmp_path / "r.json"), *extra]


def _check_outputs(tmp_path, L=6, H=12):
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert doc["format"] == "headlab.report"
    assert doc["roles"] == ROLES
    assert (doc["n_layers"], doc["n_heads"], doc["n_samples"]) == (L, H, 12)
    for role in ROLES:
        rows = [r for r in doc["table"] if r["role"] == role]
        assert len(rows) == L * H
        assert {(r["layer"], r["head"]) for r in rows} == {(i, j) for i in range(L) for j in range(H)}
    assert html.count('<svg class="hm"') == len(ROLES)
    assert "http://" not in html and "https://" not in html and "<script" not in html
    # one section per head with a drawing of the example text, and the thumbnail grid
    assert html.count('<section class="head"') == L * H and html.count('<svg class="lines"') == L * H
    assert html.count('alt="L') == L * H and 'id="L5H11"' in html
    first = hl.corpus.sentences(1)[0]
    assert doc["scan"]["example"] == first and html_escape(first) in html
    assert doc["scan"]["skipped"] == []
    return html, doc


def test_scan_quiet_in_process(shared_model, texts_file, tmp_path, capsys):
    code = cli.main(_scan_args(texts_file, tmp_path, "--quiet"))
    out, err = capsys.readouterr()
    assert code == 0
    assert out == "" and err == ""
    html, doc = _check_outputs(tmp_path)
    assert doc["provenance"]["model"] == "all-MiniLM-L6-v2"
    assert doc["provenance"]["ci"]["n_boot"] == 200
    assert "all-MiniLM-L6-v2" in html


def test_scan_subprocess_prints_summary(texts_file, tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    proc = subprocess.run([sys.executable, "-m", "headlab", *_scan_args(texts_file, tmp_path)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0].startswith("all-MiniLM-L6-v2: 6 x 12 heads, N = 12 samples")
    for role in ROLES:
        assert any(line.split()[0] == role and "/72 significant" in line and "strongest L" in line
                   for line in lines[1:]), proc.stdout
    assert "r.html" in lines[-1]
    _check_outputs(tmp_path)


def test_default_output_paths(shared_model, texts_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = cli.main(["scan", "--texts", str(texts_file), "--roles", "local", "--n-boot", "50", "-q"])
    assert code == 0
    assert (tmp_path / "headlab-report.html").is_file()
    assert len(json.loads((tmp_path / "headlab-report.json").read_text())["table"]) == 72


def test_scan_says_which_roles_it_skipped_and_why(shared_model, texts_file, tmp_path, capsys):
    # single sentences, no pairs, an encoder: block has nothing to score and bos is for causal models
    single = tmp_path / "single.txt"
    single.write_text("The cat sat on the mat.\nA dog barked at the moon\nRain fell all night.\n", encoding="utf-8")
    args = ["scan", "--texts", str(single), "--roles", "local,block", "--n-boot", "50",
            "--out", str(tmp_path / "r.html"), "--json", str(tmp_path / "r.json")]
    assert cli.main(args) == 0
    out = capsys.readouterr().out.splitlines()
    i = out.index("skipped or untested roles:")
    assert out[i + 1].split()[0] == "block" and "give --pairs" in out[i + 1]
    doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert doc["roles"] == ["local"] and [s["role"] for s in doc["scan"]["skipped"]] == ["block"]
    assert "Roles not scored." in (tmp_path / "r.html").read_text(encoding="utf-8")
    # the defaults on an encoder: bos is skipped, with the reason
    assert cli.main(["scan", "--texts", str(texts_file), "--n-boot", "20", "--out", str(tmp_path / "d.html"),
                     "--json", str(tmp_path / "d.json")]) == 0
    out = capsys.readouterr().out
    assert "  bos " in out and "for causal (GPT-style) models only, and all-MiniLM-L6-v2 is an encoder" in out


def test_role_for_another_kind_of_model_is_refused(shared_model, texts_file, tmp_path, capsys):
    code = cli.main(["scan", "--texts", str(texts_file), "--roles", "local,bos", "--out", str(tmp_path / "r.html"),
                     "--json", str(tmp_path / "r.json"), "-q"])
    _one_line_error(capsys, code, "--roles bos", "is an encoder", "drop bos from --roles")
    assert not (tmp_path / "r.html").exists()


def test_interrupted_scan_keeps_the_previous_report(texts_file, tmp_path):
    # A real file-size limit cuts the write of the new report: exit 2, one line, old files intact.
    html, table = tmp_path / "r.html", tmp_path / "r.json"
    html.write_text("<p>previous report</p>", encoding="utf-8")
    table.write_text('{"previous": true}', encoding="utf-8")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    proc = subprocess.run([sys.executable, "-m", "headlab", *_scan_args(texts_file, tmp_path), "-q"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, preexec_fn=limit)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "File too large" in proc.stderr and "unchanged" in proc.stderr
    assert html.read_text(encoding="utf-8") == "<p>previous report</p>"
    assert table.read_text(encoding="utf-8") == '{"previous": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "r.json"]


def test_pairs_file_jsonl_and_tsv(tmp_path):
    jl = tmp_path / "p.jsonl"
    jl.write_text('{"a": "One.", "b": "Two."}\n\n{"a": "Three?", "b": "Four!"}\n', encoding="utf-8")
    tsv = tmp_path / "p.tsv"
    tsv.write_text("One.\tTwo.\nThree?\tFour!\n", encoding="utf-8")
    assert cli.read_pairs(str(jl)) == cli.read_pairs(str(tsv)) == [("One.", "Two."), ("Three?", "Four!")]
    bad = tmp_path / "bad.tsv"
    bad.write_text("only one column\n", encoding="utf-8")
    with pytest.raises(hl.HeadlabError, match=r"bad.tsv:1:"):
        cli.read_pairs(str(bad))


def _one_line_error(capsys, code, *needles):
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and "error:" in err
    for n in needles:
        assert n in err, err
    return err


@pytest.mark.parametrize(
    "args, needles",
    [
        (["scan", "--roles", "locl"], ["Unknown role 'locl'", "local"]),
        (["scan", "--roles", "induction"], ["probe role", "--detect induction"]),
        (["scan", "--detect", "local"], ["natural-text role"]),
        (["scan", "--alpha", "1.5"], ["alpha", "1.5"]),
        (["scan", "--alpha", "abc"], ["alpha"]),
        (["scan", "--method", "magic"], ["invalid choice"]),
        (["scan", "--texts", "/no/such/file.txt"], ["cannot read texts file", "no such file"]),
        (["scan", "--pairs", "/no/such/pairs.jsonl"], ["cannot read pairs file"]),
        (["frobnicate"], ["invalid choice"]),
        (["scan", "--out", "/"], ["cannot write", "folder"]),
        (["scan", "--json", f"{__file__}/sub/r.json"], ["cannot write", "not a writable folder"]),
    ],
)
def test_user_errors_exit_2_before_loading(args, needles, capsys, monkeypatch):
    # These must be refused before the model loads: loading is what makes a typo expensive.
    monkeypatch.setattr(cli, "_load", lambda name: pytest.fail("model loaded for a bad command line"))
    _one_line_error(capsys, cli.main(args), *needles)


def test_unreadable_texts_file(tmp_path, capsys):
    binary = tmp_path / "latin1.txt"
    binary.write_bytes("caf\xe9\n".encode("latin-1"))
    _one_line_error(capsys, cli.main(["scan", "--texts", str(binary)]), "not UTF-8")
    _one_line_error(capsys, cli.main(["scan", "--texts", str(tmp_path)]), "folder")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    _one_line_error(capsys, cli.main(["scan", "--texts", str(empty)]), "no non-empty line")


def test_unknown_model(texts_file, capsys, tmp_path):
    code = cli.main(["scan", "no-such-org/no-such-model-xyz", "--texts", str(texts_file), "-q",
                     "--out", str(tmp_path / "x.html")])
    _one_line_error(capsys, code, "no-such-org/no-such-model-xyz")
    _one_line_error(capsys, cli.main(["scan", str(tmp_path / "missing-folder/"), "-q"]), "No model folder")


def test_detect_on_encoder(shared_model, texts_file, tmp_path, capsys):
    code = cli.main(_scan_args(texts_file, tmp_path, "--detect", "--quiet"))
    err = _one_line_error(capsys, code, "--detect", "encoder")
    assert "causal" in err
    assert not (tmp_path / "r.html").exists()


@pytest.fixture(scope="module")
def tiny_gpt_folder(tmp_path_factory, bert_tokenizer):
    """A 2-layer, 4-head random GPT-2 saved as a local model folder (causal, offline)."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    tok = bert_tokenizer
    cfg = GPT2Config(vocab_size=tok.vocab_size, n_positions=128, n_embd=32, n_layer=2, n_head=4,
                     bos_token_id=tok.cls_token_id, eos_token_id=tok.sep_token_id)
    folder = tmp_path_factory.mktemp("tinygpt") / "tinygpt"
    GPT2LMHeadModel(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def test_detect_on_causal_model_appends_probe_section(tiny_gpt_folder, texts_file, tmp_path, capsys):
    args = ["scan", str(tiny_gpt_folder), "--texts", str(texts_file), "--roles", "local,previous",
            "--detect", "previous_token,induction", "--probes", "8", "--n-boot", "50",
            "--out", str(tmp_path / "r.html"), "--json", str(tmp_path / "r.json")]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "probe roles (N = 8 probes):" in out and "induction" in out
    doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert doc["roles"] == ["local", "previous"] and doc["detect"]["roles"] == ["previous_token", "induction"]
    assert doc["detect"]["method"] == "probe"
    assert len([r for r in doc["detect"]["table"] if r["role"] == "induction"]) == 2 * 4
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert html.count('<svg class="hm"') == 4 and 'id="x1-summary"' in html
    # each head's section lists its probe roles too, and draws the example on this model
    assert html.count("<caption>Probe roles</caption>") == 2 * 4 and html.count('<svg class="lines"') == 2 * 4


def test_version_and_help(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"headlab {hl.__version__}"
    assert cli.main(["scan", "--help"]) == 0
    assert "--detect" in capsys.readouterr().out
    code = cli.main([])
    _one_line_error(capsys, code, "required")


def test_catalog_through_top_level_cli(capsys):
    assert cli.main(["catalog", "search", "induction"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[0] == "induction_head"
    code = cli.main(["catalog", "show", "no_such_head_type_xyz"])
    _one_line_error(capsys, code, "headlab catalog: error:")


# ----------------------------------------------------------------------------- the HTML writer
def _synthetic_report(model_name: str, roles, method="lift", seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    samples = {}
    for i, role in enumerate(roles):
        x = rng.normal(0.05, 0.05, size=(20, 2, 3))
        x[:, 1, i % 3] += 0.5                          # one strong head per role
        samples[role] = x
    samples[roles[-1]][:, 0, 0] = np.nan              # a head the role never applies to
    return hl.Report.from_samples(samples, method=method, null=0.1, n_boot=50, model_name=model_name,
                                  catalog=False)


def test_html_escapes_and_appends_sections(tmp_path):
    from headlab.report.html import write_html

    evil = '<script>alert("x")</script>'
    rep = _synthetic_report(f"model {evil}", ["local", f"r{evil}"])
    probe = _synthetic_report("probe-model", ["induction"], method="probe", seed=1)
    path = write_html(rep, tmp_path / "sub" / "r.html", extra=[probe], run={"command": f"headlab scan {evil}"})
    html = path.read_text(encoding="utf-8")
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    assert html.count('<svg class="hm"') == 3               # 2 roles + 1 appended probe role
    assert 'id="x1-summary"' in html and "Probe roles" in html
    assert html.count('class="na"') == 2                    # one NaN head per report, drawn as "no score"
    legends = html.count('<svg class="legend"')             # each legend shows one sample dot
    assert html.count('<circle class="sig') - legends == sum(len(r.significant(x)) for r in (rep, probe) for x in r.roles)
    assert "default-src 'none'" in html and "prefers-color-scheme:dark" in html


def test_summary_lines_name_strongest_head():
    rep = _synthetic_report("m", ["local", "cls"])
    lines = cli.summary_lines(rep)
    assert lines[0].startswith("m: 2 x 3 heads, N = 20 samples")
    assert lines[1].split()[:2] == ["local", f"{len(rep.significant('local'))}/6"]
    assert "strongest L1H0" in lines[1] and "strongest L1H1" in lines[2]
