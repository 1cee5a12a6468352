"""Probe roles: one spec per role says what it is scored on, what it is tested against, and
what the model needs. ``m.detect`` and ``m.ablate`` both read these specs (docs/methods.md#methods-probe-roles).

``null`` is the role's H0 for a one-sided test of "the mean score is greater":

* ``"uniform+min_effect"`` - the share uniform causal attention would put on the same targets
  in the same probe, plus ``min_effect`` (default 0.1), for attention-share roles;
* a number - a fixed threshold from the literature (sink 0.3, retrieval 0.1, copying 0).
"""

from __future__ import annotations

from dataclasses import dataclass

from headlab.errors import InputError
from headlab.roles import Role, get, register

OLSSON = "Olsson et al. 2022, In-context Learning and Induction Heads (transformer-circuits.pub)"
TL = "TransformerLens head_detector.py (Nanda et al.)"
GU = "Gu et al. 2024, When Attention Sink Emerges in Language Models, arXiv 2410.10781"
WU = "Wu et al. 2024, Retrieval Head Mechanistically Explains Long-Context Factuality, arXiv 2404.15574"

#: default number of probes for ``m.detect`` and ``m.ablate``
DEFAULT_N = 100


@dataclass(frozen=True)
class ProbeSpec:
    """How one probe role is measured and tested.

    Attributes:
        role: the registered ``Role`` (id, description, citation, requirements).
        probe: ``"repeated"`` (Olsson et al.'s repeated random tokens) or ``"needle"``
            (needle in a haystack, scored while decoding greedily).
        null: ``"uniform+min_effect"`` or a fixed threshold (see module docstring).
        needs_lm_head: whether the score reads next-token logits (copying, retrieval).
        share: whether the score is an attention share on per-query targets (so it has a
            uniform-attention baseline).
    """

    role: Role
    probe: str
    null: str | float
    needs_lm_head: bool = False
    share: bool = False

    @property
    def id(self) -> str:
        return self.role.id

    @property
    def causal_only(self) -> bool:
        return "causal" in self.role.requires


def _spec(rid, description, citation, probe, null, *, causal=False, needs_lm_head=False, share=False):
    role = Role(rid, "probe", description, requires=frozenset({"causal"} if causal else ()),
                citation=citation, default=True)
    return ProbeSpec(role, probe, null, needs_lm_head, share)


SPECS: dict[str, ProbeSpec] = {s.id: s for s in [
    _spec("previous_token", "attends to the previous token (A[i, i-1]) on random tokens",
          f"{OLSSON}; {TL}", "repeated", "uniform+min_effect", share=True),
    _spec("duplicate_token", "attends to earlier copies of the current token on repeated random tokens",
          f"{TL}; Wang et al. 2022 (IOI), arXiv 2211.00593", "repeated", "uniform+min_effect", share=True),
    _spec("induction", "prefix matching: attends to the token after an earlier copy of the current token",
          OLSSON, "repeated", "uniform+min_effect", causal=True, share=True),
    _spec("sink", "attention received by the first token, alpha_0 > 0.3", GU, "repeated", 0.3),
    _spec("retrieval", "copy-pastes needle tokens during greedy decoding (needle in a haystack), score > 0.1",
          WU, "needle", 0.1, causal=True, needs_lm_head=True),
    _spec("copying", "direct logit contribution raises the attended token (Olsson et al.'s copying score > 0)",
          OLSSON, "repeated", 0.0, causal=True, needs_lm_head=True),
]}

for _s in SPECS.values():
    register(_s.role, replace=True)


def spec(role_id: str) -> ProbeSpec:
    """The spec of a probe role (``UnknownRoleError`` with suggestions for other ids)."""
    role = get(role_id)
    if role.id not in SPECS:
        raise InputError(f"{role_id!r} is a natural-text role, not a probe role; score it with m.roles(texts, "
                         f"roles=[{role_id!r}]). Probe roles: {', '.join(SPECS)}.")
    return SPECS[role.id]
