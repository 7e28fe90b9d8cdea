"""Console channel: alerts printed readably to the terminal, coloured when it is a TTY."""

from __future__ import annotations

from typing import ClassVar

import click

from alerts.base import AlertMessage, Channel, ago, audience, negativity, plain, truncate


class ConsoleChannel(Channel):
    type: ClassVar[str] = "console"

    def render(self, message: AlertMessage) -> str:
        facts = [plain(message.author) or "unknown author", ago(message.created_at)]
        facts += [f for f in (negativity(message.negative), audience(message.reach)) if f]
        stars = f"  {'★' * message.rating}{'☆' * (5 - message.rating)}" if message.rating else ""
        group = f"  (+{message.group_count - 1} similar)" if message.group_count > 1 else ""
        lines = [
            click.style(f"▲ {plain(message.headline)}", fg="red", bold=True) + group,
            "  " + " · ".join(facts) + f"{stars} · {message.history_line()}",
            "  " + click.style(plain(truncate(message.text, int(self.options.get("width", 280)))), fg="white"),
        ]
        if message.url:
            lines.append(f"  {plain(message.url)}")
        if message.reply_draft and self.options.get("show_draft", True):
            lines.append(click.style("  Draft reply: ", fg="cyan") + plain(truncate(message.reply_draft, 400)))
        return "\n".join(lines)

    def send(self, message: AlertMessage) -> str | None:
        # click.echo strips the colours when stdout is not a terminal.
        click.echo(self.render(message) + "\n")
        return None
