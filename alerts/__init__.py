"""Alerts: channels (one file each), the outbox that feeds them, and the daily digest.

A new channel is one module under alerts/channels/ plus one line in CHANNEL_TYPES.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alerts.channels.base import Channel

# channel type -> "module:Class"; imported only when the channel is used.
CHANNEL_TYPES: dict[str, str] = {
    "console": "alerts.channels.console:ConsoleChannel",
    "jsonl": "alerts.channels.jsonl:JsonlChannel",
    "slack": "alerts.channels.slack.api:SlackChannel",
    "slack_webhook": "alerts.channels.slack.webhook:WebhookChannel",
    "email": "alerts.channels.email:EmailChannel",
}


def channel_class(type_name: str) -> type[Channel]:
    from monitor.core.registry import resolve

    return resolve(CHANNEL_TYPES, type_name, "channel type")  # type: ignore[no-any-return]
