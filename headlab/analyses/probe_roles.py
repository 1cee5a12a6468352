"""``m.detect``: probe roles scored per probe, tested across probes -> ``hl.Report``.

One forward pass over Olsson-style repeated random tokens (``[BOS] r_1..r_25`` x 4) gives the
previous-token, duplicate-token, induction and sink scores of every head (and the copying
score, from head outputs at the queries after the first run); the retrieval score
comes from greedy decoding on needle-in-a-haystack probes (``headlab.analyses.probe_passes``).
Each probe gives one score per head, so the probe is the statistical unit; the report tests
every head across probes, with bootstrap CIs and FDR over all heads x roles (``headlab.stats``).

Nulls (H0 for ``alternative="greater"``; the report's ``null`` column; each role's spec in
``headlab.roles.probe_specs`` says which applies):

=================  =====================================================================
role               the score is "significant" when its mean exceeds
=================  =====================================================================
previous_token     uniform share + ``min_effect``: the attention uniform causal attention
duplicate_token    would put on the same targets in the same probe (``1/(i+1)`` per target
induction          for query ``i``; paired and length-aware, computed per probe), plus a
                   minimum effect ``min_effect`` (default 0.1: ten percentage points more
                   attention on the targets than chance). ``min_effect=0`` tests bare
                   "more than uniform", which tiny consistent preferences pass at large n.
sink               0.3 - Gu et al.'s epsilon: alpha_0 > 0.3 flags a sink head.
retrieval          0.1 - Wu et al.'s threshold (trials whose greedy answer recalls <= 50 % of
                   the needle are left out as NaN, as Wu et al. only accumulate the others).
copying            0 - Olsson et al.'s rescaled copying score is in [-1, 1]; > 0 means more
                   than half of the positive direct-logit mass goes to the attended token.
                   Olsson et al. compute it on 25 random tokens; headlab scores the queries
                   after the first run of the same probe, because on unrepeated tokens a head
                   whose attention depends on a match (induction) attends diffusely and "the
                   attended token" (the argmax key, BOS excluded) is arbitrary.
=================  =====================================================================

The table's ``score`` is the raw mean score; the uniform baselines are in
``report.provenance["parameters"]["baseline"]``. When probes differ in structure (so the
baseline differs per probe) the tested value is ``score - baseline`` per probe and
``parameters["excess"]`` says so.
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np

from headlab import probes as P
from headlab import validate as V
from headlab.analyses import ablate, head_hooks
from headlab.analyses.probe_passes import REPEATED_ROLES, score_repeated, score_retrieval
from headlab.errors import InputError, UnsupportedModelError
from headlab.head_names import head_label
from headlab.report import Report
from headlab.roles import resolve
from headlab.roles.probe_specs import DEFAULT_N, SPECS
from headlab.stats import CORRECTIONS, TESTS

__all__ = ["detect", "DEFAULT_N"]


def _roles(m, roles) -> tuple[list[str], list[str]]:
    """The probe roles to run on ``m`` and the defaults skipped because they cannot apply."""
    chosen = resolve(roles, "probe")
    skipped, out = [], []
    for r in chosen:
        spec = SPECS[r.id]
        if spec.causal_only and not m.is_causal:
            if roles is not None:
                raise UnsupportedModelError(
                    f"The {r.id!r} probe is defined for causal (GPT-style) models: it relies on queries "
                    f"seeing only earlier tokens{' and on next-token logits' if spec.needs_lm_head else ''}, "
                    f"and {m.name!r} is an encoder. On encoders run previous_token, duplicate_token or "
                    "sink (m.detect(roles=['previous_token', 'duplicate_token', 'sink'])) or the "
                    "natural-text roles (m.roles(texts))."
                )
            skipped.append(r.id)
            continue
        if spec.needs_lm_head and not head_hooks.has_lm_head(m):
            if roles is not None:
                head_hooks.unembedding(m)                # raises with what to do
            skipped.append(r.id)
            continue
        out.append(r.id)
    if skipped:
        warnings.warn(f"Skipped probe roles that do not apply to {m.name!r} (causal-only roles on an encoder, "
                      f"or roles that need the LM head): {', '.join(skipped)}.", stacklevel=3)
    if not out:
        raise InputError("None of the requested probe roles applies to this model; see hl.roles.names('probe') "
                         "and each role's requirements in docs/detectors.md.")
    return out, skipped


def _sample_ids(probes: P.ProbeSet) -> list[str]:
    return [f"{probes.kind}:{hashlib.sha1(np.ascontiguousarray(row).tobytes()).hexdigest()[:12]}"
            for row in probes.input_ids]


def detect(m, roles=None, n: int | None = None, seed: int = 0, *, length: int | None = None,
           repeats: int = 4, haystack: int | None = None, needle: int = 6, exclude_bos: bool = False,
           exclude_current_token: bool = False, min_effect: float = 0.1, test: str = "t",
           alpha: float = 0.05, correction: str = "fdr_bh", n_boot: int = 2000,
           batch_size: int = 16, progress: bool = False, confirm: bool = False,
           confirm_mode: str = "mean", confirm_n: int | None = None, margin: float | None = None):
    """Detect probe roles of every head; returns an ``hl.Report`` (``method="probe"``).

    Args:
        m: a ``HeadModel``.
        roles: probe role ids (``previous_token``, ``duplicate_token``, ``induction``, ``sink``,
            ``retrieval``, ``copying``) or None for all that apply (causal-only roles are skipped
            on encoders with a warning; naming one on an encoder raises ``UnsupportedModelError``).
        n: probes per probe kind (default ``DEFAULT_N`` = 100); seed: their seed.
        length, repeats: the repeated-token probe (default 25 tokens x 4, Olsson et al.). A
            default length that does not fit the model's positions is shortened to fit (see
            ``parameters["probe"]["fitted"]``); a length you name is refused with ``TooLongError``.
        haystack, needle: the needle probe (default 40-token haystack, 6-token needle; the
            haystack is fitted or refused likewise).
        exclude_bos, exclude_current_token: drop key 0 / the diagonal from each row and
            renormalise before the share scores (TransformerLens' options, done row-wise).
        min_effect: how far above the uniform share an attention-share role must be (module
            docstring); the same idea as ``m.roles(min_effect=...)``. ``margin`` is its former
            name and is still accepted.
        test, alpha, correction, n_boot: passed to ``Report.from_samples``.
        confirm: ablate every significant head (``confirm_mode`` ablation) and add the causal
            columns (``headlab.analyses.ablate.confirm``).

    Returns:
        ``hl.Report`` with one score per probe, layer and head for each role; NaN rows for the
        probes a role is not scored on (retrieval uses the needle probes, the other roles the
        repeated probes).
    """
    if margin is not None:
        warnings.warn("detect(margin=...) is now called min_effect=..., as in m.roles.", DeprecationWarning,
                      stacklevel=2)
        min_effect = margin
    n = V.integer("n", DEFAULT_N if n is None else n, min=2, max=100_000, example=DEFAULT_N)
    seed = V.seed(seed)
    min_effect = V.number("min_effect", min_effect, lo=0.0, hi=1.0, example=0.1)
    alpha = V.number("alpha", alpha, lo=0.0, hi=1.0, lo_open=True, hi_open=True, example=0.05)
    batch_size = V.integer("batch_size", batch_size, min=1, max=4096, example=16)
    repeats = V.integer("repeats", repeats, min=2, max=100_000, example=4)
    needle = V.integer("needle", needle, min=1, max=4096, example=6)
    for name, value in (("length", length), ("haystack", haystack)):
        if value is not None:
            V.integer(name, value, min=1, max=10_000_000)
    for name, value in (("exclude_bos", exclude_bos), ("exclude_current_token", exclude_current_token),
                        ("progress", progress), ("confirm", confirm)):
        V.flag(name, value)
    V.choice("test", test, TESTS)
    V.choice("correction", correction, CORRECTIONS)
    role_ids, skipped = _roles(m, roles)
    params: dict = {"n": n, "seed": seed, "min_effect": min_effect, "exclude_bos": exclude_bos,
                    "exclude_current_token": exclude_current_token, "skipped": skipped,
                    "baseline": {}, "excess": {}, "nulls": {}}
    nulls: dict[str, float] = {}
    sample_ids: list[str] = []
    blocks: list[tuple[int, dict]] = []           # (rows, {role: [rows, L, H]})

    rep_roles = [r for r in role_ids if r in REPEATED_ROLES]
    if rep_roles:
        probes = P.repeated_tokens(m, n=n, length=25 if length is None else length, repeats=repeats,
                                   seed=seed, fit=length is None)
        params["probe"] = {"kind": "repeated", **probes.params, "T": probes.length, "bos": probes.has_bos}
        scores, baselines = score_repeated(m, probes, rep_roles, exclude_bos=exclude_bos,
                                           exclude_current_token=exclude_current_token,
                                           batch_size=batch_size, progress=progress)
        for r in rep_roles:
            if SPECS[r].share:
                b = baselines[r]
                params["baseline"][r] = float(np.nanmean(b))
                if np.nanmax(b) - np.nanmin(b) < 1e-9:          # same structure in every probe
                    nulls[r] = float(b[0]) + min_effect
                    params["excess"][r] = False
                else:                                          # per-probe paired baseline
                    scores[r] = scores[r] - b[:, None, None]
                    nulls[r] = min_effect
                    params["excess"][r] = True
            else:
                nulls[r] = float(SPECS[r].null)
        blocks.append((len(probes), scores))
        sample_ids += _sample_ids(probes)

    if "retrieval" in role_ids:
        needles = P.needle_haystack(m, n=n, haystack=40 if haystack is None else haystack, needle=needle,
                                    seed=seed, fit=haystack is None)
        params["needle_probe"] = {"kind": "needle", **needles.params, "T": needles.length, "bos": needles.has_bos}
        sc, recall, _ = score_retrieval(m, needles, batch_size=batch_size)
        params["retrieval_recall"] = float(recall.mean())
        params["retrieval_trials_kept"] = int((recall > 0.5).sum())
        nulls["retrieval"] = float(SPECS["retrieval"].null)
        blocks.append((len(needles), {"retrieval": sc}))
        sample_ids += _sample_ids(needles)

    N = sum(rows for rows, _ in blocks)
    L, H = m.n_layers, m.n_heads
    samples = {r: np.full((N, L, H), np.nan) for r in role_ids}
    row = 0
    for rows, block in blocks:
        for r, arr in block.items():
            samples[r][row:row + rows] = arr
        row += rows
    params["nulls"] = dict(nulls)
    for r in role_ids:
        if np.all(np.isnan(samples[r])):
            warnings.warn(f"No probe could be scored for {r!r} (e.g. no retrieval trial recalled more than half "
                          "of the needle); its rows have no p-value. Try more probes (n=...) or a shorter "
                          "haystack.", stacklevel=2)
    rep = Report.from_samples(samples, method="probe", null=nulls, alternative="greater", test=test,
                              alpha=alpha, correction=correction, n_boot=n_boot, seed=seed,
                              model_name=m.name, sample_ids=sample_ids, params=params,
                              # a head that copies every needle token in every trial (retrieval = 1)
                              # or attends with saturated softmax has zero variance across probes
                              zero_variance="sign")
    t = rep.table
    constant = (t["n"] >= 2) & (t["sd"] == 0)
    rep.provenance["parameters"]["sign_test_rows"] = [
        f"{r}:{head_label(layer, head)}"
        for r, layer, head in t.loc[constant, ["role", "layer", "head"]].itertuples(index=False)]
    if confirm:
        ablate.confirm(m, rep, mode=confirm_mode, n=confirm_n, seed=seed, batch_size=batch_size)
    return rep
