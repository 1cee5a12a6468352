"""Errors a user can cause.  Every message says what to do next."""


class HeadlabError(Exception):
    """Base class of every error headlab raises for bad input or an unusable setup."""


class InputError(HeadlabError, ValueError):
    """The text, pair, array or argument given cannot be used as it is."""


class NoApplicableRoleError(InputError):
    """None of the requested roles applies to any of the texts (e.g. ``block`` on single sentences)."""


class TooLongError(InputError):
    """The tokenised input is longer than the model's maximum number of positions."""


class ModelLoadError(HeadlabError):
    """A model or tokenizer could not be loaded (unknown name, offline, bad files)."""


class UnsupportedModelError(HeadlabError):
    """The model lacks something headlab needs (attention modules, eager attention, a causal mask...)."""


class UnknownRoleError(HeadlabError, KeyError):
    """A role id that is not registered."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class MissingExtraError(HeadlabError, ImportError):
    """An optional dependency (an extra) is needed for this feature."""


class CatalogError(HeadlabError):
    """A catalogue entry, file or lookup is invalid."""
