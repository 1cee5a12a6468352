"""``hl.compare``: paired per-sample comparison of two reports on the same samples."""

from __future__ import annotations

import numpy as np

from headlab.errors import InputError
from headlab.report.report import Report


def compare(
    a: Report,
    b: Report,
    *,
    test: str = "t",
    alternative: str = "two-sided",
    correction: str = "fdr_bh",
    alpha: float | None = None,
    seed: int = 0,
    n_boot: int | None = None,
    ci_method: str = "percentile",
) -> Report:
    """Paired per-sample comparison of two reports on the same samples (docs/methods.md#methods-compare).

    For each role in both reports, ``d = b.samples(role) - a.samples(role)`` ``[N, L, H]``
    (the change from ``a`` to ``b``, e.g. base -> fine-tuned) is tested against 0 across
    samples with :func:`headlab.stats.one_sample` (two-sided by default), with a bootstrap
    CI of the mean difference and the correction over all heads x shared roles.

    Samples are paired by ``sample_ids`` when both reports have them (``b`` is reordered to
    ``a``'s order if needed); otherwise by position, which needs equal N.

    Args:
        a, b: reports with the same (L, H) and the same samples.
        test, alternative, correction, seed: as in :meth:`Report.from_samples`.
        alpha: default ``a.alpha``.
        n_boot, ci_method: bootstrap settings (default: ``a``'s).

    Returns:
        :class:`Report` with method ``"compare"``; ``score`` is the mean difference b - a, and
        ``provenance["compared"]`` describes both inputs.

    Raises:
        InputError: different samples, different shapes, different scoring methods (a lift
            minus a sieve bias means nothing), or no shared role.
    """
    if not isinstance(a, Report) or not isinstance(b, Report):
        raise InputError("compare() takes two headlab Reports, e.g. hl.compare(rep_base, rep_finetuned).")
    if (a.n_layers, a.n_heads) != (b.n_layers, b.n_heads):
        raise InputError(
            f"The reports cover different heads: {a.n_layers}x{a.n_heads} against {b.n_layers}x{b.n_heads}. "
            "Compare two checkpoints of the same architecture."
        )
    if a.method != b.method:
        raise InputError(
            f"The reports were scored with different methods ({a.method!r} and {b.method!r}); their "
            "differences mean nothing. Score both models with the same method, e.g. m.roles(texts, method='lift')."
        )
    shared = [r for r in a.roles if r in b.roles]
    if not shared:
        raise InputError(
            f"The reports share no role ({a.roles} against {b.roles}); score the same roles on both models."
        )
    order = _pairing(a, b)
    diffs = {}
    for r in shared:
        xa = np.asarray(a.samples(r), dtype=np.float64)
        xb = np.asarray(b.samples(r), dtype=np.float64)[order]
        diffs[r] = xb - xa  # NaN where either does not apply
    if alpha is None:
        alpha = a.alpha
    pa = a.provenance
    if n_boot is None:
        n_boot = int((pa.get("ci") or {}).get("n_boot", 2000))

    def describe(rep: Report) -> dict:
        p = rep.provenance
        return {"model": rep.model_name, "method": rep.method, "test": p.get("test"),
                "null": p.get("null"), "created": p.get("created"), "n_samples": rep.n_samples,
                "headlab_version": p.get("headlab_version"), "parameters": p.get("parameters")}

    name = a.model_name if a.model_name == b.model_name else f"{a.model_name or 'a'} -> {b.model_name or 'b'}"
    out = Report.from_samples(
        diffs, method="compare", null=0.0, alternative=alternative, test=test, alpha=alpha,
        correction=correction, n_boot=n_boot, ci_method=ci_method, seed=seed, model_name=name,
        sample_ids=a.sample_ids, params={"a": describe(a), "b": describe(b), "difference": "b - a"},
        catalog=False,
    )
    out.provenance["compared"] = {"a": describe(a), "b": describe(b), "difference": "b - a",
                                  "roles": shared, "paired_by": "sample_ids" if a.sample_ids and b.sample_ids else "position"}
    return out


def _pairing(a: Report, b: Report) -> np.ndarray:
    """Row order of ``b`` that pairs each of ``a``'s samples with the same sample of ``b``."""
    if a.sample_ids is not None and b.sample_ids is not None:
        if a.sample_ids == b.sample_ids:
            return np.arange(b.n_samples)
        pos = {s: i for i, s in enumerate(b.sample_ids)}
        unique = len(pos) == len(b.sample_ids) and len(set(a.sample_ids)) == len(a.sample_ids)
        if unique and set(a.sample_ids) == set(pos):
            return np.array([pos[s] for s in a.sample_ids])
        only_a = len(set(a.sample_ids) - set(b.sample_ids))
        only_b = len(set(b.sample_ids) - set(a.sample_ids))
        raise InputError(
            f"The reports were computed on different samples ({only_a} ids only in a, {only_b} only in b"
            f"{', or repeated ids' if not unique else ''}). Score both models on the same texts to compare them."
        )
    if a.n_samples != b.n_samples:
        raise InputError(
            f"The reports have {a.n_samples} and {b.n_samples} samples and no sample ids to pair them; "
            "score both models on the same texts (in the same order) to compare them."
        )
    return np.arange(b.n_samples)
