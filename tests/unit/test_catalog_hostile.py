"""catalog.extend(path) with files nobody should write: wrong types, huge, bombs, deep nesting, junk.

Every one must end in a ``CatalogError`` (a ``HeadlabError``) that says what is wrong, quickly and in
little memory. The cases that used to hang or crash the interpreter run in a child process with CPU
and address-space limits, so a regression fails the test instead of taking the test run down.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import headlab.catalog as catalog
from headlab.catalog import _loading, _yaml_safe
from headlab.errors import CatalogError, HeadlabError


@pytest.fixture(autouse=True)
def clean_catalog():
    catalog.reset()
    yield
    catalog.reset()


def write(tmp_path, text: str | bytes, name: str = "mine.yaml"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def billion_laughs() -> str:
    """The classic alias bomb: 9 anchors, each a list of 9 aliases of the one before (9**9 'lol's).

    The anchors sit where the schema looks (items of ``heads``): the previous loader composed the file,
    then the schema check wrote ``repr`` of each wrong item into its message, which ran out of memory.
    """
    lines = ["heads:", '- &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"- &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def run_limited(code: str, cpu_seconds: int = 30, memory_bytes: int = 1536 * 2**20) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with CPU-time and address-space limits (POSIX)."""
    resource = pytest.importorskip("resource")

    def limits():
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, preexec_fn=limits,
                          timeout=10 * cpu_seconds)


CHILD = textwrap.dedent("""\
    import sys
    import headlab.catalog as catalog
    from headlab.errors import CatalogError
    try:
        catalog.extend(sys.argv[1] if len(sys.argv) > 1 else {path!r})
    except CatalogError as exc:
        print("CatalogError:", str(exc)[:500])
    else:
        print("accepted")
    """)


# ---------------------------------------------------------------- what to pass

@pytest.mark.parametrize("value", [None, 3, 2.5, b"heads.yaml", "", "   ", ["a.yaml"], {"path": "a.yaml"}])
def test_wrong_argument_types_say_what_to_pass(value):
    with pytest.raises(CatalogError, match=r"path of a YAML or JSON catalogue file.*Pass e\.g\."):
        catalog.extend(value)


def test_pathlib_paths_work(tmp_path):
    assert catalog.extend(write(tmp_path, "papers: []\n")) == []


def test_a_folder_a_device_and_a_pipe_are_refused(tmp_path):
    with pytest.raises(CatalogError, match="is a folder"):
        catalog.extend(tmp_path)
    if os.path.exists("/dev/zero"):  # endless: must never be read
        with pytest.raises(CatalogError, match="not a regular file"):
            catalog.extend("/dev/zero")
    if hasattr(os, "mkfifo"):  # opening a pipe without a writer would block forever, so it runs in a child
        pipe = tmp_path / "pipe.yaml"
        os.mkfifo(pipe)
        done = run_limited(CHILD.format(path=str(pipe)), cpu_seconds=30)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "CatalogError:" in done.stdout and "not a regular file" in done.stdout


# ---------------------------------------------------------------- size

def test_files_over_the_cap_are_refused_before_reading(tmp_path):
    path = tmp_path / "big.yaml"
    with open(path, "wb") as fh:
        fh.truncate(_loading.MAX_FILE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(CatalogError, match="at most 5 MB"):
        catalog.extend(path)


def test_a_file_at_the_cap_is_read(tmp_path):
    padding = "#" * (_loading.MAX_FILE_BYTES - 20) + "\n"
    path = write(tmp_path, padding + "papers: []\n")
    assert path.stat().st_size <= _loading.MAX_FILE_BYTES
    assert catalog.extend(path) == []


# ---------------------------------------------------------------- YAML aliases

def test_billion_laughs_is_refused_in_a_limited_child(tmp_path):
    path = write(tmp_path, billion_laughs(), "lol.yaml")
    assert path.stat().st_size < 400
    done = run_limited(CHILD.format(path=str(path)))
    assert done.returncode == 0, f"child died (limits hit?): {done.returncode} {done.stderr[-2000:]}"
    assert "CatalogError:" in done.stdout and "billion laughs" in done.stdout and "lol.yaml:" in done.stdout


def test_billion_laughs_in_process_names_the_line(tmp_path):
    with pytest.raises(CatalogError, match=r"lol\.yaml:4: alias \*b refers to a collection that itself contains aliases"):
        catalog.extend(write(tmp_path, billion_laughs(), "lol.yaml"))


def test_too_many_aliases(tmp_path):
    text = "x: &x 1\ny: [" + ", ".join(["*x"] * (_yaml_safe.MAX_ALIASES + 1)) + "]\n"
    with pytest.raises(CatalogError, match=f"more than {_yaml_safe.MAX_ALIASES} YAML aliases"):
        catalog.extend(write(tmp_path, text))


def test_aliases_that_stand_for_too_much_data(tmp_path):
    big = "[" + ", ".join(["1"] * 3000) + "]"
    text = f"x: &x {big}\ny: [*x, *x, *x, *x]\n"
    with pytest.raises(CatalogError, match="stand for more than 10,000 values"):
        catalog.extend(write(tmp_path, text))


@pytest.mark.parametrize("text,fragment", [
    ("a: &a [1, *a]\n", "contains it"),
    ("a: *nowhere\n", "refers to no anchor"),
])
def test_recursive_and_undefined_aliases(tmp_path, text, fragment):
    with pytest.raises(CatalogError, match=fragment):
        catalog.extend(write(tmp_path, text))


def test_a_few_plain_aliases_still_work(tmp_path):
    text = textwrap.dedent("""\
        papers:
        - {id: Mine_25_lab, title: Ours, date: "2025-06-01", venue: Internal report}
        heads:
        - id: my_a_head
          name: A Head
          stage: &ours {primary: LR, source: ours}
          definition: Attends to every earlier copy of the current token.
          detector: []
          papers: &mine [{id: Mine_25_lab, role: introduced}]
        - id: my_b_head
          name: B Head
          stage: *ours
          definition: Attends to every later copy of the current token.
          detector: []
          papers: *mine
        """)
    assert catalog.extend(write(tmp_path, text)) == ["my_a_head", "my_b_head"]
    assert catalog.get("my_b_head").stage == "LR"
    assert [link.paper.id for link in catalog.get("my_b_head").papers] == ["Mine_25_lab"]


# ---------------------------------------------------------------- nesting

@pytest.mark.parametrize("text", [
    "heads: " + "[" * 10_000 + "]" * 10_000 + "\n",     # flow
    "heads:\n" + "- " * 10_000 + "x\n",                  # block
    "heads: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n",
])
def test_deep_yaml_is_a_catalog_error_not_a_recursion_error(tmp_path, text):
    with pytest.raises(CatalogError, match="nest more than 64 levels"):
        catalog.extend(write(tmp_path, text))


def test_very_deep_yaml_that_crashed_libyaml_is_refused_in_a_limited_child(tmp_path):
    # 100,000 levels made libyaml's recursive composer overflow the C stack (a segfault).
    path = write(tmp_path, "[" * 100_000 + "]" * 100_000 + "\n", "deep.yaml")
    done = run_limited(CHILD.format(path=str(path)))
    assert done.returncode == 0, f"child died: {done.returncode} {done.stderr[-2000:]}"
    assert "CatalogError:" in done.stdout and "64 levels" in done.stdout


@pytest.mark.parametrize("depth", [100, 10_000, 200_000])
def test_deep_json_is_a_catalog_error(tmp_path, depth):
    text = '{"heads": ' + "[" * depth + "]" * depth + "}"
    with pytest.raises(CatalogError, match="nest") as info:
        catalog.extend(write(tmp_path, text, "deep.json"))
    assert "deep.json" in str(info.value)


# ---------------------------------------------------------------- short messages

def test_messages_quote_short_excerpts_of_huge_values(tmp_path):
    huge = "a" * 2_000_000
    with pytest.raises(CatalogError) as info:
        catalog.extend(write(tmp_path, f"heads:\n- id: {huge}\n  definition: {huge}\n"))
    message = str(info.value)
    assert len(message) < 3000 and "2,000,000 characters" in message


def test_many_unknown_fields_are_summarised(tmp_path):
    fields = "".join(f"  junk{i}: 1\n" for i in range(1000))
    with pytest.raises(CatalogError, match=r"unknown field\(s\) 'junk0'.*and 995 more") as info:
        catalog.extend(write(tmp_path, "heads:\n- id: x_head\n" + fields))
    assert len(str(info.value)) < 3000


def test_a_top_level_list_is_described_not_printed(tmp_path):
    text = "".join(f"- item {i}\n" for i in range(50_000))
    with pytest.raises(CatalogError, match="holds a list of 50,000 items") as info:
        catalog.extend(write(tmp_path, text))
    assert len(str(info.value)) < 500


@pytest.mark.parametrize("text,name", [
    ("models:\n- {id: m, n_layers: " + "9" * 5000 + ", n_heads: 1}\n", "mine.yaml"),
    ('{"models": [{"id": "m", "n_layers": ' + "9" * 5000 + ', "n_heads": 1}]}', "mine.json"),
])
def test_numbers_python_will_not_convert_are_catalog_errors(tmp_path, text, name):
    with pytest.raises(CatalogError, match="cannot be read"):
        catalog.extend(write(tmp_path, text, name))


def test_more_than_one_document_and_bad_bytes(tmp_path):
    with pytest.raises(CatalogError, match="one YAML document"):
        catalog.extend(write(tmp_path, "papers: []\n---\nheads: []\n"))
    with pytest.raises(CatalogError, match=r"mine\.yaml:2: not UTF-8"):
        catalog.extend(write(tmp_path, b"papers: []\nheads: [\xff]\n"))
    assert catalog.extend(write(tmp_path, "\ufeffpapers: []\n")) == []  # a BOM is fine


# ---------------------------------------------------------------- anything at all

@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_text_is_accepted_or_refused_with_a_catalog_error(tmp_path, text):
    path = write(tmp_path, text)
    try:
        catalog.extend(path)
    except CatalogError as exc:
        assert str(exc).strip()
    finally:
        catalog.reset()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=30,
)
SECTION_VALUES = st.dictionaries(st.sampled_from(["heads", "papers", "instances", "models", "probes", "other"]),
                                 JSON_VALUES, max_size=3)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(SECTION_VALUES, st.booleans())
def test_any_json_shaped_data_is_accepted_or_refused_with_a_catalog_error(tmp_path, data, as_json):
    path = write(tmp_path, json.dumps(data), "mine.json" if as_json else "mine.yaml")
    try:
        catalog.extend(path)
    except CatalogError:
        pass
    except HeadlabError as exc:  # pragma: no cover - would be a wrong error class
        pytest.fail(f"{type(exc).__name__}: {exc}")
    finally:
        catalog.reset()


# ---------------------------------------------------------------- hostile lookups

def test_huge_queries_and_names_stay_cheap_and_short_in_a_limited_child():
    code = textwrap.dedent("""\
        import headlab.catalog as catalog
        from headlab.errors import CatalogError
        assert isinstance(catalog.search("induction " * 200_000), list)
        try:
            catalog.get("q" * 1_000_000)
        except CatalogError as exc:
            assert len(str(exc)) < 1000, len(str(exc))
            print("short error")
        """)
    done = run_limited(code, cpu_seconds=30)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "short error"
