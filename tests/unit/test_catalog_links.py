"""headlab.catalog.links: one way for reports, widgets and the HTML page to link results to the catalogue."""

from __future__ import annotations

import doctest
import inspect
import json

import pytest

import headlab.catalog as catalog
from headlab.catalog import links
from headlab.errors import CatalogError, HeadlabError, InputError

GPT2_SPELLINGS = ["gpt2", "gpt2-small", "GPT-2 small", "openai-community/gpt2", "gpt2_small"]


@pytest.fixture(autouse=True)
def clean_catalog():
    catalog.reset()
    yield
    catalog.reset()


# ---------------------------------------------------------------- heads_of and the size rule

def test_gpt2_10_7_is_linked_under_the_short_name_the_widgets_missed():
    # The widgets compared "gpt2" with the instances' "gpt2-small" as strings and found nothing.
    found = catalog.heads_of("gpt2", 12, 12)
    assert found[(10, 7)] == ["copy_suppression_head", "negative_name_mover_head"]
    assert found[(10, 7)] == catalog.types_for_head("gpt2", 10, 7)


def test_a_model_of_another_size_under_a_public_name_gets_no_links():
    assert catalog.heads_of("gpt2", 6, 12) == {}
    assert catalog.heads_of("gpt2", 12, 16) == {}
    assert catalog.heads_by_type("gpt2", 6, 12) == {}
    assert catalog.known_model("gpt2", 6, 12) is None
    assert catalog.known_model("gpt2", 12, 12).id == "gpt2-small"


@pytest.mark.parametrize("spelling", GPT2_SPELLINGS)
def test_every_spelling_of_a_model_gives_the_same_links(spelling):
    assert catalog.heads_of(spelling, 12, 12) == catalog.heads_of("gpt2-small", 12, 12)


def test_heads_of_agrees_with_for_head_on_every_head():
    linked = catalog.heads_of("gpt2", 12, 12)
    for layer in range(12):
        for head in range(12):
            assert linked.get((layer, head), []) == catalog.types_for_head("gpt2", layer, head), (layer, head)
    assert len(linked) >= 20  # the IOI circuit alone has 26 heads
    assert all(isinstance(k, tuple) and len(k) == 2 for k in linked)
    assert list(linked) == sorted(linked)


def test_one_based_sources_are_linked_at_their_zero_based_heads():
    # Clark et al.'s determiner head 8-11 (1-based) is (7, 10).
    assert "syntactic_head" in catalog.heads_of("bert-base-uncased", 12, 12)[(7, 10)]


@pytest.mark.parametrize("name", ["my-private-model", "", "   ", None])
def test_unknown_or_missing_model_names_get_no_links(name):
    assert catalog.heads_of(name, 12, 12) == {}


def test_bad_sizes_and_names_raise_headlab_errors_that_say_what_to_pass():
    with pytest.raises(InputError, match="n_layers"):
        catalog.heads_of("gpt2", 0, 12)
    with pytest.raises(InputError, match="n_heads"):
        catalog.heads_of("gpt2", 12, 1.5)
    with pytest.raises(InputError, match="n_layers"):
        catalog.heads_of("gpt2", True, 12)
    with pytest.raises(CatalogError, match="model_name must be a str"):
        catalog.heads_of(["gpt2"], 12, 12)


def test_numpy_sizes_are_accepted():
    np = pytest.importorskip("numpy")
    assert catalog.heads_of("gpt2", np.int64(12), np.int32(12)) == catalog.heads_of("gpt2", 12, 12)


def test_heads_by_type_inverts_heads_of():
    by_type = catalog.heads_by_type("openai-community/gpt2", 12, 12)
    assert (10, 7) in by_type["copy_suppression_head"] and (9, 9) in by_type["name_mover_head"]
    pairs = {(t, h) for t, heads in by_type.items() for h in heads}
    assert pairs == {(t, h) for h, types in catalog.heads_of("gpt2", 12, 12).items() for t in types}


def test_links_follow_extensions(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "papers:\n- {id: Mine_25_lab, title: Ours, date: '2025-06-01', venue: Internal report}\n"
        "instances:\n- {type: induction_head, model: gpt2, layer: 3, head: 4, source: Mine_25_lab, "
        "confidence: unconfirmed}\n", encoding="utf-8")
    assert (3, 4) not in catalog.heads_of("gpt2", 12, 12)
    catalog.extend(path)
    assert catalog.heads_of("gpt2", 12, 12)[(3, 4)] == ["induction_head"]


# ---------------------------------------------------------------- roles

def test_types_for_role():
    assert catalog.types_for_role("retrieval") == ["retrieval_head"]
    assert "induction_head" in catalog.types_for_role("induction")
    assert catalog.types_for_role("no-such-role") == []
    out = catalog.types_for_role("induction")
    out.append("x")  # callers get their own list
    assert "x" not in catalog.types_for_role("induction")
    with pytest.raises(CatalogError, match="strings"):
        catalog.types_for_role(None)


# ---------------------------------------------------------------- summaries

SUMMARY_KEYS = {"id", "name", "name_zh", "zh", "aliases", "stage", "stage_name", "definition", "detector",
                "papers", "known_instances"}


def test_summary_is_plain_json_with_what_the_views_show():
    s = catalog.summary("induction")
    assert set(s) == SUMMARY_KEYS
    assert json.loads(json.dumps(s, ensure_ascii=False)) == s
    assert s["id"] == "induction_head" and s["name"] == "Induction Head" and s["stage"] == "LR"
    assert "感应头" in s["zh"] and "归纳头" in s["zh"] and s["name_zh"] == "归纳头"
    assert "Induction" in s["aliases"] and s["detector"] == ["induction", "copying"]
    paper = s["papers"][0]
    assert {"id", "title", "year", "role"} <= set(paper) and isinstance(paper["year"], int)
    assert all(p["url"].startswith("http") for p in s["papers"] if "url" in p)
    inst = s["known_instances"][0]
    assert {"model", "hf_id", "layer", "head", "source", "confidence"} <= set(inst)


def test_summary_of_an_unplaced_type_has_an_empty_stage():
    s = catalog.summary("safety_head")
    assert s["stage"] == "" and s["stage_name"] == ""


def test_authors_are_a_short_label():
    assert catalog.summary("name mover")["papers"][0]["authors"] == "Wang et al."
    from headlab.catalog.links import authors_label

    assert authors_label(catalog.paper("zhengattention")) == "Zheng et al."  # from the full author list


@pytest.mark.parametrize("spelling", GPT2_SPELLINGS)
def test_summary_keeps_one_models_instances_whatever_its_spelling(spelling):
    s = catalog.summary("copy_suppression_head", model=spelling)
    heads = {(k["layer"], k["head"]) for k in s["known_instances"]}
    assert (10, 7) in heads and {k["model"] for k in s["known_instances"]} == {"gpt2-small"}


def test_summary_model_filter_applies_the_size_rule_when_sizes_are_given():
    assert catalog.summary("copy suppression", model="gpt2", n_layers=12, n_heads=12)["known_instances"]
    assert catalog.summary("copy suppression", model="gpt2", n_layers=6, n_heads=12)["known_instances"] == []
    assert catalog.summary("copy suppression", model="my-model")["known_instances"] == []
    every = catalog.summary("retrieval")["known_instances"]
    assert len({k["model"] for k in every}) > 1  # without a model, all of them


def test_summaries_all_in_catalogue_order_or_chosen_ids_in_their_order():
    every = catalog.summaries()
    assert [s["id"] for s in every] == [e.id for e in catalog.entries()]
    chosen = catalog.summaries(["retrieval_head", "Induction Head", "induction_head", "not_a_type"])
    assert [s["id"] for s in chosen] == ["retrieval_head", "induction_head"]
    assert catalog.summaries("retrieval")[0]["id"] == "retrieval_head"
    assert catalog.summaries([]) == []
    with pytest.raises(CatalogError):
        catalog.summary("not_a_type")
    with pytest.raises(CatalogError, match="strings"):
        catalog.summaries([3])


def test_summaries_filtered_to_a_model_keep_only_its_instances():
    for s in catalog.summaries(model="gpt2", n_layers=12, n_heads=12):
        assert all(k["model"] == "gpt2-small" for k in s["known_instances"]), s["id"]
    assert not any(s["known_instances"] for s in catalog.summaries(model="gpt2", n_layers=2, n_heads=2))


# ---------------------------------------------------------------- module hygiene

def test_links_has_no_blanket_excepts_and_no_attribute_probing():
    source = inspect.getsource(links)
    assert "except Exception" not in source and "except:" not in source and "getattr(" not in source


def test_links_docstring_examples_hold():
    result = doctest.testmod(links)
    assert result.failed == 0 and result.attempted >= 2


def test_dir_lists_only_the_public_api():
    names = dir(catalog)
    assert names == sorted(catalog.__all__)
    assert {"threading", "Path", "Iterable", "resources", "load_file"}.isdisjoint(names)
    assert {"heads_of", "types_for_role", "summary", "summaries", "export_json", "links"} <= set(names)
    for name in catalog.__all__:
        assert hasattr(catalog, name), name


def test_every_error_here_is_a_headlab_error():
    for call in (lambda: catalog.summary(""), lambda: catalog.heads_of("gpt2", -1, 1), lambda: catalog.types_for_role(1)):
        with pytest.raises(HeadlabError):
            call()
