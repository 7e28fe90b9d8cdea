"""File channel: one JSON line per alert, appended to a file other tools can tail."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import ClassVar

from alerts.channels.base import Channel, ChannelContext
from alerts.message import AlertMessage
from monitor.core.config import Channel as ChannelSettings
from monitor.core.errors import ChannelError, ConfigError


class JsonlChannel(Channel):
    """options: path (the file, required)."""

    type: ClassVar[str] = "jsonl"
    option_names: ClassVar[frozenset[str]] = frozenset({"path"})
    idempotent: ClassVar[bool] = True

    def __init__(self, name: str, settings: ChannelSettings, context: ChannelContext) -> None:
        super().__init__(name, settings, context)
        # Read when the channel is built, so `config check` names a bad path, not the first send.
        path = self.option("path", str, "")
        if not path:
            raise ConfigError(f"alerts.channels.{self.name}.options.path: a jsonl channel needs a file path")
        # Relative to the settings file, as `database` is: a daemon started from another folder
        # writes where `config check` and the docs say it does.
        self.path = context.folder / Path(path).expanduser()

    def send(self, message: AlertMessage) -> str | None:
        record = {
            "alert_id": message.alert_id, "kind": message.kind, "brand": message.brand,
            "source": message.source, "external_id": message.external_id,
            "author": message.author, "text": message.text, "url": message.url,
            "title": message.title, "rating": message.rating,
            "created_at": message.created_at.isoformat(), "label": message.label,
            "negative": message.negative, "author_history": message.author_history,
            "reply_draft": message.reply_draft, "group_count": message.group_count, "reach": message.reach,
            "engagement": message.engagement, "reason": message.reason,
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One write of a whole line with O_APPEND: concurrent writers never interleave lines.
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, line.encode("utf-8", "replace"))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise ChannelError(f"cannot write {self.path}: {exc}") from None
        return f"{self.path.name}#{message.alert_id}"

    def find_sent(self, message: AlertMessage) -> str | None:
        """After a crash, the file itself says whether this alert's line was written."""
        if not self.path.exists():
            return None
        needle = f'"alert_id": {message.alert_id},'
        with open(self.path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("{" + needle):
                    return f"{self.path.name}#{message.alert_id}"
        return None
