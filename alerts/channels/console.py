"""Console channel: alerts printed readably to the terminal, coloured when it is a TTY, wrapped to its width."""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass
from typing import ClassVar

import click

from alerts.channels.base import Channel, ChannelContext
from alerts.message import AlertMessage, inline, plain, truncate
from monitor.core.config import Channel as ChannelSettings


def _wrap(text: str, columns: int, indent: str = "  ") -> list[str]:
    """Words wrapped to the terminal; a word longer than a line (a URL) is broken, never cut off."""
    return textwrap.wrap(text, columns, initial_indent=indent, subsequent_indent=indent,
                         break_long_words=True, break_on_hyphens=False) or [indent]


@dataclass(frozen=True)
class ConsoleOptions:
    width: int = 280  # characters of the post shown
    show_draft: bool = True


class ConsoleChannel(Channel):
    """options: width (characters of the post shown, default 280), show_draft (default true)."""

    type: ClassVar[str] = "console"
    option_names: ClassVar[frozenset[str]] = frozenset({"width", "show_draft"})

    def __init__(self, name: str, settings: ChannelSettings, context: ChannelContext) -> None:
        super().__init__(name, settings, context)
        self.config = ConsoleOptions(width=self.option("width", int, ConsoleOptions.width),
                                     show_draft=self.option("show_draft", bool, ConsoleOptions.show_draft))

    def render(self, message: AlertMessage) -> str:
        columns = max(40, shutil.get_terminal_size((80, 24)).columns)
        group = f"  (+{message.group_count - 1} similar)" if message.group_count > 1 else ""
        facts = message.facts(message.byline())
        lines = [click.style(f"▲ {inline(message.headline)}", fg="red", bold=True) + group]
        lines += _wrap(" · ".join(facts), columns)
        text = plain(truncate(message.text, self.config.width))
        lines += [click.style(line, fg="white") for line in _wrap(text, columns)]
        if message.url:
            lines += _wrap(inline(message.url), columns)
        if message.reply_draft and self.config.show_draft:
            draft = _wrap("Draft reply: " + plain(truncate(message.reply_draft, 400)), columns)
            lines += [click.style(draft[0][:15], fg="cyan") + draft[0][15:], *draft[1:]]
        return "\n".join(lines)

    def send(self, message: AlertMessage) -> str | None:
        # click.echo strips the colours when stdout is not a terminal.
        click.echo(self.render(message) + "\n")
        return None
