"""Probe roles, scored by ``m.detect`` on generated probe data (see ``headlab.detect``)."""

from headlab.roles import Role, register

OLSSON = "Olsson et al. 2022, In-context Learning and Induction Heads (transformer-circuits.pub)"
TL = "TransformerLens head_detector.py (Nanda et al.)"
GU = "Gu et al. 2024, When Attention Sink Emerges in Language Models, arXiv 2410.10781"
WU = "Wu et al. 2024, Retrieval Head Mechanistically Explains Long-Context Factuality, arXiv 2404.15574"

PROBE_ROLES = [
    Role("previous_token", "probe", "attends to the previous token (A[i, i-1]) on random tokens",
         requires=frozenset(), citation=f"{OLSSON}; {TL}", default=True),
    Role("duplicate_token", "probe", "attends to earlier copies of the current token on repeated random tokens",
         requires=frozenset(), citation=f"{TL}; Wang et al. 2022 (IOI), arXiv 2211.00593", default=True),
    Role("induction", "probe", "prefix matching: attends to the token after an earlier copy of the current token",
         requires=frozenset({"causal"}), citation=OLSSON, default=True),
    Role("sink", "probe", "attention received by the first token, alpha_0 > 0.3",
         requires=frozenset(), citation=GU, default=True),
    Role("retrieval", "probe", "copy-pastes needle tokens during greedy decoding (needle in a haystack), score > 0.1",
         requires=frozenset({"causal"}), citation=WU, default=True),
    Role("copying", "probe", "direct logit contribution raises the attended token (Olsson et al.'s copying score > 0)",
         requires=frozenset({"causal"}), citation=OLSSON, default=True),
]

for _role in PROBE_ROLES:
    register(_role, replace=True)
