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

from headlab.model import Attention, HeadModel, load
from headlab import catalog, corpus, roles, scores, stats
from headlab.report import Report, compare


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
