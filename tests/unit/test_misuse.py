"""Misuse a new user might try: every case ends in a HeadlabError whose message says what to do.

The classes come from a fuzz run on the public API: wrong option types and values (checked once,
where the call enters headlab), head names that are not two whole numbers, text that is not
valid Unicode, missing paths, broken model files, user sieves that raise, and hostile files.
"""

import json
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import headlab as hl
from headlab.errors import CatalogError, HeadlabError, InputError, ModelLoadError

#: a message names a next step when it says what to do (an imperative) or shows a valid call ("e.g. ...")
NEXT_STEP = re.compile(r"\b(pass|use|give|run|install|load|choose|write|check|add|set|try|name|score|shorten|"
                       r"keep|fix|leave|reload|upgrade|download|save|re-run|call|convert|remove|decode|drop|"
                       r"read|open|make|start|raise|lower|split|select|move|rename|return|see|ablate|build|"
                       r"compare|refer|list|lists|look|count|edit|correct)\b|\be\.g\.", re.IGNORECASE)


def says_what_to_do(err: BaseException) -> str:
    msg = str(err)
    assert isinstance(err, HeadlabError), f"{type(err).__name__}: {msg}"
    assert NEXT_STEP.search(msg), f"no next step in: {msg}"
    assert len(msg) < 800, "messages stay short (no huge reprs)"
    return msg


TEXTS = ["The cat sat on the mat.", "A dog barked at the moon, loudly."]

BAD_OPTIONS = [
    ("batch_size", "2"), ("batch_size", 0), ("batch_size", 2.0), ("batch_size", True),
    ("alpha", "0.05"), ("alpha", 0.0), ("alpha", 1.5), ("alpha", float("nan")),
    ("min_effect", "big"), ("min_effect", float("nan")), ("min_effect", float("inf")),
    ("seed", -1), ("seed", 1.5), ("seed", "0"),
    ("n_boot", 10 ** 12), ("n_boot", 1), ("n_boot", "2000"),
    ("tau", float("nan")), ("method", "magic"), ("correction", "fdr_xx"), ("test", "z"),
    ("truncate", "yes"), ("block_entropy", 1),
]


@pytest.mark.parametrize("name,value", BAD_OPTIONS, ids=[f"{n}={v!r}" for n, v in BAD_OPTIONS])
def test_bad_options_of_m_roles(gpt2_tiny, name, value):
    with pytest.raises(InputError) as info:
        gpt2_tiny.roles(TEXTS, roles=["previous"], **{name: value})
    assert name in says_what_to_do(info.value)


BAD_DETECT = [("n", 1), ("n", "100"), ("min_effect", float("nan")), ("margin", float("nan")), ("seed", -1),
              ("alpha", "0.05"), ("batch_size", "2"), ("n_boot", 10 ** 12), ("repeats", 1), ("length", 0)]


@pytest.mark.parametrize("name,value", BAD_DETECT, ids=[f"{n}={v!r}" for n, v in BAD_DETECT])
def test_bad_options_of_m_detect(gpt2_tiny, name, value):
    with pytest.warns(DeprecationWarning) if name == "margin" else _no_warning():
        with pytest.raises(InputError) as info:
            gpt2_tiny.detect(roles=["previous_token"], **{name: value})
    says_what_to_do(info.value)


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("heads", [5, [(1.7, 0.9)], [(True, False)], "x", [], None, [(0, 9)], (1, 2, 3), "L9H9"])
def test_head_specs_that_are_not_two_whole_numbers_are_refused(gpt2_tiny, heads):
    with pytest.raises(InputError) as info:
        gpt2_tiny.ablate(heads, n=4, n_boot=10)
    says_what_to_do(info.value)


def test_a_float_or_bool_head_never_becomes_another_head(gpt2_tiny):
    from headlab.head_names import parse_head

    assert parse_head((1, 0), 3, 4) == (1, 0)
    for bad in [(1.0, 0), (np.float32(1), 0), (True, 0), (1, False)]:
        with pytest.raises(InputError):
            parse_head(bad, 3, 4)
    assert parse_head((np.int64(1), np.int32(2)), 3, 4) == (1, 2)


@pytest.mark.parametrize("text", ["abc \ud800", ("fine", "bad \udfff"), ["ok", "\ud800"]])
def test_text_that_is_not_valid_unicode(gpt2_tiny, text):
    with pytest.raises(InputError, match="not valid Unicode") as info:
        gpt2_tiny.attention(text)
    says_what_to_do(info.value)


@pytest.mark.parametrize("bad", [None, 42, "", b"run1"])
def test_report_load_of_a_non_path(bad):
    with pytest.raises(InputError) as info:
        hl.Report.load(bad)
    says_what_to_do(info.value)


@pytest.mark.parametrize("bad", [None, 42, ""])
def test_catalog_extend_of_a_non_path(bad):
    with pytest.raises(CatalogError) as info:
        hl.catalog.extend(bad)
    says_what_to_do(info.value)


# ----------------------------------------------------------------------------- files


@pytest.fixture
def saved_report(tmp_path):
    x = {"a": np.random.default_rng(0).normal(0.2, 1, (12, 2, 3))}
    rep = hl.Report.from_samples(x, method="lift", n_boot=20)
    return rep, rep.save(tmp_path / "run1")


def test_deeply_nested_report_json_is_refused(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputError, match="nest") as info:
        hl.Report.load(path)
    says_what_to_do(info.value)


def test_a_report_naming_layer_999_fails_on_load_not_later(saved_report):
    _, path = saved_report
    doc = json.loads(path.read_text())
    doc["table"]["layer"][0] = 999
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="layer 999") as info:
        hl.Report.load(path)
    says_what_to_do(info.value)


@pytest.mark.parametrize("edit", [
    lambda d: d.update(roles=[]), lambda d: d.update(shape=[12, 2]), lambda d: d.update(shape=[12, 2, True]),
    lambda d: d.update(columns="role"), lambda d: d["table"].update(role=["zzz"] * len(d["table"]["role"])),
    lambda d: d.update(sample_ids=["x"]), lambda d: d.update(provenance=[]), lambda d: d.update(version="1"),
    lambda d: d.update(samples_file="../../etc/passwd"),
])
def test_damaged_reports_are_refused_with_a_clear_error(saved_report, edit):
    _, path = saved_report
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError) as info:
        hl.Report.load(path)
    says_what_to_do(info.value)


def test_report_save_is_atomic_and_keeps_the_old_files_when_it_fails(saved_report, monkeypatch):
    rep, path = saved_report
    before = (path.read_bytes(), path.with_suffix(".npz").read_bytes())

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(OSError):
        rep.save(path)
    assert (path.read_bytes(), path.with_suffix(".npz").read_bytes()) == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["run1.json", "run1.npz"]


def test_corrupt_safetensors_and_pickle_only_weights_are_model_load_errors(tmp_path, bert_tokenizer):
    from tiny_models import build

    good = tmp_path / "good"
    build("gpt2").save_pretrained(good, safe_serialization=True)
    bert_tokenizer.save_pretrained(good)
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    for f in good.iterdir():
        (corrupt / f.name).write_bytes(f.read_bytes())
    (corrupt / "model.safetensors").write_bytes(b"\x00\x01not a safetensors file at all")
    with pytest.raises(ModelLoadError, match="damaged") as info:
        hl.load(corrupt)
    says_what_to_do(info.value)
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    for f in good.iterdir():
        if f.suffix != ".safetensors":
            (pickled / f.name).write_bytes(f.read_bytes())
    (pickled / "pytorch_model.bin").write_bytes(b"\x80\x04\x95not really loaded")      # never unpickled
    with pytest.raises(ModelLoadError, match="pickle") as info:
        hl.load(pickled)
    assert "safetensors" in says_what_to_do(info.value)


def test_a_user_sieve_that_raises_names_its_role(gpt2_tiny):
    def broken(sample):
        raise ZeroDivisionError("oops")

    hl.roles.register("broken_role", broken, replace=True)
    try:
        with pytest.raises(InputError, match="broken_role") as info:
            gpt2_tiny.roles(TEXTS, roles=["broken_role"], n_boot=10)
        assert isinstance(info.value.__cause__, ZeroDivisionError)
        says_what_to_do(info.value)
    finally:
        hl.roles.unregister("broken_role")


def test_an_unreachable_hub_is_noticed_by_one_short_probe(monkeypatch):
    """Without HF_HUB_OFFLINE, a hub name fails after one connection attempt, never after retries."""
    from headlab import loading

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")          # nothing listens on the discard port
    probes = []
    real = loading.hub_reachable
    monkeypatch.setattr(loading, "hub_reachable", lambda timeout=loading.HUB_PROBE_SECONDS: probes.append(timeout) or real(timeout))
    monkeypatch.setattr(loading, "pretrained", lambda *a, **k: pytest.fail("the hub must not be contacted"))
    with pytest.raises(ModelLoadError, match="cannot be reached") as info:
        hl.load("some-org/not-cached-anywhere")
    assert probes == [loading.HUB_PROBE_SECONDS] and loading.HUB_PROBE_SECONDS <= 5
    says_what_to_do(info.value)


# ----------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(value=st.one_of(st.text(max_size=5), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                       st.integers(min_value=-10 ** 15, max_value=-1), st.integers(min_value=10 ** 7),
                       st.lists(st.integers(), max_size=2), st.none()))
def test_n_boot_accepts_only_sensible_whole_numbers(value):
    x = {"a": np.zeros((4, 1, 1))}
    try:
        hl.Report.from_samples(x, method="lift", n_boot=value)
    except InputError as err:
        says_what_to_do(err)
    else:
        raise AssertionError(f"n_boot={value!r} was accepted")


@settings(max_examples=40, deadline=None)
@given(alpha=st.one_of(st.floats(), st.text(max_size=4), st.booleans(), st.none()))
def test_alpha_outside_the_open_unit_interval_is_refused(alpha):
    x = {"a": np.zeros((4, 1, 1))}
    good = isinstance(alpha, float) and not isinstance(alpha, bool) and math.isfinite(alpha) and 0 < alpha < 1
    try:
        hl.Report.from_samples(x, method="lift", alpha=alpha, n_boot=10)
    except InputError as err:
        assert not good
        says_what_to_do(err)
    else:
        assert good
