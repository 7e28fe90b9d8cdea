"""Checks of the settings that need each source's and channel's own knowledge, run before work starts.

Settings validation (monitor.config) knows the names of sources and channel types; which
options each one takes is known only to its class, so `config check`, `run`, `collect` and
`serve` ask them here: a misspelled option fails the command instead of being ignored.
"""

from __future__ import annotations

from alerts import channel_class
from collectors import collector_class
from monitor.config import Settings
from monitor.errors import ConfigError


def check_settings(settings: Settings) -> None:
    """Raise ConfigError naming the file and the first unknown option of a source or channel."""
    try:
        for name, source in settings.sources.items():
            collector_class(name).check_options(source.options)
        for name, channel in settings.alerts.channels.items():
            channel_class(channel.type).check_options(name, channel.options)
    except ConfigError as exc:
        raise ConfigError(f"{settings.path or 'settings'}: {exc}") from None
