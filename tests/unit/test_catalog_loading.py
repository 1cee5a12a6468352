"""How catalogue files are read: built-in ones without jsonschema, users' ones checked with it.

The built-in files are validated here and by scripts/check-catalog.py instead of in every process (#14).
"""

from __future__ import annotations

import copy
import functools
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import headlab.catalog as catalog
from headlab.catalog import _loading, _schema_check
from headlab.errors import CatalogError

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check-catalog.py"
DATA_DIR = Path(catalog.__file__).parent / "data"


def test_loading_the_builtin_catalogue_does_not_import_jsonschema():
    code = ("import sys, headlab.catalog as c; c.search('induction'); c.heads_of('gpt2', 12, 12); c.export_json(); "
            "assert 'jsonschema' not in sys.modules, 'jsonschema was imported'; print(len(c.entries()))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout) == len(catalog.entries())


def test_builtin_files_pass_the_checks_a_users_file_gets():
    checked = _loading.check_builtin()  # nesting / alias limits and the schema, as for extend()
    fast = _loading.load_builtin()
    assert [s.name for s in checked] == list(_loading.BUILTIN_FILES)
    for a, b in zip(checked, fast):
        assert [(r.section, r.data, r.where) for r in a.records] == [(r.section, r.data, r.where) for r in b.records]


def test_check_catalog_script_passes_and_fails_when_it_should(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"{len(catalog.entries())} head types" in done.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("heads:\n- id: x_head\n  name: X\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(SCRIPT), str(bad)], capture_output=True, text=True)
    assert done.returncode == 1 and "bad.yaml:2" in done.stderr and "required property" in done.stderr


def test_user_files_are_still_validated_with_line_numbers(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("papers:\n- id: P1\n  title: T\n  date: '2025'\n  venue: V\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"mine\.yaml:4: 'P1' papers\[0\]\.date: '2025' does not match"):
        catalog.extend(path)
    catalog.reset()


# ---------------------------------------------------------------- the short-message validator

@functools.lru_cache(maxsize=1)
def _good() -> dict:
    return yaml.load((DATA_DIR / "heads_ici.yaml").read_text("utf-8"), Loader=_loading._PlainLoader)  # noqa: S506


@functools.lru_cache(maxsize=1)
def _stock() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(_loading.schema())


def _paths(validator, data):
    return sorted((tuple(map(str, e.absolute_path)), e.validator) for e in validator.iter_errors(data))


ODD_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=8),
                       st.lists(st.integers(0, 2), max_size=2), st.dictionaries(st.text(max_size=5), st.none(), max_size=2))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_short_message_validator_finds_the_same_problems_as_jsonschema(data):
    """Replacing keywords for shorter messages must not change what is valid or where problems are."""
    doc = {"heads": copy.deepcopy(data.draw(st.lists(st.sampled_from(_good()["heads"]), min_size=1, max_size=2)))}
    head = data.draw(st.sampled_from(doc["heads"]))
    field = data.draw(st.sampled_from(sorted(head) + ["unknown_field"]))
    head[field] = data.draw(ODD_VALUES)
    assert _paths(_schema_check._validator(), doc) == _paths(_stock(), doc)


def test_short_messages_for_each_replaced_keyword():
    validator = _schema_check._validator()
    doc = {"heads": [{"id": "X" * 500, "name": "", "stage": {"primary": "LX", "source": "ours"}, "definition": 5,
                      "detector": [], "parent": 3, "junk": 1}]}
    messages = [e.message for e in validator.iter_errors(doc)]
    assert all(len(m) < 200 for m in messages), messages
    joined = " | ".join(messages)
    for fragment in ("does not match", "is longer than the 100 characters", "is shorter than 1 characters",
                     "is not of type 'string'", "not an allowed value here", "unknown field(s) 'junk'"):
        assert fragment in joined, fragment
    assert "is not one of" in " ".join(e.message for e in validator.iter_errors({"heads": [{"automatic": "maybe"}]}))
