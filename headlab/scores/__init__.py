"""Pure scoring functions on raw attention arrays: no model, no I/O.

Everything here takes numpy (or torch) arrays shaped ``[..., T, T]`` (rows = queries), so
attention from any tool (a TransformerLens cache, nnsight, a saved array) can be scored.
"""

from headlab.scores.patterns import *  # noqa: F401,F403  (probe-role scores: previous-token, induction, ...)
from headlab.scores.patterns import __all__ as _patterns_all
from headlab.scores.sieve import sieve_bias, sieve_lift, sieve_mass

__all__ = ["sieve_bias", "sieve_lift", "sieve_mass"]
__all__ += list(_patterns_all)
