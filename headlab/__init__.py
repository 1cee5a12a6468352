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

try:
    __version__ = _version("headlab")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+src"

__all__ = [
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
