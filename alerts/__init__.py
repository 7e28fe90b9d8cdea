"""Alerts: channels (one file each), the outbox that feeds them, and the daily digest.

A new channel is one module under alerts/channels/ plus one line in monitor.core.names.CHANNEL_TYPES.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.core.names import CHANNEL_TYPES

if TYPE_CHECKING:
    from alerts.channels.base import Channel

__all__ = ["CHANNEL_TYPES", "channel_class"]


def channel_class(type_name: str) -> type[Channel]:
    from monitor.core.registry import resolve

    return resolve(CHANNEL_TYPES, type_name, "channel type")  # type: ignore[no-any-return]
