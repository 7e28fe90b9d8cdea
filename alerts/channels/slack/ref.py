"""Where a Slack message lives: its channel and timestamp, stored in the outbox as "channel:ts"."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SlackRef:
    channel: str
    ts: str

    @classmethod
    def parse(cls, message_id: str, channel: str = "") -> SlackRef:
        """Read "C0123ABC:1700000000.000100"; a bare timestamp belongs to ``channel``."""
        where, _, ts = message_id.rpartition(":")
        return cls(where or channel, ts)

    def __str__(self) -> str:
        return f"{self.channel}:{self.ts}"
