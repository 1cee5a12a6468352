"""headlab: what do the attention heads of a transformer do, and how sure are we?"""

from importlib.metadata import PackageNotFoundError, version as _version

from headlab.errors import (
    CatalogError,
    HeadlabError,
    InputError,
    MissingExtraError,
    ModelLoadError,
    TooLongError,
    UnknownRoleError,
    UnsupportedModelError,
)

from headlab import catalog, corpus, roles, scores, stats
from headlab.report import Report, compare


def __getattr__(name):
    # torch is imported only when a model is needed, so hl.catalog, hl.stats and
    # hl.Report work in environments without it.
    if name in ("load", "HeadModel", "Attention"):
        from headlab import model

        return getattr(model, name)
    if name in ("probes", "widgets", "zoo"):
        import importlib

        return importlib.import_module(f"headlab.{name}")
    raise AttributeError(f"module 'headlab' has no attribute {name!r}")


def explore(m, text, report=None, roles=None, **kwargs):
    """Explorer widget: head grid + attention view + catalogue card, linked both ways."""
    from headlab.widgets import explore as _explore

    return _explore(m, text, report=report, roles=roles, **kwargs)


try:
    __version__ = _version("headlab")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+src"

__all__ = [
    "Report",
    "catalog",
    "compare",
    "corpus",
    "explore",
    "probes",
    "widgets",
    "zoo",
    "roles",
    "scores",
    "stats",
    "Attention",
    "HeadModel",
    "load",
    "CatalogError",
    "HeadlabError",
    "InputError",
    "MissingExtraError",
    "ModelLoadError",
    "TooLongError",
    "UnknownRoleError",
    "UnsupportedModelError",
    "__version__",
]
