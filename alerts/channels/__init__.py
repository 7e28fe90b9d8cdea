"""Alert channels, one file each, and the one place that builds them from settings."""

from __future__ import annotations

import logging

from alerts import channel_class
from alerts.channels.base import Channel, ChannelContext
from monitor.core.config import Settings
from monitor.core.errors import ListenpostError

log = logging.getLogger(__name__)


def build_channels(settings: Settings, names: list[str] | None = None, *,
                   skip_broken: bool = True, errors: dict[str, ListenpostError] | None = None,
                   ) -> dict[str, Channel]:
    """The enabled channels. A channel with a missing credential or bad option is skipped with
    a message naming it (its alerts stay queued); with ``skip_broken=False`` the error is raised;
    given ``errors``, each skipped channel's error is put there by name instead of logged."""
    out: dict[str, Channel] = {}
    for name, config in settings.alerts.channels.items():
        if names is not None and name not in names:
            continue
        if not config.enabled:
            continue
        try:
            out[name] = channel_class(config.type)(name, config, ChannelContext.of(settings))
        except ListenpostError as exc:
            if not skip_broken:
                raise
            if errors is not None:
                errors[name] = exc
            else:
                log.error("alert channel %s: skipped, its alerts wait in the outbox: %s", name, exc)
    return out
