"""The role registry.

A *role* is a hypothesis about what a head does. Natural-text roles (``kind="text"``) are
sieves: from a sample's annotation they build a bool ``[T, T]`` matrix whose row ``i`` marks
the keys query ``i`` should attend to under the role. Probe roles (``kind="probe"``) are
scored on generated probe data by ``m.detect``.

Users add their own natural-text role with :func:`register`::

    import numpy as np, headlab as hl

    def first_word(sample):               # sample: headlab.text.Sample
        T = len(sample)
        sieve = np.zeros((T, T), dtype=bool)
        sieve[:, 1] = True                # every query should look at token 1
        return sieve

    hl.roles.register("first_word", first_word, description="attends to the first word")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import get_close_matches
from typing import Callable

import numpy as np

from headlab.errors import HeadlabError, InputError, UnknownRoleError
from headlab.scores.shapes import Band, Blocks, Dense, Keys, Pairs


@dataclass(frozen=True)
class SieveResult:
    """What a sieve function may return instead of a bare bool ``[T, T]`` matrix.

    Attributes:
        sieve: the keys each query should attend to: a bool ``[T, T]`` matrix (row ``i`` marks
            query ``i``'s keys) or, for long inputs, a structured shape from
            ``headlab.scores.structured`` (``Band``, ``Keys``, ``Blocks``, ``Pairs``) that holds the
            same set without ``T^2`` memory.
        query_weights: float ``[T]`` weight of each query in the sample's average (0 = the
            query does not take part). Default: 1 for every query with a non-empty sieve.
            Syntactic roles use ``1/|pieces of the word|`` so that, as in Clark et al., a word
            counts once however many pieces it has.
    """

    sieve: object
    query_weights: np.ndarray | None = None

    def dense(self, T: int) -> np.ndarray:
        """The sieve as a bool ``[T, T]`` matrix."""
        return self.sieve.dense(T)


@dataclass(frozen=True)
class Role:
    """A registered role.

    Attributes:
        id: the role id used everywhere (``"local"``, ``"syn:nsubj"``, ``"induction"``...).
        kind: ``"text"`` (a sieve over natural text) or ``"probe"`` (scored by ``m.detect``).
        description: one line for tables and tooltips.
        sieve: for text roles, ``f(sample) -> bool [T, T] | SieveResult | None`` (None: the
            role does not apply to this sample).
        requires: subset of {"causal", "encoder", "pair", "spacy"}.
        citation: where the definition comes from.
        default: whether ``m.roles()`` / ``m.detect()`` runs it when no roles are named.
    """

    id: str
    kind: str
    description: str
    sieve: Callable | None = None
    requires: frozenset = field(default_factory=frozenset)
    citation: str = ""
    default: bool = True


__all__ = ["Role", "SieveResult", "register", "unregister", "get", "names", "resolve", "sieve_for",
           "applicable", "as_sieve_result"]

_REGISTRY: dict[str, Role] = {}


def __dir__():
    return sorted(__all__)


def register(role_id: str | Role, sieve: Callable | None = None, *, description: str = "",
             kind: str = "text", requires=(), citation: str = "", default: bool = False,
             replace: bool = False) -> Role:
    """Register a role (a ``Role``, or an id plus a sieve function) and return it.

    User roles are not run by default; name them in ``m.roles(roles=[...])``.
    """
    if isinstance(role_id, Role):
        role = role_id
    else:
        if not isinstance(role_id, str) or not role_id.strip() or "," in role_id:
            raise InputError("A role id must be a non-empty string without commas; pass e.g. 'first_word'.")
        if kind == "text" and not callable(sieve):
            raise InputError("A text role needs a sieve function: pass f(sample) -> bool [T, T] as the second argument.")
        role = Role(role_id, kind, description or role_id, sieve, frozenset(requires), citation, default)
    if role.kind not in ("text", "probe"):
        raise InputError(f"Role kind must be 'text' or 'probe', got {role.kind!r}; pass kind='text'.")
    if role.id in _REGISTRY and not replace:
        raise InputError(f"Role {role.id!r} is already registered; pass replace=True to redefine it.")
    _REGISTRY[role.id] = role
    return role


def unregister(role_id: str) -> None:
    _REGISTRY.pop(role_id, None)


def get(role_id: str) -> Role:
    """The role with this id; unknown ids raise ``UnknownRoleError`` with suggestions."""
    _load_builtins()
    if role_id in _REGISTRY:
        return _REGISTRY[role_id]
    close = get_close_matches(str(role_id), list(_REGISTRY), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownRoleError(
        f"Unknown role {role_id!r}.{hint} See the known roles with hl.roles.names()."
    )


def names(kind: str | None = None) -> list[str]:
    """Ids of all registered roles (optionally of one kind), in registration order."""
    _load_builtins()
    return [r.id for r in _REGISTRY.values() if kind is None or r.kind == kind]


def resolve(roles, kind: str) -> list[Role]:
    """Turn ``None`` / an id / a list of ids into roles of ``kind`` (defaults when None)."""
    _load_builtins()
    if roles is None:
        return [r for r in _REGISTRY.values() if r.kind == kind and r.default]
    if isinstance(roles, str):
        roles = [r.strip() for r in roles.split(",") if r.strip()]
    out = []
    for rid in roles:
        role = get(rid)
        if role.kind != kind:
            other = "m.detect" if role.kind == "probe" else "m.roles"
            raise InputError(f"Role {rid!r} is a {role.kind} role: run it with {other}(roles=[{rid!r}]).")
        if role not in out:
            out.append(role)
    if not out:
        raise InputError("No roles given: pass role ids, or None for the defaults.")
    return out


_loaded = False


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from headlab.roles import builtin  # noqa: F401  (registers on import)


def as_sieve_result(value, T: int) -> SieveResult | None:
    """Validate what a sieve function returned; the sieve comes back as a structured shape
    (a bool matrix is wrapped in ``Dense``)."""
    if value is None:
        return None
    res = value if isinstance(value, SieveResult) else SieveResult(value)
    sieve = res.sieve
    if not isinstance(sieve, (Band, Keys, Blocks, Pairs, Dense)):
        arr = np.asarray(sieve)
        if arr.shape != (T, T):
            raise InputError(f"A sieve must be a bool [T, T] array with T={T}, got shape {arr.shape}. "
                             "Return one row per query and one column per key of the sample.")
        sieve = Dense(arr.astype(bool, copy=False))
    qw = res.query_weights
    if qw is not None:
        qw = np.asarray(qw, dtype=np.float64)
        if qw.shape != (T,) or not np.all(np.isfinite(qw)) or np.any(qw < 0):
            raise InputError("query_weights must be a finite, non-negative float [T] array; return one weight per "
                             "token (0 leaves the query out).")
    return SieveResult(sieve, qw)


def sieve_for(role: Role, sample, causal: bool) -> SieveResult | None:
    """The role's validated sieve on one sample, or None when the role does not apply to it.

    A user's sieve function that raises is reported as an ``InputError`` naming the role and
    the text, with the original exception chained, instead of surfacing bare from deep inside
    the scoring engine.
    """
    if not applicable(role, sample, causal):
        return None
    try:
        value = role.sieve(sample)
    except HeadlabError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of user code is reported with its role
        text = repr(sample.text)
        text = text if len(text) <= 60 else text[:57] + "..."
        raise InputError(f"The sieve of role {role.id!r} raised {type(exc).__name__}: {exc} (on the text {text}). "
                         "Fix the function given to hl.roles.register, or leave the role out.") from exc
    res = as_sieve_result(value, len(sample))
    if res is None or _empty(res.sieve):
        return None
    return res


def _empty(shape) -> bool:
    """Whether a sieve holds no key at all (then the role does not apply to the sample)."""
    if isinstance(shape, Keys):
        return not shape.keys
    if isinstance(shape, Pairs):
        return not shape.queries
    if isinstance(shape, Dense):
        return not np.asarray(shape.matrix).any()
    if isinstance(shape, Blocks):
        return not any(shape.key)
    return False


def applicable(role: Role, sample, causal: bool) -> bool:
    """Whether a role can be scored on this sample and model type (without raising)."""
    if "causal" in role.requires and not causal:
        return False
    if "encoder" in role.requires and causal:
        return False
    if "pair" in role.requires and not sample.is_pair:
        return False
    return True
