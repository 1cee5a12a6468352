"""Causal checks: ablate heads and measure the paired, per-probe effect on a metric.

``m.ablate(heads, probe="induction", mode="zero"|"mean", metric="loss", seed=0)`` runs the
same probes twice — clean and with the heads' outputs replaced at the input of the attention
output projection (``headlab.heads``) — and compares them probe by probe:

* ``metric="loss"``: mean next-token loss on the tokens the probe makes predictable — on
  repeated random tokens every token after the first run except the first token of the
  second run ("the repeated half"); on needle probes the needle answer, teacher-forced after
  the cue. Needs a causal LM head.
* ``metric=<role id>`` with ``target=(layer, head)``: that head's per-probe role score (e.g.
  ``metric="induction", target=(1, 3)`` measures how much ablating a previous-token head
  lowers an induction head's prefix matching: K-composition).

``mode="zero"`` sets the heads' outputs to 0; ``mode="mean"`` replaces them with their mean
output at the same position over the same probes (so position information survives and only
the probe-specific information is removed).

The result holds the per-probe change ``delta = ablated − clean``, its mean ``effect`` with a
bootstrap CI, and a paired two-sided test (``headlab.stats.paired``; t by default).
``confirm(m, report)`` ablates each significant head of a report, one at a time, and adds
``causal_*`` columns to its table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from headlab import probes as P
from headlab import stats
from headlab import validate as V
from headlab.analyses import head_hooks as HD
from headlab.analyses.probe_passes import score_repeated, score_retrieval
from headlab.errors import InputError, UnsupportedModelError
from headlab.head_names import head_label, parse_heads
from headlab.roles.probe_specs import DEFAULT_N, SPECS

__all__ = ["ablate", "AblationResult", "confirm", "probe_loss", "DEFAULT_N"]


def _names(heads) -> str:
    return " ".join(head_label(layer, head) for layer, head in heads)


@dataclass
class AblationResult:
    """Paired effect of ablating heads on a per-probe metric.

    Attributes:
        heads: ablated ``(layer, head)`` pairs; mode: ``"zero"`` or ``"mean"``.
        probe: probe kind (``"repeated"`` or ``"needle"``); metric: ``"loss"`` or a role id;
        target: the head(s) whose role score is the metric (role metrics only).
        clean, ablated, delta: float ``[N]`` per probe (``delta = ablated − clean``).
        effect: mean of ``delta``; ci_low, ci_high: bootstrap CI of it.
        p_value: paired test of ablated against clean (two-sided by default); statistic, test.
        n: probes with a defined delta.
    """

    heads: list
    mode: str
    probe: str
    metric: str
    clean: np.ndarray
    ablated: np.ndarray
    delta: np.ndarray
    effect: float
    ci_low: float
    ci_high: float
    p_value: float
    statistic: float
    n: int
    test: str
    alternative: str
    target: list | None = None
    params: dict = field(default_factory=dict)

    @property
    def table(self):
        """One-row pandas DataFrame of the result."""
        import pandas as pd

        return pd.DataFrame([{
            "heads": _names(self.heads),
            "mode": self.mode, "probe": self.probe, "metric": self.metric,
            "target": None if self.target is None else _names(self.target),
            "clean": float(np.nanmean(self.clean)), "ablated": float(np.nanmean(self.ablated)),
            "effect": self.effect, "ci_low": self.ci_low, "ci_high": self.ci_high,
            "p_value": self.p_value, "n": self.n, "test": self.test,
        }])

    def __repr__(self) -> str:
        return (f"AblationResult(heads=[{_names(self.heads)}], mode={self.mode!r}, metric={self.metric!r}, "
                f"effect={self.effect:+.4g} [{self.ci_low:+.4g}, {self.ci_high:+.4g}], p={self.p_value:.3g}, n={self.n})")


# ----------------------------------------------------------------------------- metrics
def probe_loss(m, probes: P.ProbeSet, batch_size: int = 16) -> np.ndarray:
    """Per-probe mean next-token loss (nats) on ``probes.loss_mask`` of ``probes.lm_ids`` → ``[N]``."""
    HD.unembedding(m)
    if not m.is_causal:
        raise UnsupportedModelError(
            "The loss metric needs a causal LM (next-token prediction); this model is an encoder. "
            "Ablate with metric=<role id> and target=(layer, head) instead."
        )
    ids = torch.as_tensor(probes.lm_ids)
    mask = torch.as_tensor(probes.loss_mask)
    out = np.empty(len(ids))
    with torch.inference_mode():
        for s in range(0, len(ids), batch_size):
            x = ids[s:s + batch_size].to(m.device)
            logits = m.model(input_ids=x, use_cache=False).logits.float()
            logp = torch.log_softmax(logits[:, :-1], -1)
            nll = -logp.gather(-1, x[:, 1:, None])[..., 0]          # nll[:, t-1] is token t's loss
            msk = mask[s:s + batch_size, 1:].to(nll.device)
            out[s:s + len(x)] = ((nll * msk).sum(-1) / msk.sum(-1)).cpu().numpy()
    return out


def _role_metric(m, probes, role, target, batch_size):
    if role == "retrieval":     # every trial counts here: a failed retrieval is the effect to measure
        sc, _, _ = score_retrieval(m, probes, batch_size=batch_size, min_recall=-1.0)
    else:
        sc = score_repeated(m, probes, [role], batch_size=batch_size)[0][role]
    return np.mean([sc[:, layer, head] for layer, head in target], axis=0)


def _probe_set(m, probe, n, seed, length, batch_size=None) -> P.ProbeSet:
    if isinstance(probe, P.ProbeSet):
        return probe
    if not isinstance(probe, str):
        raise InputError("probe must be a role id ('induction', 'retrieval', ...), 'repeated', 'needle' or a ProbeSet; "
                         "pass e.g. probe='induction'.")
    if probe in ("retrieval", "needle"):
        return P.needle_haystack(m, n=n, seed=seed, haystack=40 if length is None else length, fit=length is None)
    if probe == "repeated" or (probe in SPECS and SPECS[probe].probe == "repeated"):
        return P.repeated_tokens(m, n=n, seed=seed, length=25 if length is None else length, fit=length is None)
    raise InputError(f"Unknown probe {probe!r}: use a probe role id (e.g. 'induction', 'retrieval'), "
                     "'repeated', 'needle' or a ProbeSet.")


class _Runner:
    """Evaluates a metric clean and under ablations of one probe set, caching the clean run
    and the mean head outputs."""

    def __init__(self, m, probes: P.ProbeSet, metric: str, target, batch_size: int):
        self.m, self.probes, self.metric, self.target, self.batch_size = m, probes, metric, target, batch_size
        self._clean = None
        self._means = None

    def run(self) -> np.ndarray:
        if self.metric == "loss":
            return probe_loss(self.m, self.probes, self.batch_size)
        return _role_metric(self.m, self.probes, self.metric, self.target, self.batch_size)

    @property
    def clean(self) -> np.ndarray:
        if self._clean is None:
            self._clean = self.run()
        return self._clean

    def means(self):
        if self._means is None:
            seqs = self.probes.lm_ids if self.metric == "loss" else self.probes.input_ids
            ids = torch.as_tensor(seqs)

            def go():
                with torch.inference_mode():
                    for s in range(0, len(ids), self.batch_size):
                        self.m._core(input_ids=ids[s:s + self.batch_size].to(self.m.device),
                                     **({"use_cache": False} if self.m.is_causal else {}))

            means = HD.head_means(self.m, go)
            if self.metric == "retrieval":                       # decoding steps see one position
                means = {k: v.mean(0) for k, v in means.items()}
            self._means = means
        return self._means

    def ablated(self, heads, mode) -> np.ndarray:
        means = self.means() if mode == "mean" else None
        with HD.ablation(self.m, heads, mode=mode, means=means):
            return self.run()


def _result(heads, mode, probes, metric, target, clean, abl, test, n_boot, ci_level, seed, params):
    delta = abl - clean
    ok = ~np.isnan(delta)
    if ok.sum() < 2:
        raise InputError(
            f"Only {int(ok.sum())} probe(s) have a defined {metric!r} metric clean and ablated; "
            "use more probes (n=...) or another metric."
        )
    # every probe may change by exactly the same amount (e.g. retrieval 1 -> 0 in every trial):
    # the t statistic is then undefined and the exact sign test takes over
    res = stats.paired(abl[:, None], clean[:, None], test=test, alternative="two-sided", seed=seed,
                       zero_variance="sign")
    ci = stats.bootstrap_ci(delta[:, None], level=ci_level, n_boot=n_boot, seed=seed)
    p, name = float(res.p_value[0]), res.test
    return AblationResult(
        heads=list(heads), mode=mode, probe=probes.kind, metric=metric, clean=clean, ablated=abl,
        delta=delta, effect=float(np.nanmean(delta)), ci_low=float(ci.low[0]), ci_high=float(ci.high[0]),
        p_value=p, statistic=float(res.statistic[0]), n=int(ok.sum()), test=name,
        alternative="two-sided", target=target, params=params,
    )


def _check_common(m, mode, metric, target):
    V.choice("mode", mode, ("zero", "mean"))
    if metric != "loss" and metric not in SPECS:
        raise InputError(f"metric must be 'loss' or a probe role id ({', '.join(SPECS)}), got {V.describe(metric)}. "
                         "Pass e.g. metric='loss'.")
    if metric == "loss":
        if target is not None:
            raise InputError("target= is only used with a role metric: pass metric='induction' (or another probe role) with it, "
                             "or leave target out for metric='loss'.")
        return None
    if target is None:
        raise InputError(f"metric={metric!r} needs target=(layer, head): the head whose {metric} score to measure.")
    if SPECS[metric].causal_only and not m.is_causal:
        raise UnsupportedModelError(f"The {metric!r} score is defined for causal models and this model is an "
                                    "encoder; use previous_token, duplicate_token or sink as the metric.")
    return parse_heads(target, m.n_layers, m.n_heads)


def ablate(m, heads, *, probe="induction", mode: str = "zero", metric: str = "loss", target=None,
           n: int | None = None, seed: int = 0, length: int | None = None, test: str = "t",
           n_boot: int = 2000, ci_level: float = 0.95, batch_size: int = 16) -> AblationResult:
    """Ablate ``heads`` together and measure the paired per-probe change of ``metric``.

    Args:
        m: a ``HeadModel``.
        heads: ``(layer, head)``, ``"L1H2"`` / ``"1.2"`` or a list of them (ablated together).
        probe: which probes: a probe role id (``"induction"`` and the other attention roles use
            repeated random tokens, ``"retrieval"`` needle-in-a-haystack prompts), ``"repeated"``,
            ``"needle"`` or a ready ``ProbeSet``.
        mode: ``"zero"`` or ``"mean"`` (mean output per position over the same probes).
        metric: ``"loss"`` (loss on the predictable tokens; causal LMs) or a role id with
            ``target=(layer, head)`` (that head's per-probe role score).
        n: number of probes (default ``DEFAULT_N`` = 100, as in ``m.detect``); seed: their seed; length: run length (repeated) or
            haystack length (needle), fitted to the model when not given.
        test: paired test (``"t"``, ``"wilcoxon"``, ``"signflip"``), two-sided.
        n_boot, ci_level: bootstrap CI of the mean change.

    Returns:
        :class:`AblationResult` (``.effect``, ``.ci_low``, ``.ci_high``, ``.p_value``,
        ``.delta`` per probe, ``.table``).
    """
    tgt = _check_common(m, mode, metric, target)
    hs = parse_heads(heads, m.n_layers, m.n_heads)
    n = V.integer("n", DEFAULT_N if n is None else n, min=2, max=100_000, example=DEFAULT_N)
    seed = V.seed(seed)
    batch_size = V.integer("batch_size", batch_size, min=1, max=4096, example=16)
    if length is not None:
        V.integer("length", length, min=1, max=10_000_000)
    V.choice("test", test, stats.TESTS)
    probes = _probe_set(m, probe, n, seed, length)
    if metric != "loss" and SPECS[metric].probe != probes.kind:
        want = "retrieval" if SPECS[metric].probe == "needle" else "induction"
        raise InputError(f"metric={metric!r} is scored on {SPECS[metric].probe} probes: pass probe={want!r}.")
    runner = _Runner(m, probes, metric, tgt, batch_size)
    clean = runner.clean
    abl = runner.ablated(hs, mode)
    return _result(hs, mode, probes, metric, tgt, clean, abl, test, n_boot, ci_level, seed,
                   {"seed": seed, "n": int(n), "probe": probes.params})


def confirm(m, report, roles=None, *, mode: str = "mean", n: int | None = None, seed: int = 0,
            test: str = "t", correction: str = "fdr_bh", n_boot: int = 2000, batch_size: int = 16):
    """Causal confirmation of a probe report: ablate each significant head alone and measure
    the change in loss on that role's probes (repeated random tokens; needle prompts for
    ``retrieval``).

    Adds to ``report.table`` the columns ``causal_effect`` (mean loss change, nats),
    ``causal_ci_low``, ``causal_ci_high``, ``causal_p`` (paired two-sided test) and ``causal_q``
    (``correction`` over all ablated heads); NaN on rows that were not significant. Settings go
    to ``report.provenance["parameters"]["causal"]``. Returns the table.
    """
    if not m.is_causal:
        raise UnsupportedModelError("Causal confirmation measures next-token loss and needs a causal LM; "
                                    "on an encoder, ablate with a role metric: m.ablate(heads, metric='sink', "
                                    "target=(layer, head)).")
    roles = report.roles if roles is None else ([roles] if isinstance(roles, str) else list(roles))
    n = V.integer("n", DEFAULT_N if n is None else n, min=2, max=100_000, example=DEFAULT_N)
    V.choice("mode", mode, ("zero", "mean"))
    V.choice("correction", correction, stats.CORRECTIONS)
    table = report.table
    cols = {c: np.full(len(table), np.nan) for c in ("causal_effect", "causal_ci_low", "causal_ci_high", "causal_p")}
    runners: dict[str, _Runner] = {}
    for role in roles:
        kind = SPECS[role].probe
        for layer, head in report.significant(role):
            if kind not in runners:
                runners[kind] = _Runner(m, _probe_set(m, kind, n, seed, None), "loss", None, batch_size)
            run = runners[kind]
            abl = run.ablated([(layer, head)], mode)
            res = _result([(layer, head)], mode, run.probes, "loss", None, run.clean, abl, test, n_boot, 0.95, seed, {})
            row = np.flatnonzero((table["role"] == role).to_numpy() & (table["layer"] == layer).to_numpy()
                                 & (table["head"] == head).to_numpy())
            cols["causal_effect"][row] = res.effect
            cols["causal_ci_low"][row] = res.ci_low
            cols["causal_ci_high"][row] = res.ci_high
            cols["causal_p"][row] = res.p_value
    cols["causal_q"] = stats.adjust(cols["causal_p"], correction)
    for c, v in cols.items():
        table[c] = v
    report.provenance.setdefault("parameters", {})["causal"] = {
        "mode": mode, "metric": "loss", "n": n, "seed": seed, "test": test, "correction": correction,
        "roles": list(roles), "what": "each significant head ablated alone; change in loss on the role's probes",
    }
    return table
