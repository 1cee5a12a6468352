"""Users extend the catalogue with their own files, checked like the built-in data."""

from __future__ import annotations

import json
import textwrap

import pytest

import headlab.catalog as catalog
from headlab.errors import CatalogError

GOOD = textwrap.dedent("""\
    papers:
    - id: Mine_25_lab
      title: Heads we found in our own model
      date: "2025-06-01"
      venue: Internal report
      first_author: Doe
      head_types: [my_counting_head]
    heads:
    - id: my_counting_head
      name: Counting Head
      zh:
      - {name: 数数头, source: ours}
      aliases: [Counter Head]
      stage: {primary: LR, source: ours}
      definition: Attends to every earlier copy of the current token and writes how many there were.
      detector: [duplicate_token]
      automatic: "yes"
      probe_data: [repeated_random_tokens]
      papers:
      - {id: Mine_25_lab, role: introduced}
    instances:
    - {type: my_counting_head, model: gpt2, layer: 3, head: 4, source: Mine_25_lab, confidence: unconfirmed}
    - {type: induction_head, model: openai-community/gpt2, layer: 1, head: 1, index_base: 1, source: Mine_25_lab, confidence: third_party}
    """)


@pytest.fixture(autouse=True)
def clean_catalog():
    catalog.reset()
    yield
    catalog.reset()


def write(tmp_path, text, name="mine.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_extension_adds_types_papers_and_instances(tmp_path):
    before = len(catalog.entries())
    added = catalog.extend(write(tmp_path, GOOD))
    assert added == ["my_counting_head"]
    assert len(catalog.entries()) == before + 1
    entry = catalog.get("counter")
    assert entry.id == "my_counting_head" and entry.origin.endswith("mine.yaml")
    assert catalog.get("数数头") is entry
    assert catalog.search("数数")[0] is entry
    assert [link.paper.id for link in entry.papers] == ["Mine_25_lab"]
    assert [i.type for i in catalog.for_head("gpt2", 3, 4)] == ["my_counting_head"]
    # A 1-based instance of a built-in type: stored 0-based, and the built-in entry lists it.
    assert "induction_head" in {i.type for i in catalog.for_head("gpt2", 0, 0)}
    assert any(i.origin.endswith("mine.yaml") for i in catalog.get("induction").instances)
    assert "my_counting_head" in catalog.for_role("duplicate_token")
    assert "Doe and others" in catalog.bibtex("my_counting_head")


def test_reset_drops_extensions(tmp_path):
    catalog.extend(write(tmp_path, GOOD))
    catalog.reset()
    with pytest.raises(CatalogError):
        catalog.get("my_counting_head")


def test_json_extension_files_work_too(tmp_path):
    import yaml

    data = yaml.safe_load(GOOD)
    path = write(tmp_path, json.dumps(data, indent=2), "mine.json")
    assert catalog.extend(path) == ["my_counting_head"]


def test_schema_errors_name_the_file_line_and_entry(tmp_path):
    bad = GOOD.replace("stage: {primary: LR, source: ours}", "stage: {primary: LX, source: ours}")
    with pytest.raises(CatalogError) as info:
        catalog.extend(write(tmp_path, bad))
    message = str(info.value)
    line = GOOD.splitlines().index("  stage: {primary: LR, source: ours}") + 1
    assert f"mine.yaml:{line}" in message and "'my_counting_head'" in message and "stage.primary" in message


def test_unknown_field_and_missing_field_are_reported(tmp_path):
    bad = GOOD.replace("  automatic: \"yes\"\n", "  automatc: \"yes\"\n").replace("  definition: Attends", "  definiton: Attends")
    with pytest.raises(CatalogError) as info:
        catalog.extend(write(tmp_path, bad))
    assert "automatc" in str(info.value) and "'definition' is a required property" in str(info.value)


def test_json_schema_errors_have_lines_too(tmp_path):
    import yaml

    data = yaml.safe_load(GOOD)
    data["heads"][0]["detector"] = "duplicate_token"  # should be a list
    path = write(tmp_path, json.dumps(data, indent=2), "mine.json")
    with pytest.raises(CatalogError, match=r"mine\.json:\d+: 'my_counting_head' heads\[0\]\.detector"):
        catalog.extend(path)


def test_yaml_syntax_errors_point_at_a_line(tmp_path):
    with pytest.raises(CatalogError, match=r"mine\.yaml:4: not valid YAML.*starts at line 3"):
        catalog.extend(write(tmp_path, "heads:\n- id: x\n  name: [unclosed\n"))


def test_json_syntax_errors_point_at_a_line(tmp_path):
    with pytest.raises(CatalogError, match=r"mine\.json:2: not valid JSON"):
        catalog.extend(write(tmp_path, '{"heads":\n  [,]}', "mine.json"))


def test_duplicate_id_points_at_both_places(tmp_path):
    bad = GOOD.replace("- id: my_counting_head", "- id: induction_head").replace("type: my_counting_head", "type: induction_head")
    bad = bad.replace("head_types: [my_counting_head]", "head_types: []")
    with pytest.raises(CatalogError) as info:
        catalog.extend(write(tmp_path, bad))
    assert "mine.yaml:" in str(info.value) and "heads_lr.yaml:" in str(info.value)


def test_alias_used_by_another_type_is_refused(tmp_path):
    bad = GOOD.replace("aliases: [Counter Head]", "aliases: [Counter Head, S-Inhibition Head]")
    with pytest.raises(CatalogError, match="already used by head type 'inhibition_head'"):
        catalog.extend(write(tmp_path, bad))


@pytest.mark.parametrize("old,new,expected", [
    ("- {id: Mine_25_lab, role: introduced}", "- {id: Mine_26_lab, role: introduced}", "unknown paper 'Mine_26_lab'"),
    ("detector: [duplicate_token]", "detector: [duplicate_tokens]", "not a registered headlab role"),
    ("probe_data: [repeated_random_tokens]", "probe_data: [random_tokens]", "unknown probe data"),
    ("model: gpt2, layer: 3", "model: gpt-5, layer: 3", "unknown model 'gpt-5'"),
    ("model: gpt2, layer: 3", "model: gpt2, layer: 12", "12 layers x 12 heads"),
    ("type: my_counting_head, model", "type: my_countin_head, model", "unknown head type 'my_countin_head'"),
    ("head_types: [my_counting_head]", "head_types: [my_counting]", "unknown head type 'my_counting'"),
])
def test_broken_references_are_refused_with_the_entry_named(tmp_path, old, new, expected):
    assert old in GOOD
    with pytest.raises(CatalogError, match=expected) as info:
        catalog.extend(write(tmp_path, GOOD.replace(old, new)))
    assert "mine.yaml:" in str(info.value)


def test_a_listed_paper_cannot_be_added_again_under_a_new_id(tmp_path):
    again = GOOD.replace("  first_author: Doe\n", "  first_author: Doe\n  arxiv_id: '2211.00593'\n")
    assert again != GOOD
    with pytest.raises(CatalogError, match="already identifies paper 'IOI_23_ICLR_Redwood'"):
        catalog.extend(write(tmp_path, again))


def test_a_new_model_can_be_added_but_not_under_a_taken_name(tmp_path):
    model = "models:\n- {id: tiny-lab-model, n_layers: 2, n_heads: 4, names: [tiny]}\n"
    inst = "- {type: induction_head, model: tiny, layer: 1, head: 3, source: Mine_25_lab, confidence: unconfirmed}\n"
    catalog.extend(write(tmp_path, model + GOOD + inst))
    assert [i.type for i in catalog.for_head("tiny", 1, 3)] == ["induction_head"]
    catalog.reset()
    with pytest.raises(CatalogError, match="already names model 'gpt2-small'"):
        catalog.extend(write(tmp_path, model.replace("[tiny]", "[tiny, GPT-2]") + GOOD))


def test_failed_extension_leaves_the_catalogue_unchanged(tmp_path):
    before = [e.id for e in catalog.entries()]
    with pytest.raises(CatalogError):
        catalog.extend(write(tmp_path, GOOD.replace("detector: [duplicate_token]", "detector: [nope]")))
    assert [e.id for e in catalog.entries()] == before
    catalog.extend(write(tmp_path, GOOD))  # and a good file still goes in afterwards
    assert catalog.get("my_counting_head")


def test_missing_file_is_a_catalog_error(tmp_path):
    with pytest.raises(CatalogError, match="not found"):
        catalog.extend(tmp_path / "nope.yaml")


def test_unquoted_dates_are_accepted(tmp_path):
    catalog.extend(write(tmp_path, GOOD.replace('date: "2025-06-01"', "date: 2025-06-01")))
    assert catalog.paper("Mine_25_lab").date == "2025-06-01"


def test_schema_path_points_at_the_shipped_schema():
    assert json.loads(catalog.schema_path().read_text("utf-8"))["title"] == "headlab catalogue file"
