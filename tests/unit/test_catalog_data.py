"""The shipped catalogue data: schema, referential integrity, and coverage of the paper list."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
import yaml

import headlab.catalog as catalog
from headlab.catalog import _loading
from headlab.catalog._normalize import key

PAPERS_JSON = Path(os.environ.get("HEADLAB_PAPERS_JSON", "/work/shared/research/papers.json"))
DATA_DIR = Path(catalog.__file__).parent / "data"


@pytest.fixture(scope="module")
def list_papers():
    if not PAPERS_JSON.exists():
        pytest.skip(f"papers.json not found at {PAPERS_JSON} (set HEADLAB_PAPERS_JSON)")
    return json.loads(PAPERS_JSON.read_text("utf-8"))


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(_loading.schema())


@pytest.mark.parametrize("name", _loading.BUILTIN_FILES)
def test_every_builtin_file_matches_the_schema(name):
    data = yaml.load((DATA_DIR / name).read_text("utf-8"), Loader=_loading._PlainLoader)  # noqa: S506 (safe loader)
    errors = list(jsonschema.Draft202012Validator(_loading.schema()).iter_errors(data))
    assert errors == []


def test_every_builtin_data_file_is_loaded():
    on_disk = {p.name for p in DATA_DIR.glob("*.yaml")}
    assert on_disk == set(_loading.BUILTIN_FILES)


def test_counts():
    assert len(catalog.entries()) >= 75
    listed = [p for p in catalog.papers() if p.list_row is not None]
    assert sorted(p.list_row for p in listed) == list(range(1, 87))
    # 61 of the 86 list entries have a key in the survey's bibliography (CATALOG_SOURCES 7.3, item 10).
    assert sum(1 for p in listed if p.survey_bibkey) == 61


def test_every_detector_is_a_registered_role():
    roles = pytest.importorskip("headlab.roles")
    registered = set(roles.names())
    missing = {(e.id, d) for e in catalog.entries() for d in e.detector if d not in registered}
    assert missing == set()
    for entry in catalog.entries():
        for role in entry.detector:
            roles.get(role)  # raises UnknownRoleError for an unregistered id


def test_every_referenced_paper_model_probe_and_type_exists():
    ids = {e.id for e in catalog.entries()}
    paper_ids = {p.id for p in catalog.papers()}
    probes = set(catalog.current().probes)
    for entry in catalog.entries():
        assert {link.paper.id for link in entry.papers} <= paper_ids
        assert set(entry.variants) <= ids and {r for r, _ in entry.related} <= ids
        assert entry.parent is None or entry.parent in ids
        assert set(entry.probe_data) <= probes
        for h in entry.homonyms:
            assert set(h.papers) <= paper_ids
        for inst in entry.instances:
            assert inst.source in paper_ids
            model = catalog.model(inst.model)
            assert 0 <= inst.layer < model.n_layers and 0 <= inst.head < model.n_heads
    for paper in catalog.papers():
        assert set(paper.head_types) <= ids


def test_no_id_name_or_alias_names_two_entries():
    owner: dict[str, str] = {}
    for entry in catalog.entries():
        for name in [entry.id, entry.name, *entry.aliases, *(n for n, _ in entry.zh)]:
            k = key(name)
            assert owner.setdefault(k, entry.id) == entry.id, f"{name!r}: {owner[k]} and {entry.id}"


def test_every_entry_is_complete():
    for entry in catalog.entries():
        assert entry.definition and len(entry.definition) > 20, entry.id
        assert entry.stage_source in {"survey", "ours"}, entry.id
        assert entry.stage in {None, "KR", "ICI", "LR", "EP"}, entry.id
        assert entry.papers, f"{entry.id} has no paper"
        assert entry.name_zh, f"{entry.id} has no Chinese name"


def test_the_four_stages_hold_the_survey_types():
    survey_by_stage = {
        "KR": {"associative_memory", "memory_head", "constant_head", "single_letter_head", "negative_head"},
        "ICI": {"previous_token_head", "positional_head", "rare_words_head", "duplicate_token_head", "retrieval_head",
                "global_retrieval_head", "subword_merge_head", "syntactic_head", "negative_name_mover_head",
                "mover_head", "name_mover_head", "backup_name_mover_head", "letter_mover_head", "context_head",
                "content_gatherer_head", "sentiment_summarizer", "semantic_induction_head", "subject_head",
                "relation_head"},
        "LR": {"summary_reader", "function_vector_head", "induction_head", "in_context_head", "truthfulness_head",
               "accuracy_head", "consistency_head", "vulnerable_head", "correct_letter_head", "iteration_head",
               "successor_head", "inhibition_head"},
        "EP": {"mixed_head", "amplification_head", "correct_head", "coherence_head", "faithfulness_head"},
    }
    for stage, expected in survey_by_stage.items():
        from_survey = {e.id for e in catalog.by_stage(stage) if e.stage_source == "survey"}
        assert from_survey == expected, stage


def test_every_paper_of_the_list_is_reachable_with_its_tags_and_date(list_papers):
    assert len(list_papers) == 86
    for row, source in enumerate(list_papers, 1):
        by_title = [p for p in catalog.papers() if p.title == source["title"]]
        assert len(by_title) == 1, source["title"]
        paper = by_title[0]
        assert paper.list_row == row
        assert paper.date == source["date"]
        assert list(paper.heads_tagged) == source["heads"]
        assert paper.arxiv_id == source["arxiv_id"]
        assert paper.venue == source["venue"]
        if source["arxiv_id"]:
            assert catalog.paper(source["arxiv_id"]) is paper
        if source["survey_bibkey"]:
            assert catalog.paper(source["survey_bibkey"]) is paper
        assert catalog.paper(paper.id) is paper
        assert catalog.bibtex([paper.id]).startswith("@")


def test_every_head_tag_of_the_list_resolves(list_papers):
    tags = {tag for p in list_papers for tag in p["heads"]}
    assert len(tags) == 77
    for tag in tags:
        entry = catalog.get(tag)
        assert entry.id
    # The badge spelling of one entry, "S_Inhibition_Head", works as typed.
    assert catalog.get("S_Inhibition_Head").id == "inhibition_head"


def test_every_paper_lists_the_types_its_tags_mean_and_the_types_link_back(list_papers):
    for paper in catalog.papers():
        for head_id in paper.head_types:
            assert paper.id in {link.paper.id for link in catalog.get(head_id).papers}


def test_errata_are_corrected_and_noted():
    ioi = catalog.paper("2211.00593")
    assert any("26" in note for note in ioi.errata)
    assert len([i for i in catalog.current().by_head.values() for x in i
                if x.source == ioi.id and x.model == "gpt2-small"]) == 26
    facts = catalog.paper("2402.07321")
    assert set(facts.head_types) == {"subject_head", "relation_head", "mixed_head"}
    assert facts.url == "https://arxiv.org/abs/2402.07321" and facts.errata
    assert catalog.paper("2402.13055").head_types == ("semantic_induction_head",)
    assert catalog.paper("2402.13055").url.endswith("2402.13055")
    assert catalog.paper("2402.18312").url.endswith("2402.18312")
    assert catalog.paper("2407.15018").head_types == ("correct_head",)
    assert set(catalog.paper("2310.15154").head_types) == {"sentiment_summarizer", "summary_reader"}
    assert catalog.paper("2101.09115").errata  # wrong summary in the list
    assert catalog.paper("2209.11895").errata  # list date is not the arXiv date
    assert catalog.paper("2405.14992").errata  # NIPS badge pointing to arXiv
    # Homonyms: the same list tag means a different type for these papers.
    assert catalog.paper("2502.06923").head_types == ("counting_mixed_head",)
    assert catalog.paper("2410.16139").head_types == ("subject_head_argrole",)
    # The survey's DeepMind icon is Chinchilla, not Gemma, for Lieberum et al.'s heads.
    assert "Chinchilla" in catalog.get("constant_head").families


SEED = Path(os.environ.get("HEADLAB_SEED_TEXT", "/work/shared/seeds/000_5c8de9776de6fbfe.txt"))


def test_chinese_names_marked_as_from_the_founding_document_occur_in_it():
    if not SEED.exists():
        pytest.skip(f"founding document not found at {SEED} (set HEADLAB_SEED_TEXT)")
    text = "".join(SEED.read_text("utf-8").split())
    claimed = [(e.id, n) for e in catalog.entries() for n, src in e.zh if src == "founding_document"]
    assert len(claimed) >= 20
    assert [(i, n) for i, n in claimed if "".join(n.split()) not in text] == []
