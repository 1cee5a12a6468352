"""The lookup API of headlab.catalog: get, search, for_head, for_role, by_stage, papers, bibtex, display."""

from __future__ import annotations

import json

import pytest

import headlab.catalog as catalog
from headlab.errors import CatalogError, HeadlabError


# ---------------------------------------------------------------- get

@pytest.mark.parametrize("spelling", [
    "induction_head", "Induction Head", "induction", "INDUCTION-HEADS", " induction  head ", "归纳头", "感应头",
])
def test_get_ignores_case_punctuation_and_trailing_head(spelling):
    assert catalog.get(spelling).id == "induction_head"


@pytest.mark.parametrize("alias,expected", [
    ("S-Inhibition Head", "inhibition_head"),
    ("S Inhibition Head", "inhibition_head"),
    ("Suppression Head", "inhibition_head"),
    ("Previous Head", "previous_token_head"),
    ("Duplicate Head", "duplicate_token_head"),
    ("BPE-merging Head", "subword_merge_head"),
    ("Answer Head", "correct_head"),
    ("Direct effect Head", "sentiment_summarizer"),
    ("Memoey Head", "memory_head"),
    ("Associative Memories Head", "associative_memory"),
    ("检索头", "retrieval_head"),
    ("活跃-休眠注意力头", "active_dormant_head"),
    ("Mixed Head", "mixed_head"),
    ("mixed head (counting)", "counting_mixed_head"),
])
def test_get_resolves_aliases(alias, expected):
    assert catalog.get(alias).id == expected


def test_unknown_name_raises_a_headlab_error_with_close_matches():
    with pytest.raises(HeadlabError) as info:
        catalog.get("indcution head")
    assert isinstance(info.value, CatalogError)
    assert "induction_head" in str(info.value)


def test_unknown_name_with_nothing_close_still_says_what_to_do():
    with pytest.raises(CatalogError, match="search"):
        catalog.get("qqqqqqqq")


def test_get_rejects_non_strings_clearly():
    with pytest.raises(CatalogError, match="string"):
        catalog.get(42)


# ---------------------------------------------------------------- search

def test_search_ranks_the_named_type_first():
    assert catalog.search("retrieval")[0].id == "retrieval_head"
    assert catalog.search("name mover")[0].id == "name_mover_head"
    assert catalog.search("copy suppression")[0].id == "copy_suppression_head"


def test_search_finds_by_definition_and_by_paper_title():
    assert "negative_head" in [e.id for e in catalog.search("yes no bias", limit=3)]
    # Only a paper title says "acronyms" ("How does GPT-2 Predict Acronyms?").
    assert "letter_mover_head" in [e.id for e in catalog.search("acronyms", limit=5)]
    # "needle" appears only in definitions.
    assert catalog.search("needle")[0].id == "retrieval_head"


def test_search_prefers_phrases():
    top3 = [e.id for e in catalog.search("knowledge conflict", limit=3)]
    assert {"context_head", "memory_head"} <= set(top3)


def test_search_with_chinese_aliases():
    assert catalog.search("检索头")[0].id == "retrieval_head"
    found = [e.id for e in catalog.search("归纳")]
    assert found[0] == "induction_head" and "semantic_induction_head" in found
    assert catalog.search("语义归纳头")[0].id == "semantic_induction_head"


def test_search_limit_and_empty_queries():
    assert len(catalog.search("head", limit=3)) <= 3
    assert catalog.search("") == []
    assert catalog.search("zzzzqqqq") == []


# ---------------------------------------------------------------- for_head / for_role

@pytest.mark.parametrize("model", ["gpt2", "gpt2-small", "GPT-2 small", "openai-community/gpt2", "gpt2_small"])
def test_for_head_accepts_common_model_spellings(model):
    assert {i.type for i in catalog.for_head(model, 9, 9)} >= {"name_mover_head"}


def test_for_head_knows_gpt2_small_name_movers_and_copy_suppression():
    for layer, head in [(9, 9), (10, 0), (9, 6)]:
        assert "name_mover_head" in {i.type for i in catalog.for_head("gpt2", layer, head)}
    roles_10_7 = catalog.for_head("gpt2", 10, 7)
    assert [i.type for i in roles_10_7] == ["copy_suppression_head", "negative_name_mover_head"]
    assert roles_10_7[0].confidence == "confirmed" and roles_10_7[0].source == "CopySupression_23_arXiv_Google"
    assert "induction_head" in {i.type for i in catalog.for_head("gpt2", 5, 5)}
    assert catalog.for_head("gpt2", 0, 0) == []


def test_types_for_head_gives_ids_once_each():
    assert catalog.types_for_head("gpt2", 10, 7) == ["copy_suppression_head", "negative_name_mover_head"]
    assert catalog.types_for_head("bert-base-uncased", 6, 5) == ["syntactic_head"]  # poss and advmod
    assert len(catalog.for_head("bert-base-uncased", 6, 5)) == 2
    assert catalog.types_for_head("unknown-model", 0, 0) == []


def test_for_head_converts_one_based_sources():
    # Clark et al. name BERT's determiner head 8-11 (1-based); headlab counts from 0.
    found = catalog.for_head("bert-base-uncased", 7, 10)
    assert [i.type for i in found] == ["syntactic_head"]
    assert found[0].as_published == "8-11 (1-based)"


def test_for_head_unknown_model_is_empty_and_bad_index_is_an_error():
    assert catalog.for_head("my-own-model", 0, 0) == []
    with pytest.raises(CatalogError, match="12 layers"):
        catalog.for_head("gpt2", 12, 0)
    with pytest.raises(CatalogError, match="integer"):
        catalog.for_head("gpt2", 1.5, 0)


def test_for_head_accepts_numpy_integers():
    np = pytest.importorskip("numpy")
    assert catalog.for_head("gpt2", np.int64(9), np.int32(9))


def test_for_role_lists_catalogue_ids_whose_detector_is_the_role():
    assert "induction_head" in catalog.for_role("induction")
    assert catalog.for_role("retrieval") == ["retrieval_head"]
    assert "previous_token_head" in catalog.for_role("previous")
    assert "syntactic_head" in catalog.for_role("syn:nsubj:rev")
    assert catalog.for_role("no-such-role") == []
    for role in ["previous_token", "duplicate_token", "sink", "copying", "local", "delimiter", "block"]:
        assert catalog.for_role(role), role


# ---------------------------------------------------------------- stages, papers, models

@pytest.mark.parametrize("spelling", ["LR", "lr", "Latent Reasoning", "latent_reasoning", "潜在推理"])
def test_by_stage_spellings(spelling):
    found = {e.id for e in catalog.by_stage(spelling)}
    assert "induction_head" in found and "retrieval_head" not in found


def test_by_stage_secondary_and_unplaced():
    assert "induction_head" in {e.id for e in catalog.by_stage("ICI", include_secondary=True)}
    assert "safety_head" in {e.id for e in catalog.by_stage(None)}
    assert {e.id for e in catalog.by_stage("unplaced")} == {e.id for e in catalog.by_stage(None)}
    with pytest.raises(CatalogError, match="KR, ICI, LR or EP"):
        catalog.by_stage("reasoning stage 5")


def test_every_entry_sits_in_exactly_one_stage_bucket():
    buckets = [catalog.by_stage(s) for s in ("KR", "ICI", "LR", "EP", None)]
    assert sum(len(b) for b in buckets) == len(catalog.entries())


def test_papers_and_paper_lookup():
    all_papers = catalog.papers()
    assert [p.list_row for p in all_papers[:86]] == list(range(1, 87))
    ioi = catalog.paper("arXiv:2211.00593")
    assert ioi.id == "IOI_23_ICLR_Redwood" and ioi.venue == "ICLR" and ioi.date == "2023-02-02"
    assert catalog.paper("ioi_23_iclr_redwood") is ioi
    assert ioi in catalog.papers("name mover")
    with pytest.raises(CatalogError, match="Unknown paper"):
        catalog.paper("1234.5678")


def test_models():
    gpt2 = catalog.model("openai-community/gpt2")
    assert (gpt2.id, gpt2.n_layers, gpt2.n_heads) == ("gpt2-small", 12, 12)
    with pytest.raises(CatalogError, match="gpt2-small"):
        catalog.model("gpt2-smal")


# ---------------------------------------------------------------- bibtex

def test_bibtex_for_papers_and_head_types():
    text = catalog.bibtex(["IOI_23_ICLR_Redwood", "2404.15574"])
    assert text.count("@") == 2
    assert "@inproceedings{IOI_23_ICLR_Redwood," in text and "eprint = {2211.00593}" in text
    assert "@misc{RetrievalHead_24_arXiv_PKU," in text and "author = {Wu and others}" in text
    by_type = catalog.bibtex("induction")
    assert by_type.count("@") == len(catalog.get("induction").papers)
    assert catalog.bibtex(["induction", "MathFrame_21_TCT_Anthropic"]).count("@") == by_type.count("@")


def test_bibtex_escapes_latex_specials_and_balances_braces():
    text = catalog.bibtex(catalog.paper("2502.05945").id)  # title starts with a quote and has "..."
    assert text.count("{") == text.count("}")
    survey = catalog.bibtex("zhengattention")
    assert "@article{zhengattention," in survey and "journal = {Patterns}" in survey and "year = {2025}" in survey
    assert "author = {Zheng, Zifan and Wang, Yezhaohui and" in survey


def test_bibtex_unknown_id_is_a_catalog_error():
    with pytest.raises(CatalogError, match="neither a paper"):
        catalog.bibtex(["no-such-thing"])


# ---------------------------------------------------------------- display and dicts

def test_to_dict_is_json_serialisable_and_complete():
    for entry in catalog.entries():
        d = json.loads(json.dumps(entry.to_dict(), ensure_ascii=False))
        assert d["id"] == entry.id and d["stage"]["primary"] == entry.stage
        assert len(d["papers"]) == len(entry.papers)
    for paper in catalog.papers():
        assert json.loads(json.dumps(paper.to_dict()))["id"] == paper.id
    inst = catalog.for_head("gpt2", 10, 7)[0]
    assert json.loads(json.dumps(inst.to_dict()))["label"] == "L10H7"


def test_entries_display_in_terminal_notebook_and_markdown():
    entry = catalog.get("retrieval")
    text = str(entry)
    assert "Retrieval Head" in text and "检索头" in text and "ICI" in text and "llama-2-7b-80k" in text
    html = entry._repr_html_()
    assert html.startswith('<div class="headlab-catalog-card"') and "Retrieval Head" in html and "<table" in html
    md = entry._repr_markdown_()
    assert md.startswith("### Retrieval Head") and "arxiv.org/abs/2404.15574" in md
    paper = catalog.paper("2211.00593")
    assert "Interpretability in the Wild" in str(paper) and "<a href=" in paper._repr_html_()
    assert "2211.00593" in paper._repr_markdown_()


def test_records_are_hashable():
    assert len({*catalog.entries()}) == len(catalog.entries())
    assert len({*catalog.papers()}) == len(catalog.papers())


def test_reprs_stay_short():
    assert repr(catalog.get("induction")) == "<Entry induction_head 'Induction Head' LR>"
    assert repr(catalog.for_head("gpt2", 10, 7)[0]) == "<Instance copy_suppression_head gpt2-small L10H7 confirmed>"
    assert all(len(repr(p)) < 120 for p in catalog.papers())


def test_html_escapes_catalogue_text():
    from headlab.catalog._records import Entry

    hostile = Entry(id="x_head", name="<script>alert(1)</script>", definition="a & b <b>bold</b> " * 3,
                    stage=None, stage_source="ours")
    html = hostile._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>bold" not in html
    assert "\\<script\\>" in hostile._repr_markdown_()


def test_paper_links_carry_citation_fields_for_cards():
    link = catalog.get("name mover").papers[0].to_dict()
    assert link["id"] == "IOI_23_ICLR_Redwood" and link["year"] == 2023 and link["authors"] == "Wang et al."
    assert link["url"].startswith("https://")
    assert catalog.for_head("gpt2", 9, 9)[0].to_dict()["model_hf_id"] == "openai-community/gpt2"


def test_browse_opens_the_catalogue_widget():
    pytest.importorskip("anywidget")
    widget = catalog.browse("induction")
    assert len(widget.entries) == len(catalog.entries())


def test_module_docstring_examples_hold():
    import doctest

    from headlab.catalog import _normalize

    for module in (catalog, _normalize):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__
