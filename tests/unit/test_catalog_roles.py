"""The reviewed links from headlab roles to catalogue types (issue #15).

A link role -> type means: a head that passes the role's test shows the attention or OV pattern that
the type's papers find or confirm heads of that type by. Two consequences:

* a type defined by something the role cannot see (a task circuit, a learned gate, a fitted model of
  memory, a narrower set of tokens) gets no link;
* a variant that differs from a linked parent only by such a thing is not linked; the parent's link
  stands for it, and the variant's caveats say why.

This table is the whole mapping of the built-in catalogue. Changing a ``detector`` list in the data
files without changing this table (with a reason) fails the test, so edits stay deliberate.
"""

from __future__ import annotations

import pytest

import headlab.catalog as catalog
from headlab.catalog._store import FALLBACK_ROLE_IDS

SYNTACTIC_REASON = "attention along dependency arcs (one relation, one direction) is how Clark et al. find syntactic heads"

REVIEWED: dict[str, dict[str, str]] = {
    "local": {
        "local_context_head": "the ±2 window sieve is Pande et al.'s local test, which defines local(-context) heads",
    },
    "previous": {
        "previous_token_head": "attention to the token just before is the type's definition",
        "positional_head": "offset -1 is the commonest fixed offset in Voita et al.'s positional criterion",
    },
    "previous_token": {
        "previous_token_head": "A[i, i-1] on random tokens is TransformerLens' previous_token_head pattern",
        "positional_head": "the same offset -1, shown to hold whatever the content (random tokens)",
    },
    "next": {
        "positional_head": "offset +1 is the other offset Voita et al.'s positional heads use",
    },
    "self": {
        "diagonal_head": "attention to the token itself draws the diagonal that names the type",
        "positional_head": "offset 0 is a fixed offset; the catalogue files diagonal heads under positional",
    },
    "delimiter": {
        "delimiter_head": "[CLS] + [SEP] is Pande et al.'s delimiter sieve",
    },
    "cls": {
        "delimiter_head": "[CLS] is one of the delimiters Clark et al. and Pande et al. measure",
    },
    "sep": {
        "delimiter_head": "[SEP] is the delimiter Clark et al. found most attended (the no-op reading)",
    },
    "punctuation": {
        "delimiter_head": "Clark et al. count periods and commas with [CLS]/[SEP]; the definition names sentence-final punctuation",
    },
    "bos": {
        "active_dormant_head": "parking attention on the first (sink) token is the dormant phase of the type",
    },
    "sink": {
        "active_dormant_head": "attention mass on the first token is Guo et al.'s dormancy measure",
    },
    "block": {
        "block_head": "attention inside the query's own segment is Pande et al.'s block sieve",
    },
    **{
        f"syn:{rel}{rev}": {"syntactic_head": SYNTACTIC_REASON}
        for rel in ["nsubj", "obj", "amod", "advmod", "det", "prep", "pobj", "all"]
        for rev in ("", ":rev")
    },
    "duplicate_token": {
        "duplicate_token_head": "attention to earlier copies of the token is TransformerLens' duplicate pattern",
        "global_retrieval_head": "RazorAttention's echo score is this attention on repeated random tokens",
    },
    "induction": {
        "induction_head": "prefix matching on repeated random tokens is Olsson et al.'s induction criterion",
        "global_retrieval_head": "RazorAttention's induction score is this prefix matching; its heads are echo or induction heads",
    },
    "retrieval": {
        "retrieval_head": "the needle copy-paste score is Wu et al.'s retrieval score",
    },
    "copying": {
        "induction_head": "Olsson et al.'s OV copying score is the second half of the induction criterion",
        "name_mover_head": "Wang et al. confirm name movers by a positive OV copy score on names",
        "copy_head": "the type copies an earlier token into the prediction, which a positive copying score measures",
    },
}

# Links removed in the review, each with why; the test below keeps them out.
REMOVED: dict[tuple[str, str], str] = {
    ("punctuation", "interrogation_head"): "question marks and wh-words, unconfirmed; the sieve is all punctuation",
    ("punctuation", "apostrophe_head"): "apostrophes only; the sieve is all punctuation",
    ("sink", "streaming_head"): "sink plus recent window, decided by DuoAttention's learned gate",
    ("local", "streaming_head"): "as above: one half of the pattern is not the type",
    ("induction", "statistical_induction_head"): "bigram statistics need Markov-chain data; the probe cannot tell",
    ("induction", "cmr_like_head"): "needs the fit to the CMR model of episodic memory",
    ("copying", "backup_name_mover_head"): "a backup shows only when the name movers are ablated",
}


def test_the_role_list_is_the_agreed_one():
    """A new built-in role must be added to the table above (with its links, or none, on purpose)."""
    syntactic = [f"syn:{r}{rev}" for r in ["nsubj", "obj", "amod", "advmod", "det", "prep", "pobj", "all"]
                 for rev in ("", ":rev")]
    agreed = (["local", "previous", "next", "self", "delimiter", "cls", "sep", "bos", "block", "punctuation"]
              + syntactic + ["previous_token", "duplicate_token", "induction", "sink", "retrieval", "copying"])
    assert list(FALLBACK_ROLE_IDS) == agreed
    assert set(REVIEWED) == set(agreed)


@pytest.mark.parametrize("role", FALLBACK_ROLE_IDS)
def test_each_role_links_exactly_the_reviewed_types(role):
    assert sorted(catalog.types_for_role(role)) == sorted(REVIEWED[role])
    assert catalog.for_role(role) == catalog.types_for_role(role)


def test_every_detector_list_in_the_data_is_in_the_table():
    in_data = {(role, e.id) for e in catalog.entries() for role in e.detector}
    in_table = {(role, tid) for role, types in REVIEWED.items() for tid in types}
    assert in_data == in_table


def test_every_reason_is_one_line_and_every_type_exists():
    ids = {e.id for e in catalog.entries()}
    for role, types in REVIEWED.items():
        for tid, reason in types.items():
            assert tid in ids, (role, tid)
            assert 20 <= len(reason) <= 140 and "\n" not in reason, (role, tid)


def test_removed_links_stay_removed_and_say_why_in_the_entry():
    for (role, tid), _why in REMOVED.items():
        assert tid not in catalog.types_for_role(role), (role, tid)
        entry = catalog.get(tid)
        assert any("role" in caveat for caveat in entry.caveats), f"{tid} should tell users why no role links to it"


def test_variants_left_unlinked_keep_a_linked_parent():
    for tid in ("statistical_induction_head", "cmr_like_head", "backup_name_mover_head"):
        entry = catalog.get(tid)
        assert entry.detector == () and catalog.get(entry.parent).detector, tid


def test_every_type_with_a_role_has_an_automatic_score_or_says_how_it_is_found():
    for entry in catalog.entries():
        if entry.detector:
            assert entry.detection, entry.id


def test_roles_the_table_names_are_registered_when_the_registry_loads():
    roles = pytest.importorskip("headlab.roles")
    assert set(REVIEWED) <= set(roles.names())
