"""Pure scoring functions on raw attention arrays: no model, no I/O.

Everything here takes numpy (or torch) arrays shaped ``[..., T, T]`` (rows = queries), so
attention from any tool (a TransformerLens cache, nnsight, a saved array) can be scored.
"""

from headlab.scores.sieve import sieve_bias, sieve_lift, sieve_mass

__all__ = ["sieve_bias", "sieve_lift", "sieve_mass"]

try:  # probe-role scores (previous-token, induction, ...) live in their own module
    from headlab.scores.probe import *  # noqa: F401,F403
    from headlab.scores.probe import __all__ as _probe_all

    __all__ += list(_probe_all)
except ImportError:  # pragma: no cover - during development only
    pass
