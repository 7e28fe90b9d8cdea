"""The listenpost error hierarchy: every failure the tool expects carries one of these."""

from __future__ import annotations


class ListenpostError(Exception):
    """Base class of every error listenpost reports to its user."""

    exit_code = 1


class ConfigError(ListenpostError):
    """The settings file or the environment is wrong; the message names the key."""

    exit_code = 2


class MissingCredential(ConfigError):
    """A source or channel needs a secret that is not in the environment."""

    def __init__(self, what: str, variable: str) -> None:
        super().__init__(f"{what}: environment variable {variable} is not set")
        self.what = what
        self.variable = variable


class SourceError(ListenpostError):
    """A collector could not fetch from its source."""


class ChannelError(ListenpostError):
    """An alert channel could not deliver.

    ``permanent`` distinguishes a rejected message (never retry) from a
    transient failure; ``retry_after`` carries the server's Retry-After.
    """

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class ModelError(ListenpostError):
    """A classifier could not be loaded or run."""


class InputError(ListenpostError):
    """A file given on the command line cannot be read."""

    exit_code = 2
