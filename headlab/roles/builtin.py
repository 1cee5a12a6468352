"""Built-in roles, registered on import: the natural-text sieves here, the probe roles in probe_specs."""

from headlab.roles import Role, register
from headlab.roles import probe_specs  # noqa: F401  (registers the probe roles)
from headlab.roles import sieves as s
from headlab.roles import syntax

PANDE = "Pande et al. 2021, The Heads Hypothesis (AAAI), arXiv 2101.09115"
CLARK = "Clark et al. 2019, What Does BERT Look At? (BlackboxNLP), arXiv 1906.04341"

_TEXT_ROLES = [
    ("local", s.local, "keys within ±2 positions, itself included", (), PANDE),
    ("previous", s.offset(-1), "the previous token", (), CLARK),
    ("next", s.offset(+1), "the next token", ("encoder",), CLARK),
    ("self", s.offset(0), "the token itself", (), CLARK),
    ("delimiter", s.delimiter, "special tokens ([CLS] and [SEP])", ("encoder",), PANDE),
    ("cls", s.cls, "the [CLS] token", ("encoder",), PANDE),
    ("sep", s.sep, "the [SEP] tokens", ("encoder",), PANDE),
    ("bos", s.bos, "the first token (attention sink)", ("causal",),
     "Xiao et al. 2023 (StreamingLLM), arXiv 2309.17453; Gu et al. 2024, arXiv 2410.10781"),
    ("block", s.block, "tokens of the same segment or sentence", (), PANDE),
    ("punctuation", s.punctuation, "punctuation tokens", (), CLARK),
]

for rid, fn, desc, req, cite in _TEXT_ROLES:
    register(Role(rid, "text", desc, fn, frozenset(req), cite, True))

for rel in syntax.RELATIONS:
    for reverse in (False, True):
        rid = f"syn:{rel}" + (":rev" if reverse else "")
        what = "all listed relations" if rel == "all" else rel
        desc = (f"its syntactic head word ({what})" if not reverse
                else f"its syntactic dependent words ({what})")
        register(Role(rid, "text", desc, syntax.relation_sieve(rel, reverse),
                      frozenset({"spacy"}), f"{PANDE}; {CLARK}", True))
