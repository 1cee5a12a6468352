"""headlab: what do the attention heads of a transformer do, and how sure are we?

``hl.load`` a model, then ``m.roles(texts)`` (natural-text roles), ``m.detect()`` (probe roles) or
``m.ablate(heads)`` (causal checks); ``hl.explore(m, text)`` draws it; ``hl.catalog`` says what the
literature knows. The layout of the package is described in docs/architecture.md.
"""

import importlib

from headlab import catalog, corpus, roles, scores
from headlab.errors import (
    CatalogError,
    HeadlabError,
    InputError,
    MissingExtraError,
    ModelLoadError,
    NoApplicableRoleError,
    TooLongError,
    UnknownRoleError,
    UnsupportedModelError,
)
from headlab.version import __version__

# torch and anywidget are imported only when a model or a view is needed, so hl.catalog,
# hl.stats and hl.Report work (and import fast) without them; scipy and pandas only when
# statistics or a report are (hl.load alone needs neither: 0.9 s of CPU less).
_LAZY_FROM_MODEL = ("load", "HeadModel", "Attention")
_LAZY_FROM_REPORT = ("Report", "compare")
_LAZY_MODULES = ("probes", "stats", "views", "zoo")


def __getattr__(name):
    if name in _LAZY_FROM_MODEL:
        return getattr(importlib.import_module("headlab.model"), name)
    if name in _LAZY_FROM_REPORT:
        return getattr(importlib.import_module("headlab.report"), name)
    if name in _LAZY_MODULES:
        return importlib.import_module(f"headlab.{name}")
    if name == "scan":      # the scan engine imports torch (through the analyses): only when used
        return importlib.import_module("headlab.engines").scan
    raise AttributeError(f"module 'headlab' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)


def _jupyter_labextension_paths():
    """Where JupyterLab finds headlab's prebuilt extension (``jupyter labextension develop``, and
    the packaging tools): ``headlab/labextension``, installed as ``labextensions/headlab`` - the
    wheel's ``shared-data`` mapping in pyproject.toml and the link scripts/setup.sh makes."""
    return [{"src": "labextension", "dest": "headlab"}]


def explore(m, text, report=None, roles=None, **kwargs):
    """Explorer widget: head grid + attention view + catalogue card, linked both ways.

    See :func:`headlab.views.explore` for the arguments.
    """
    from headlab.attention import LazyAttention
    from headlab.views import explore as _explore

    kwargs.setdefault("catalog", catalog.summaries(model=getattr(m, "name", ""), n_layers=m.n_layers,
                                                   n_heads=m.n_heads))
    if report is None and "scorer" not in kwargs:
        truncate = kwargs.pop("truncate", False)
        att = text if hasattr(text, "tokens") and callable(getattr(text, "top_k", None)) else \
            m.attention(text, truncate=truncate)
        if isinstance(att, list):
            raise InputError("explore() shows one text at a time; pass a single string or pair.")
        if isinstance(att, LazyAttention):      # too long to score from the weights in memory
            from headlab.analyses.text_roles import text_scorer

            kwargs["scorer"] = text_scorer(m, att.text, truncate=truncate)
        text = att
    return _explore(m, text, report=report, roles=roles, **kwargs)


__all__ = [
    "Attention",
    "CatalogError",
    "HeadModel",
    "HeadlabError",
    "InputError",
    "MissingExtraError",
    "ModelLoadError",
    "NoApplicableRoleError",
    "Report",
    "TooLongError",
    "UnknownRoleError",
    "UnsupportedModelError",
    "__version__",
    "catalog",
    "compare",
    "corpus",
    "explore",
    "load",
    "probes",
    "roles",
    "scan",
    "scores",
    "stats",
    "views",
    "zoo",
]
