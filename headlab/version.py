"""headlab's version, from the installed package's metadata (a source tree without it says so)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("headlab")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+src"
