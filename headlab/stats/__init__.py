"""Statistics for head-role testing: tests across samples, bootstrap CIs, multiple testing.

The sample (a sentence or a prompt) is the unit of analysis (docs/methods.md, 'The unit of
analysis: samples').  Every function takes per-sample scores ``x`` of shape ``[N, ...]`` -- N samples
along axis 0 and any number of trailing "column" axes (flattened heads ``[N, K]``, or
``[N, L, H]``) -- and works on all columns at once: there is no Python loop over heads.
``NaN`` marks a sample to which the role does not apply; each column uses only its own
non-NaN samples, so every column may have its own ``n``.

Result objects have named fields, like ``scipy.stats`` results, and each carries a ``test``
string that says which test produced its numbers.  Options are checked where a call enters
(wrong types and out-of-range values raise :class:`~headlab.errors.InputError`).

Methods and sources (docs/methods.md):

* one-sample t test (one- or two-sided), ddof = 1 by default -- identical to
  ``scipy.stats.ttest_1samp`` ('Tests across samples'; fixes Pande et al.'s ddof = 0);
* Wilcoxon signed-rank test by ``scipy.stats.wilcoxon``, zeros dropped (Wilcoxon's method),
  exact null distribution for n <= 50 without ties or zeros, otherwise the normal
  approximation with tie correction and no continuity correction ('Tests across samples');
* sign-flip permutation test of the mean (Fisher's randomisation test; Dror et al. 2018);
* bootstrap CIs of the mean: percentile and BCa (Efron 1987, "Better bootstrap confidence
  intervals"; 'Bootstrap confidence intervals'), for one array or many at once;
* multiple testing: Benjamini & Hochberg 1995 (FDR), Benjamini & Yekutieli 2001 (FDR under
  arbitrary dependence) via ``scipy.stats.false_discovery_control``, Holm 1979 (FWER),
  Bonferroni ('Multiple testing');
* co-location of two roles over heads: Fisher's exact test on the 2 x 2 table, Jaccard
  ('Co-location of roles');
* statistics that merge across shards of a corpus: moments (n, mean, M2; Chan et al. 1979)
  for the t test, and the Poisson bootstrap keyed by sample id (docs/scale.md).

Modules: ``location`` (one_sample, paired, constant_sign_p), ``signrank`` and ``signflip``
(their tests), ``bootstrap``, ``multiple`` (adjust), ``colocation``, ``results``,
``streaming`` (Moments, PoissonBootstrap).
"""

from __future__ import annotations

from headlab.stats._checks import ALTERNATIVES, CI_METHODS, CORRECTIONS, TESTS
from headlab.stats.bootstrap import bootstrap_ci, bootstrap_ci_many
from headlab.stats.colocation import fisher_exact_2x2, jaccard
from headlab.stats.location import constant_sign_p, one_sample, paired
from headlab.stats.multiple import adjust
from headlab.stats.results import ConfidenceInterval, FisherResult, TestResult
from headlab.stats.streaming import Moments, PoissonBootstrap, poisson_weights, sample_keys

__all__ = [
    "TestResult",
    "ConfidenceInterval",
    "FisherResult",
    "one_sample",
    "paired",
    "constant_sign_p",
    "bootstrap_ci",
    "bootstrap_ci_many",
    "adjust",
    "fisher_exact_2x2",
    "jaccard",
    "Moments",
    "PoissonBootstrap",
    "poisson_weights",
    "sample_keys",
    "TESTS",
    "ALTERNATIVES",
    "CORRECTIONS",
    "CI_METHODS",
]

# Public objects report the package as their home (reprs, pickles, API docs), not the
# submodule that happens to define them.
for _name in __all__:
    _obj = globals()[_name]
    if hasattr(_obj, "__module__") and not isinstance(_obj, tuple):
        _obj.__module__ = __name__
del _name, _obj


def _check_choice(value, allowed, what: str) -> str:
    """Kept for callers outside this package (``headlab.report``); use
    ``headlab.validate.choice(what, value, allowed)`` instead."""
    from headlab.validate import choice

    return choice(what, value, allowed)


def __dir__() -> list[str]:
    # only the public names: the submodules and helpers stay reachable but unadvertised
    return list(__all__)
