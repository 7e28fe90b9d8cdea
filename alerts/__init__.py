"""Alert channels. A new channel is one module here plus one line in CHANNEL_TYPES."""

from __future__ import annotations

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
    from monitor.core.registry import resolve

    return resolve(CHANNEL_TYPES, type_name, "channel type")  # type: ignore[no-any-return]
