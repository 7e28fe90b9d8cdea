"""Alert channels. A new channel is one module here plus one line in CHANNEL_TYPES."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alerts.base import Channel

# channel type -> "module:Class"; imported only when the channel is used.
CHANNEL_TYPES: dict[str, str] = {
    "console": "alerts.console:ConsoleChannel",
    "jsonl": "alerts.jsonl:JsonlChannel",
    "slack": "alerts.slack:SlackChannel",
    "slack_webhook": "alerts.webhook:WebhookChannel",
    "email": "alerts.email:EmailChannel",
}


def channel_class(type_name: str) -> type[Channel]:
    from monitor.errors import ConfigError

    if type_name not in CHANNEL_TYPES:
        raise ConfigError(f"unknown channel type {type_name!r} (known: {', '.join(sorted(CHANNEL_TYPES))})")
    module, _, attr = CHANNEL_TYPES[type_name].partition(":")
    return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]
