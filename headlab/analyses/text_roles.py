"""``m.roles(...)``: natural-text role scores per sample, tested across samples.

The engine streams: the model hands over each layer's attention a chunk of query rows at a
time (``headlab.capture``), ``BatchRoles`` (``headlab.analyses.role_scoring``) turns each chunk
into contributions to the per-sample scores of every role, and the rows are dropped. Memory
holds one chunk of rows and one batch's structured sieves, never a layer's ``[H, T, T]`` for all
rows or a ``[T, T]`` sieve per role.
"""

from __future__ import annotations

import hashlib
import json
import warnings

import numpy as np

from headlab import corpus
from headlab import validate as V
from headlab.errors import InputError, MissingExtraError, NoApplicableRoleError
from headlab.report import Report
from headlab.analyses.role_scoring import METHODS, BatchRoles
from headlab.roles import Role, resolve
from headlab.roles import syntax
from headlab.text import LazySamples
from headlab.stats import CORRECTIONS, TESTS


def sample_id(text) -> str:
    """A stable id for a text or pair (used to pair samples across reports)."""
    return hashlib.sha1(json.dumps(text, ensure_ascii=False).encode()).hexdigest()[:16]


def _select_roles(m, roles) -> list[Role]:
    chosen = resolve(roles, "text")
    explicit = roles is not None
    out = []
    for role in chosen:
        if "causal" in role.requires and not m.is_causal:
            if explicit:
                raise InputError(f"Role {role.id!r} is defined for causal models only; {m.name} is an encoder. "
                                 "Leave it out, or use it with a causal model.")
            continue
        if "encoder" in role.requires and m.is_causal:
            if explicit:
                raise InputError(f"Role {role.id!r} needs a bidirectional encoder; {m.name} is causal. "
                                 "Leave it out, or use it with an encoder.")
            continue
        if "spacy" in role.requires:
            try:
                syntax.nlp()
            except MissingExtraError:
                if explicit:
                    raise
                warnings.warn("spaCy is not installed: syntactic roles skipped (pip install 'headlab[syntax]').",
                              stacklevel=3)
                continue
        out.append(role)
    if not out:
        raise InputError("None of the requested roles applies to this model; see hl.roles.names('text') and choose "
                         "roles for its kind (encoder or causal).")
    return out


def role_samples(m, texts=None, roles=None, *, method: str = "lift", block_entropy: bool = True,
                 batch_size: int = 16, truncate: bool = False, progress: bool = False):
    """Per-sample scores without statistics: ``({role id: float32 [N, L, H]}, samples)``.

    ``samples`` is a ``LazySamples`` over the texts (``samples.texts``: the checked inputs).

    NaN marks samples to which a role does not apply (no sieve). ``method`` picks the
    per-sample score: ``"lift"`` (``sieve_lift``) or ``"pande"`` (``sieve_bias``).
    """
    V.choice("method", method, METHODS)
    V.flag("block_entropy", block_entropy)
    V.flag("truncate", truncate)
    V.flag("progress", progress)
    batch_size = V.integer("batch_size", batch_size, min=1, max=4096, example=16)
    if texts is None:
        texts = corpus.sentences() + corpus.pairs()
    chosen = _select_roles(m, roles)
    samples = LazySamples(m.tokenizer, texts, m.max_length, truncate)     # Samples made per batch

    N, L, H, R = len(samples), m.n_layers, m.n_heads, len(chosen)
    out = np.full((R, N, L, H), np.nan, dtype=np.float32)
    ids = [r.id for r in chosen]
    block_index = ids.index("block") if (method == "pande" and block_entropy and "block" in ids) else None
    parses = _Prefetcher(samples) if any("spacy" in r.requires for r in chosen) else None
    current: dict = {}

    def reducer(layer, rows, q0, batch):
        if current.get("batch") is not batch:
            # Sieves are built per batch, when its first rows arrive, and dropped with it:
            # memory holds one batch's sieves, never the whole corpus's.
            if parses is not None:
                parses.before(batch)
            current["batch"] = batch
            current["roles"] = BatchRoles(chosen, batch.samples, batch.lengths, batch.T, m.is_causal,
                                          method, block_index)
        scorer = current["roles"]
        scorer.add(rows, q0)
        if q0 + rows.shape[2] >= batch.T:                                # the layer's last rows
            out[:, batch.index, layer, :] = scorer.finish().transpose(2, 0, 1)

    m.stream(samples, reducer, batch_size=batch_size, progress=progress, desc="roles", prefix_keys=True)
    per_role = {role.id: out[r] for r, role in enumerate(chosen) if np.isfinite(out[r]).any()}
    if not per_role:
        raise NoApplicableRoleError(
            "No role applied to any of the texts (e.g. block needs pairs or several sentences). Choose roles that "
            "fit these texts (hl.roles.names('text')), or add texts they apply to."
        )
    return per_role, samples


def text_scorer(m, text, truncate: bool = False):
    """A scorer for the Explorer on one long text: ``role ids -> {role: float32 [L, H]}``.

    Each call streams the text through the model once (chunked capture, structured sieves) and
    keeps only the per-head scores, so it works at any length; roles that do not apply to the
    text are left out of the answer.
    """
    def score(role_ids):
        try:
            per_role, _ = role_samples(m, [text], list(role_ids), truncate=truncate)
        except NoApplicableRoleError:
            return {}
        return {r: arr[0] for r, arr in per_role.items()}

    return score


class _Prefetcher:
    """Parses the texts of the next batches in one ``nlp.pipe`` call before they are needed.

    The batches come in the order ``make_batches`` gives them (by length), so the look-ahead
    follows the same order; parses land in ``headlab.roles.syntax``'s bounded cache.
    """

    AHEAD = 256     # texts per look-ahead

    def __init__(self, samples: LazySamples):
        self.segments = [samples.texts[i] if isinstance(samples.texts[i], tuple) else (samples.texts[i],)
                         for i in samples.by_length()]
        self.seen = 0       # texts of the batches started so far
        self.done = 0       # texts parsed ahead so far

    def before(self, batch) -> None:
        start, self.seen = self.seen, self.seen + len(batch.samples)
        if self.seen <= self.done:
            return
        upto = max(self.seen, start + self.AHEAD)
        syntax.prefetch(seg for segs in self.segments[self.done:upto] for seg in segs)
        self.done = upto


#: below this many samples the t-test and bootstrap CIs are rough; m.roles says so
FEW_SAMPLES = 10


def _warn_small(per_role: dict[str, np.ndarray], n_samples: int) -> None:
    """Warn when the sample is too small to test: one text, few texts, or a role that applies
    to fewer than two of them (its rows then show "n/a (n = 1)")."""
    if n_samples == 1:
        warnings.warn("Only one text: a test across samples needs at least two, so every p-value, q-value "
                      "and CI is n/a (n = 1). Pass a list of texts, or leave texts out to use the built-in "
                      "corpus; for one text, hl.explore(m, text) shows per-head scores.", stacklevel=3)
        return
    if n_samples < FEW_SAMPLES:
        warnings.warn(f"Only {n_samples} texts: t-tests and bootstrap CIs across so few samples are rough. "
                      f"Use at least {FEW_SAMPLES} texts (the built-in corpus has 656).", stacklevel=3)
    untestable = [r for r, x in per_role.items() if int(np.any(np.isfinite(x), axis=(1, 2)).sum()) < 2]
    if untestable:
        warnings.warn(f"Roles that apply to fewer than two of the texts cannot be tested (their rows show n/a): "
                      f"{', '.join(untestable)}. Add texts they apply to (e.g. block needs pairs or several "
                      "sentences).", stacklevel=3)


def analyse(
    m,
    texts=None,
    roles=None,
    *,
    method: str = "lift",
    alpha: float = 0.05,
    correction: str | None = None,
    test: str | None = None,
    tau: float = 3.0,
    min_effect: float = 0.1,
    block_entropy: bool = True,
    batch_size: int = 16,
    truncate: bool = False,
    seed: int = 0,
    n_boot: int = 2000,
    progress: bool = False,
):
    """Score natural-text roles per sample and test them across samples.

    Args:
        texts: strings and/or ``(a, b)`` pairs; default: headlab's built-in corpus (all
            sentences and all pairs, ``hl.corpus``).
        roles: role ids (default: every built-in text role that applies to this model; the
            syntactic ones need the ``syntax`` extra).
        method:
            ``"lift"`` (default): per-sample length-free lift ``K`` (``hl.scores.sieve_lift``;
            0 = uniform attention, 1 = all attention on the sieve), one-sided one-sample
            t-test of ``H0: E[K] <= min_effect`` across samples (ddof=1), bootstrap percentile CI
            of the mean, Benjamini–Hochberg FDR over all heads × roles. The t-test is used
            because ``K`` is an average over many queries, bounded in [−1, 1], so its mean is
            close to normal at the sample sizes used here, and it is exact and vectorised;
            ``test="wilcoxon"`` or ``"signflip"`` are available. Calibration on null
            attention is checked by the test suite.
            ``"pande"``: Pande et al. (2021)'s procedure exactly, as in the authors' code:
            per-sentence sieve bias score ``B`` (``hl.scores.sieve_bias``; the block score
            times the row entropy when ``block_entropy``), one-sided one-sample t-test of
            mean ``> tau`` (τ = 3, ddof = 1), α = 0.05, **no** multiple-testing correction;
            ``score`` is the mean of ``B`` over sentences.
        min_effect: the lift a role must exceed (default 0.1: at least a tenth of the
            attention not expected on the sieve by chance moves onto it). With hundreds of
            samples almost every head beats uniform attention on some roles (Pande et al.
            saw ~98% of p-values at 0 or 1), so a meaningful effect, like their τ, is what
            separates roles; ``min_effect=0`` tests "more than uniform".
        tau: Pande's threshold on the sieve bias score (method "pande").
        correction: "fdr_bh" (default for lift), "fdr_by", "holm", "bonferroni", "none"
            (default for pande).
        test: "t" (default), "wilcoxon", "signflip".
    Returns:
        ``hl.Report`` with one row per (role, layer, head).
    """
    alpha = V.number("alpha", alpha, lo=0.0, hi=1.0, lo_open=True, hi_open=True, example=0.05)
    tau = V.number("tau", tau, lo=0.0, example=3.0)
    min_effect = V.number("min_effect", min_effect, lo=-1.0, hi=1.0, hi_open=True, example=0.1)
    seed = V.seed(seed)
    n_boot = V.integer("n_boot", n_boot, min=2, max=1_000_000, example=2000)
    if correction is not None:
        V.choice("correction", correction, CORRECTIONS)
    if test is not None:
        V.choice("test", test, TESTS)
    per_role, samples = role_samples(m, texts, roles, method=method, block_entropy=block_entropy,
                                     batch_size=batch_size, truncate=truncate, progress=progress)
    N = len(samples)
    _warn_small(per_role, N)
    if method == "pande":
        null, correction, test = tau, correction or "none", test or "t"
    else:
        null, correction, test = min_effect, correction or "fdr_bh", test or "t"
    params = {"roles": list(per_role), "tau": tau if method == "pande" else None,
              "min_effect": min_effect if method == "lift" else None,
              "block_entropy": block_entropy if method == "pande" else None,
              "truncate": truncate, "batch_size": batch_size, "n_texts": N,
              "n_pairs": sum(isinstance(t, tuple) for t in samples.texts)}
    return Report.from_samples(
        per_role, method=method, null=null, alternative="greater", test=test, alpha=alpha,
        correction=correction, n_boot=n_boot, seed=seed, model_name=m.name,
        sample_ids=[sample_id(t) for t in samples.texts], params=params,
    )
