"""export_json and ``python -m headlab.catalog export-json``: the catalogue for the JupyterLab panel (#12)."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata

import pytest

import headlab.catalog as catalog
from headlab.catalog import cli


@pytest.fixture(autouse=True)
def clean_catalog():
    catalog.reset()
    yield
    catalog.reset()


def names_of(t: dict) -> list[str]:
    return [t["id"], t["name"], *t["aliases"], *t["zh"]]


def panel_search(doc: dict, text: str) -> list[str]:
    """What a simple client-side search over names, aliases and Chinese names finds."""
    want = unicodedata.normalize("NFKC", text).casefold()
    return [t["id"] for t in doc["types"] if any(want in unicodedata.normalize("NFKC", n).casefold() for n in names_of(t))]


def test_export_round_trips_through_json_and_covers_every_entry():
    doc = catalog.export_json()
    again = json.loads(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
    assert again == doc
    assert doc["format"] == "headlab.catalog" and doc["version"] == 1
    assert [t["id"] for t in doc["types"]] == [e.id for e in catalog.entries()]
    assert set(doc["stages"]) == {"KR", "ICI", "LR", "EP"} and doc["stages"]["LR"]["name_zh"] == "潜在推理"


def test_each_type_has_what_the_panel_shows():
    doc = catalog.export_json()
    for t, entry in zip(doc["types"], catalog.entries()):
        assert t["name"] == entry.name and t["definition"] == entry.definition
        assert t["zh"] == [n for n, _ in entry.zh] and t["aliases"] == list(entry.aliases)
        assert t["stage"] == (entry.stage or "") and t["detector"] == list(entry.detector)
        assert [p["id"] for p in t["papers"]] == [link.paper.id for link in entry.papers]
        for p in t["papers"]:
            assert {"title", "year", "role", "venue", "bibtex"} <= set(p)
        assert len(t["known_instances"]) == len(entry.instances)
        for k in t["known_instances"]:
            assert {"model", "layer", "head", "source"} <= set(k) and k["model"] in doc["models"]


def test_every_paper_of_a_type_carries_its_bibtex():
    doc = catalog.export_json()
    cited = set()
    for t in doc["types"]:
        for p in t["papers"]:
            assert p["bibtex"] == catalog.paper(p["id"]).bibtex()
            assert p["bibtex"].startswith("@") and f"{{{p['id']}," in p["bibtex"]
            assert isinstance(p["year"], int) and p["title"]
            cited.add(p["id"])
    # Every paper of the list is cited by some type (the survey itself is the only paper no type cites).
    assert {p.id for p in catalog.papers()} - cited == {"zhengattention"}


def test_searching_the_export_finds_the_induction_head_in_english_and_chinese():
    doc = catalog.export_json()
    induction = next(t for t in doc["types"] if t["id"] == "induction_head")
    assert any("induction" in n.casefold() for n in names_of(induction))
    assert "感应头" in induction["zh"]
    assert "induction_head" in panel_search(doc, "induction")
    assert "induction_head" in panel_search(doc, "感应头")
    assert panel_search(doc, "感应头") == ["induction_head"]


def test_models_are_listed_with_their_spellings():
    gpt2 = catalog.export_json()["models"]["gpt2-small"]
    assert gpt2["hf_id"] == "openai-community/gpt2" and (gpt2["n_layers"], gpt2["n_heads"]) == (12, 12)


def test_extensions_are_exported_too(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "papers:\n- {id: Mine_25_lab, title: Ours, date: '2025-06-01', venue: Internal report}\n"
        "heads:\n- id: my_counting_head\n  name: Counting Head\n  zh: [{name: 数数头, source: ours}]\n"
        "  stage: {primary: LR, source: ours}\n  definition: Counts earlier copies of the current token.\n"
        "  detector: [duplicate_token]\n  papers: [{id: Mine_25_lab, role: introduced}]\n", encoding="utf-8")
    catalog.extend(path)
    doc = catalog.export_json()
    assert panel_search(doc, "数数") == ["my_counting_head"]
    mine = next(t for t in doc["types"] if t["id"] == "my_counting_head")
    assert mine["papers"][0]["id"] == "Mine_25_lab" and mine["papers"][0]["bibtex"].startswith("@misc{Mine_25_lab,")


def test_cli_writes_the_file_atomically(tmp_path):
    out = tmp_path / "panel" / "catalog.json"
    done = subprocess.run([sys.executable, "-m", "headlab.catalog", "export-json", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {out}:") and "head types" in done.stdout
    doc = json.loads(out.read_text("utf-8"))
    assert doc == catalog.export_json()
    assert "\n" not in out.read_text("utf-8").rstrip("\n")  # compact: one line
    assert [p.name for p in out.parent.iterdir()] == ["catalog.json"]  # no temporary file left behind


def test_cli_export_error_is_one_line_and_keeps_the_old_file(tmp_path, capsys):
    target = tmp_path / "catalog.json"
    target.write_text("old", encoding="utf-8")
    assert cli.main(["export-json", str(target / "inside-a-file.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("headlab catalog: error: cannot write") and err.count("\n") == 1
    assert target.read_text("utf-8") == "old"
