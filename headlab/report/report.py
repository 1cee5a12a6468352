"""``hl.Report``: the tested result of scoring heads for roles, and ``hl.compare``.

A report holds, for every role, the per-sample scores ``[N, L, H]`` (the data) and a tidy
table with one row per (role, layer, head) (the inference: mean score, bootstrap CI,
one-sided test across samples, multiple-testing correction over all heads x roles), plus
provenance: which model, which method, which test, which correction, which seed.

Saved form (``rep.save("run1")``): two files side by side,

* ``run1.json`` -- ``{"format": "headlab.report", "version": 1, provenance, roles, shape,
  sample_ids, the table (column-oriented, NaN as null)}``;
* ``run1.npz``  -- ``np.savez_compressed`` of the per-sample arrays (keys ``s0, s1, ...`` in
  the order of ``roles``), read back with ``allow_pickle=False``.

No pickle anywhere; a round trip reproduces the table exactly.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd

from headlab import stats
from headlab.errors import InputError, UnknownRoleError
from headlab.report import io, summaries
from headlab import validate as V
from headlab.catalog import heads_of, types_for_role
from headlab.catalog import summaries as catalog_summaries
from headlab.report.table import (
    _COLUMNS, FORMAT, FORMAT_VERSION, _check_samples, _json_safe, _normalise_table, _now_iso, _null_for, _version,
)

__all__ = ["Report"]


class Report:
    """Tested head-role scores of one model on one set of samples.

    Build one with :meth:`Report.from_samples` (what ``m.roles`` / ``m.detect`` do), read one
    with :meth:`Report.load`, or get one from :func:`compare`.

    Attributes:
        table: pandas DataFrame, one row per (role, layer, head), columns ``role, layer, head,
            score, ci_low, ci_high, p_value, q_value, significant, n, effect_size, sd,
            statistic, null, method, test, catalog, published`` (see :meth:`from_samples`).
        roles: role ids in insertion order.
        n_layers, n_heads, n_samples: the shape ``[N, L, H]`` of the per-sample arrays.
        alpha: significance level used for ``significant``.
        model_name, method: as given.
        provenance: dict -- model, headlab version, method, test, alternative, correction and
            its family, alpha, null, CI settings, parameters, seed, number of samples,
            created time, report format and version.
        sample_ids: stable ids of the N samples, or None.
    """

    def __init__(
        self,
        table: pd.DataFrame,
        samples: dict[str, np.ndarray],
        provenance: dict,
        sample_ids: list[str] | None = None,
        catalog_by_role: dict[str, list[str]] | None = None,
    ):
        # Internal constructor; use from_samples / load.
        self.table = table
        self._samples = samples
        self.provenance = provenance
        self.roles = list(samples)
        first = samples[self.roles[0]]
        self.n_samples, self.n_layers, self.n_heads = (int(s) for s in first.shape)
        self.alpha = float(provenance["alpha"])
        self.model_name = str(provenance.get("model", ""))
        self.method = str(provenance.get("method", ""))
        self.sample_ids = list(sample_ids) if sample_ids is not None else None
        self.catalog_by_role = {r: list((catalog_by_role or {}).get(r, [])) for r in self.roles}

    # --------------------------------------------------------------------- construction

    @classmethod
    def from_samples(
        cls,
        samples: dict[str, np.ndarray],
        *,
        method: str,
        null: float | dict[str, float] = 0.0,
        alternative: str = "greater",
        test: str = "t",
        alpha: float = 0.05,
        correction: str = "fdr_bh",
        ci_level: float = 0.95,
        n_boot: int = 2000,
        ci_method: str = "percentile",
        seed: int = 0,
        model_name: str = "",
        sample_ids: list[str] | None = None,
        params: dict | None = None,
        catalog: bool = True,
        n_perm: int = 9999,
        zero_variance: str = "nan",
    ) -> "Report":
        """Test per-sample role scores across samples and build the report.

        Args:
            samples: ``{role id: float [N, L, H]}``; the same N samples (rows) for every role,
                NaN where the role does not apply to a sample.  Each (role, layer, head) is
                tested on its own non-NaN samples (the sample is the unit, docs/methods.md#methods-unit).
            method: name of the scoring method (``"lift"``, ``"pande"``, ``"compare"``, ...),
                recorded in the table and provenance.
            null: H0 value (for ``"greater"``: H0 E[score] <= null), one float or one per role.
            alternative, test: see :func:`headlab.stats.one_sample` (``"t"``, ``"wilcoxon"``,
                ``"signflip"``).
            alpha: level for ``significant``: ``q_value < alpha``.
            correction: :func:`headlab.stats.adjust` method; the family is every head x role
                in this report that has a p-value.  ``"none"``: ``q_value == p_value``.
            ci_level, n_boot, ci_method: bootstrap CI of the mean score
                (:func:`headlab.stats.bootstrap_ci`; ``"percentile"`` or ``"bca"``).
            seed: seed of the bootstrap (and of the sign-flip test); same seed -> same table.
            model_name: model the scores come from (also used for published-head links).
            sample_ids: stable ids of the N samples (e.g. a hash of each text), used by
                :func:`compare` to pair samples across reports.
            params: method parameters, written into ``provenance["parameters"]``.
            catalog: fill the ``catalog`` / ``published`` columns from ``headlab.catalog``
                (``catalog``: ids of the head types the role detects, on significant rows;
                ``published``: published roles of this head when the model is known).
            n_perm: permutations for ``test="signflip"``.
            zero_variance: t test on heads whose score is identical on every sample
                (:func:`headlab.stats.one_sample`): ``"nan"`` (no p-value) or ``"sign"``
                (exact sign test).

        Returns:
            :class:`Report`.
        """
        roles, arrays, (N, L, H) = _check_samples(samples)
        V.choice("correction", correction, stats.CORRECTIONS)
        alpha = V.number("alpha", alpha, lo=0.0, hi=1.0, lo_open=True, hi_open=True, example=0.05)
        V.flag("catalog", catalog)
        if sample_ids is not None:
            sample_ids = [str(s) for s in sample_ids]
            if len(sample_ids) != N:
                raise InputError(f"sample_ids has {len(sample_ids)} ids for {N} samples; give one id per sample.")
        nulls = {r: _null_for(null, r) for r in roles}

        results = {r: stats.one_sample(arrays[r], null=nulls[r], test=test, alternative=alternative, seed=seed,
                                       n_perm=n_perm, zero_variance=zero_variance)
                   for r in roles}      # a few roles; each call is vectorised over all L x H heads
        # One bootstrap for all roles: the same intervals as one call per role, with the
        # resampling shared between roles that apply to the same samples.
        cis = dict(zip(roles, stats.bootstrap_ci_many([arrays[r] for r in roles], level=ci_level, n_boot=n_boot,
                                                      seed=seed, method=ci_method)))
        p_all = np.stack([results[r].p_value for r in roles])  # [R, L, H]
        q_all = stats.adjust(p_all, correction)
        test_name = results[roles[0]].test

        by_role = {r: types_for_role(r) if catalog else [] for r in roles}
        by_head = heads_of(model_name, L, H) if catalog and model_name else {}

        layer_idx, head_idx = np.meshgrid(np.arange(L), np.arange(H), indexing="ij")
        parts = []
        for i, r in enumerate(roles):
            res, ci = results[r], cis[r]
            q = q_all[i]
            sig = np.where(np.isnan(q), False, q < alpha)
            heads = list(zip(layer_idx.ravel().tolist(), head_idx.ravel().tolist()))
            parts.append(
                pd.DataFrame(
                    {
                        "role": r,
                        "layer": layer_idx.ravel(),
                        "head": head_idx.ravel(),
                        "score": res.mean.ravel(),
                        "ci_low": ci.low.ravel(),
                        "ci_high": ci.high.ravel(),
                        "p_value": res.p_value.ravel(),
                        "q_value": q.ravel(),
                        "significant": sig.ravel().astype(bool),
                        "n": res.n.ravel().astype(np.int64),
                        "effect_size": res.effect_size.ravel(),
                        "sd": res.sd.ravel(),
                        "statistic": res.statistic.ravel().astype(np.float64),
                        "null": nulls[r],
                        "method": method,
                        "test": res.test,
                        "catalog": [list(by_role[r]) if s else [] for s in sig.ravel()],
                        "published": [list(by_head.get(h, [])) for h in heads],
                    }
                )
            )
        table = _normalise_table(pd.concat(parts, ignore_index=True))

        n_tests = int(np.count_nonzero(~np.isnan(p_all)))
        provenance = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "model": model_name,
            "headlab_version": _version(),
            "method": method,
            "test": test_name,
            "test_id": test,
            "zero_variance": zero_variance,
            "alternative": alternative,
            "null": {r: nulls[r] for r in roles} if isinstance(null, dict) else float(null),
            "correction": correction,
            "family": f"all {L}x{H} heads x {len(roles)} roles in this report ({n_tests} tests with a p-value)",
            "alpha": float(alpha),
            "ci": {"level": float(ci_level), "n_boot": int(n_boot), "method": ci_method},
            "n_perm": int(n_perm) if test == "signflip" else None,
            "parameters": _json_safe(dict(params or {})),
            "seed": int(seed),
            "n_samples": int(N),
            "n_samples_per_role": {r: int(np.any(~np.isnan(arrays[r]), axis=(1, 2)).sum()) for r in roles},
            "shape": [int(N), int(L), int(H)],
            "catalog": bool(catalog),
            "created": _now_iso(),
        }
        return cls(table, arrays, provenance, sample_ids, by_role)

    # --------------------------------------------------------------------- accessors

    def _check_role(self, role: str) -> str:
        if role not in self._samples:
            raise UnknownRoleError(f"Role {role!r} is not in this report; it has {self.roles}. Pass one of those.")
        return role

    def samples(self, role: str) -> np.ndarray:
        """Per-sample scores of ``role``, float ``[N, L, H]`` (NaN = role not applicable); read-only."""
        arr = self._samples[self._check_role(role)].view()
        arr.flags.writeable = False
        return arr

    def matrix(self, role: str, column: str = "score") -> np.ndarray:
        """One table column of ``role`` as a ``[L, H]`` array (float; bool for ``significant``)."""
        self._check_role(role)
        if column not in self.table.columns or _COLUMNS.get(column, "float") in ("str", "list"):
            numeric = [c for c, t in _COLUMNS.items() if t in ("float", "int", "bool") and c in self.table.columns]
            raise InputError(f"Column {column!r} is not a numeric table column; choose one of {numeric}.")
        sub = self.table[self.table["role"] == role]
        kind = _COLUMNS.get(column, "float")
        out = np.full((self.n_layers, self.n_heads), False if kind == "bool" else np.nan,
                      dtype=bool if kind == "bool" else np.float64)
        out[sub["layer"].to_numpy(), sub["head"].to_numpy()] = sub[column].to_numpy()
        return out

    def significant(self, role: str) -> list[tuple[int, int]]:
        """Heads significant for ``role`` (``q_value < alpha``) as ``(layer, head)``, sorted."""
        mask = self.matrix(role, "significant")
        return [(int(layer), int(head)) for layer, head in zip(*np.nonzero(mask))]

    def catalog_ids(self, role: str) -> list[str]:
        """Catalogue ids of the head types whose detector is ``role`` (may be empty)."""
        return list(self.catalog_by_role[self._check_role(role)])

    # --------------------------------------------------------------------- summaries (headlab.report.summaries)

    def colocation(self) -> pd.DataFrame:
        """Which roles share heads, with Fisher's exact test; see :func:`headlab.report.summaries.colocation`."""
        return summaries.colocation(self)

    def by_layer(self) -> pd.DataFrame:
        """Counts of significant heads per layer and role; see :func:`headlab.report.summaries.by_layer`."""
        return summaries.by_layer(self)

    def layer_test(self, role: str, n_perm: int = 9999, seed: int = 0) -> dict:
        """Is ``role`` spread evenly over layers? See :func:`headlab.report.summaries.layer_test`."""
        return summaries.layer_test(self, role, n_perm=n_perm, seed=seed)

    # --------------------------------------------------------------------- re-testing

    def retest(self, *, roles: list[str] | None = None, **overrides) -> "Report":
        """Re-run the tests on the stored per-sample arrays with other settings.

        No attention is recomputed (docs/methods.md#methods-retest): e.g. ``rep.retest(null=3.0)``,
        ``rep.retest(test="wilcoxon", correction="fdr_by")``.  Any keyword argument of
        :meth:`from_samples` except ``samples``/``method``/``model_name``/``sample_ids`` may be
        given; the others keep this report's values.  ``roles`` restricts the roles (and so
        the correction family).
        """
        fixed = {"samples", "method", "model_name", "sample_ids"}
        if fixed & set(overrides):
            raise InputError(f"retest() cannot change {sorted(fixed & set(overrides))}; build a new report instead.")
        p = self.provenance
        ci = p.get("ci") or {}
        settings = {
            "null": p.get("null", 0.0), "alternative": p.get("alternative", "greater"),
            "test": p.get("test_id", "t"), "alpha": self.alpha, "correction": p.get("correction", "fdr_bh"),
            "ci_level": ci.get("level", 0.95), "n_boot": ci.get("n_boot", 2000),
            "ci_method": ci.get("method", "percentile"), "seed": p.get("seed", 0),
            "params": p.get("parameters"), "n_perm": p.get("n_perm") or 9999,
            "catalog": bool(p.get("catalog", True)),
            "zero_variance": p.get("zero_variance", "nan"),
        }
        settings.update(overrides)
        chosen = list(self.roles if roles is None else roles)
        for r in chosen:
            self._check_role(r)
        if isinstance(settings["null"], dict):
            settings["null"] = {r: settings["null"][r] for r in chosen if r in settings["null"]}
        out = Report.from_samples(
            {r: self._samples[r] for r in chosen}, method=self.method, model_name=self.model_name,
            sample_ids=self.sample_ids, **settings,
        )
        if "compared" in p:
            out.provenance["compared"] = p["compared"]
        out.provenance["retest_of"] = p.get("created")
        return out

    def sensitivity(self, nulls, role: str | None = None) -> pd.DataFrame:
        """Number of significant heads per role as a function of the null value tau.

        The tau-sensitivity curve (docs/methods.md#methods-length-dependence, #methods-retest): for each value in ``nulls`` the
        report's test, alternative, correction (family: all heads x roles) and alpha are
        re-applied to the stored per-sample arrays with that null for every role.

        Args:
            nulls: iterable of null values (tau), e.g. ``[1, 1.5, 2, 2.5, 3, 3.5]``.
            role: only this role's column (the family stays all roles).

        Returns:
            DataFrame indexed by ``null`` with one column per role (counts of significant heads).
        """
        p = self.provenance
        test, alt = p.get("test_id", "t"), p.get("alternative", "greater")
        correction, seed = p.get("correction", "fdr_bh"), int(p.get("seed", 0))
        n_perm = int(p.get("n_perm") or 9999)
        zero_variance = p.get("zero_variance", "nan")
        taus = [float(t) for t in nulls]
        rows = []
        for tau in taus:
            pv = np.stack([
                stats.one_sample(self._samples[r], null=tau, test=test, alternative=alt,
                                 seed=seed, n_perm=n_perm, zero_variance=zero_variance).p_value
                for r in self.roles
            ])
            q = stats.adjust(pv, correction)
            sig = np.where(np.isnan(q), False, q < self.alpha)
            rows.append(sig.sum(axis=(1, 2)).astype(int))
        out = pd.DataFrame(rows, index=pd.Index(taus, name="null"), columns=self.roles)
        out.columns.name = "role"
        if role is not None:
            self._check_role(role)
            return out[[role]]
        return out

    # --------------------------------------------------------------------- display

    def _counts(self) -> dict[str, int]:
        sig = self.table.groupby("role", sort=False)["significant"].sum()
        return {r: int(sig.get(r, 0)) for r in self.roles}

    def __repr__(self) -> str:
        counts = self._counts()
        total = self.n_layers * self.n_heads
        roles = ", ".join(f"{r} {c}/{total}" for r, c in counts.items())
        return (
            f"<headlab.Report model={self.model_name or '?'!s} method={self.method} "
            f"N={self.n_samples} {self.n_layers}x{self.n_heads} heads; "
            f"significant ({self.provenance.get('correction')}, alpha={self.alpha:g}): {roles}>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None):
        """What a notebook shows for a report: the head grid as headlab's kernel-free payload
        (drawn by the JupyterLab extension, saved with the notebook), an SVG picture of it
        (nbconvert, GitHub, VS Code) and a one-line text summary. ``rep.show()`` gives the live,
        clickable widget."""
        from headlab.views import report_bundle  # the views load only when a report is displayed

        return report_bundle(self, catalog=catalog_summaries(model=self.model_name, n_layers=self.n_layers,
                                                             n_heads=self.n_heads))

    def show(self, **kw):
        """The HeadGrid widget of this report (:class:`headlab.views.HeadGrid`)."""
        from headlab.views import HeadGrid  # anywidget is imported only when a view is asked for

        kw.setdefault("catalog", catalog_summaries(model=self.model_name, n_layers=self.n_layers, n_heads=self.n_heads))
        return HeadGrid(self, **kw)

    # --------------------------------------------------------------------- files (headlab.report.io)

    def to_json_dict(self) -> dict:
        """JSON-safe dict of the report (what ``headlab scan`` writes); see :func:`headlab.report.io.to_json_dict`."""
        return io.to_json_dict(self)

    def save(self, path) -> pathlib.Path:
        """Write ``<path>.json`` and ``<path>.npz`` atomically; returns the JSON path (:func:`headlab.report.io.save`)."""
        return io.save(self, path)

    @classmethod
    def load(cls, path) -> "Report":
        """Read and check a report written by :meth:`save` (:func:`headlab.report.io.read`)."""
        return cls(*io.read(path))
