"""``headlab scan`` says which roles it skipped or could not test, and why, in its summary."""

from __future__ import annotations

import numpy as np
import pytest

import headlab as hl
from headlab import cli
from headlab import roles as registry


def _report(roles, n_samples=10, untestable=()):
    rng = np.random.default_rng(0)
    samples = {}
    for r in roles:
        x = rng.normal(0.2, 0.05, size=(n_samples, 2, 3))
        if r in untestable:
            x[1:] = np.nan                          # applies to one text only
        samples[r] = x
    return hl.Report.from_samples(samples, method="lift", null=0.1, n_boot=20, catalog=False, model_name="m")


def _never():
    pytest.fail("spaCy was checked although no syntactic role is missing")


def test_reasons_for_an_encoder_without_pairs():
    wanted = registry.resolve(["local", "bos", "block", "cls"], "text")
    rep = _report(["local", "cls"])
    skipped = cli.skipped_roles(wanted, rep, model_name="mini", is_causal=False, spacy_ready=_never)
    assert [s["role"] for s in skipped] == ["bos", "block"]
    reasons = {s["role"]: s["reason"] for s in skipped}
    assert reasons["bos"] == "for causal (GPT-style) models only, and mini is an encoder"
    assert "give --pairs, or texts with several sentences" in reasons["block"]


def test_reasons_for_a_causal_model_and_missing_spacy():
    wanted = registry.resolve(["local", "next", "syn:nsubj", "syn:obj:rev"], "text")
    skipped = cli.skipped_roles(wanted, _report(["local"]), model_name="gpt", is_causal=True,
                                spacy_ready=lambda: False)
    reasons = {s["role"]: s["reason"] for s in skipped}
    assert reasons["next"] == "for encoders (BERT-style) only, and gpt is causal"
    spacy = "needs spaCy and its English model: pip install 'headlab[syntax]'"
    assert reasons["syn:nsubj"] == reasons["syn:obj:rev"] == spacy
    with_spacy = cli.skipped_roles(wanted, _report(["local"]), model_name="gpt", is_causal=True,
                                   spacy_ready=lambda: True)
    assert {s["role"]: s["reason"] for s in with_spacy}["syn:nsubj"] == ("applies to none of the texts; add texts with "
                                                                         "this dependency relation")


def test_roles_on_one_text_are_reported_as_untested():
    wanted = registry.resolve(["local", "block"], "text")
    rep = _report(["local", "block"], untestable=("block",))
    skipped = cli.skipped_roles(wanted, rep, model_name="m", is_causal=False, spacy_ready=_never)
    assert skipped == [{"role": "block", "reason": "applies to 1 of the texts, too few to test (its rows show n/a); "
                                                    "give --pairs, or texts with several sentences"}]


def test_summary_groups_syntactic_roles_and_aligns():
    rep = _report(["local"])
    skipped = [{"role": "bos", "reason": "for causal only"}] + [
        {"role": r, "reason": "needs spaCy"} for r in registry.names("text") if r.startswith("syn:")]
    lines = cli.summary_lines(rep, (), skipped)
    i = lines.index("skipped or untested roles:")
    assert lines[i + 1:] == ["  bos               for causal only", "  syn:* (16 roles)  needs spaCy"]
    assert "skipped" not in "\n".join(cli.summary_lines(rep))


def test_summary_of_an_untestable_strongest_head_shows_n():
    rep = _report(["local"], n_samples=1)
    line = cli.summary_lines(rep)[1]
    assert line.endswith("[n/a (n = 1)]") and "nan" not in line


def test_probe_skips_come_from_the_probe_report():
    probe = _report(["previous_token"])
    probe.provenance["parameters"]["skipped"] = ["copying"]
    assert cli._probe_skips(probe) == [{"role": "copying", "reason": "needs the model's LM head (next-token output), "
                                                                     "which this model lacks"}]


class _FakeModel:
    """m.attention for example_attention: the number of tokens is the number of words + 2."""

    def __init__(self, max_length=512):
        self.max_length = max_length
        self.calls = []

    def attention(self, text, truncate=False):
        from headlab.errors import TooLongError

        self.calls.append((text, truncate))
        n = len(" ".join(text if isinstance(text, tuple) else (text,)).split()) + 2
        if n > self.max_length and not truncate:
            raise TooLongError("too long")
        return type("Att", (), {"tokens": ["t"] * min(n, self.max_length), "text": text})()


def test_example_is_the_first_text_when_short():
    m = _FakeModel()
    assert cli.example_attention(m, ["a short text", "another"]).text == "a short text"
    pair = ("one side", "other side")
    assert cli.example_attention(m, [pair]).text == pair


def test_long_or_refused_first_texts_fall_back_to_the_built_in_sentence():
    first = hl.corpus.sentences(1)[0]
    m = _FakeModel()
    assert cli.example_attention(m, ["word " * 80]).text == first
    assert cli.example_attention(m, None).text == first
    tiny = _FakeModel(max_length=10)                      # even the built-in sentence is cut to fit
    att = cli.example_attention(tiny, ["word " * 30])
    assert att.text == first and tiny.calls[-1] == (first, True)
